/**
 * The facility registry's contract: components (部件, GB/T 47678.5-2026) in,
 * "what is here and who owns it" out. Two implementations sit behind it: the
 * in-memory index (`facility-index.ts`, fast) and the PostGIS reference
 * (`server/repositories/facility-postgis-index.ts`) it is tested against.
 */
import type { Geometry } from 'geojson'

/** Status of a component, as stored; the Chinese terms are accepted on input. */
export const FACILITY_STATUSES = ['intact', 'damaged', 'missing', 'occupied', 'abandoned'] as const
export type FacilityStatus = (typeof FACILITY_STATUSES)[number]
export const STATUS_NAMES: Record<FacilityStatus, string> = {
  intact: '完好', damaged: '破损', missing: '丢失', occupied: '占用', abandoned: '废弃',
}

/** One component as the database holds it (what the index is built from). */
export interface FacilityRecord {
  /** 17 digits: district (6) + major (2) + sub (3) + sequence (6). */
  id: string
  /** 5 digits: major (2) + sub (3), e.g. 01005 电力井盖. */
  subclass: string
  /** 18-character unified social credit codes. */
  owner: string
  maintainer: string | null
  authority: string | null
  status: FacilityStatus
  /** 15-digit code of the cell that covers it, null when it lies outside the grid. */
  cell: string | null
  /** A point of it: the point itself, or the point on surface of a line or polygon (WGS84). */
  lon: number
  lat: number
  /** Lines and polygons (WGS84); null for a point, which `lon`, `lat` already are. */
  geometry: Geometry | null
}

/** A component found by a lookup. */
export interface FacilityHit {
  id: string
  subclass: string
  owner: string
  maintainer: string | null
  authority: string | null
  status: FacilityStatus
  cell: string | null
  lon: number
  lat: number
  /** Metres from the query point (0 inside a polygon); null for lookups without one. */
  distanceM: number | null
}

/** What to keep: any of `subclasses` (none = all) and, when given, this owner only. */
export interface FacilityFilter {
  subclasses?: readonly string[]
  owner?: string
}

export interface NearestOptions extends FacilityFilter {
  /** How many; ties at the k-th distance are broken by id. */
  k: number
  /** Farther than this (metres) is not returned. */
  maxDistanceM?: number
}

export interface WithinOptions extends FacilityFilter {
  radiusM: number
  /** At most this many, nearest first. */
  limit?: number
}

export interface ListOptions extends FacilityFilter {
  /** At most this many, by id. */
  limit?: number
}

/** [minLon, minLat, maxLon, maxLat], WGS84. */
export type Bbox = [number, number, number, number]

/**
 * Lookups over one state of the registry. Nearest and within rank by distance
 * in the facility plane (see facility-geometry.ts), ties by id; cell and bbox
 * lists are by id. Distances reported are metres on the ellipsoid.
 */
export interface FacilityLookup {
  nearest(lon: number, lat: number, opts: NearestOptions): FacilityHit[]
  within(lon: number, lat: number, opts: WithinOptions): FacilityHit[]
  inCell(code: string, opts?: ListOptions): FacilityHit[]
  inBbox(bbox: Bbox, opts?: ListOptions): FacilityHit[]
  /** One component by id, or null. */
  get(id: string): FacilityHit | null
  readonly size: number
}

/** The same contract answered by the database. */
export interface AsyncFacilityLookup {
  nearest(lon: number, lat: number, opts: NearestOptions): Promise<FacilityHit[]>
  within(lon: number, lat: number, opts: WithinOptions): Promise<FacilityHit[]>
  inCell(code: string, opts?: ListOptions): Promise<FacilityHit[]>
  inBbox(bbox: Bbox, opts?: ListOptions): Promise<FacilityHit[]>
  get(id: string): Promise<FacilityHit | null>
}

/** An organisation as lookups report it. */
export interface OrganisationInfo {
  uscc: string
  name: string
  kind: string
  contactPerson: string | null
  contactPhone: string | null
  dutyPhone: string | null
}

/** An organisation as imported (fixtures, future organisation imports). */
export interface OrganisationInput {
  /** 18-character unified social credit code. */
  uscc: string
  name: string
  short_name: string | null
  /** command_centre, subdistrict_office, utility, telecom, department, police, public_service, company. */
  kind: string
  subdistrict_code: string | null
  contact_person: string | null
  contact_phone: string | null
  /** 24-hour service line. */
  duty_phone: string | null
  address: string | null
}

/** Wraps a synchronous lookup in the asynchronous contract. */
export function asAsync(l: FacilityLookup): AsyncFacilityLookup {
  return {
    nearest: async (lon, lat, o) => l.nearest(lon, lat, o),
    within: async (lon, lat, o) => l.within(lon, lat, o),
    inCell: async (code, o) => l.inCell(code, o),
    inBbox: async (b, o) => l.inBbox(b, o),
    get: async (id) => l.get(id),
  }
}
