/**
 * Shapes of the API answers the client reads. They mirror the route schemas in
 * server/routes/*.ts (the OpenAPI document at /docs/json is the contract).
 */
import type { Feature, FeatureCollection, Polygon, MultiPolygon } from 'geojson'

export interface CellProperties {
  code: string
  community_code: string
  community_name: string
  subdistrict_code: string
  subdistrict_name: string
  district_code: string
  district_name: string
  responsible_unit: string
  responsible_unit_name: string | null
  area_m2: number
  version: number
}

export type CellGeometry = Polygon | MultiPolygon
export type CellFeature = Feature<CellGeometry, CellProperties>
export type CellCollection = FeatureCollection<CellGeometry, CellProperties>

export interface Named { code: string; name: string }

export type Crs = 'wgs84' | 'gcj02' | 'bd09'

export interface ResponsibleUnit { uscc: string; name: string | null; role: string }

export interface GeocodeResult {
  point: { lon: number; lat: number }
  input: { lon: number; lat: number; crs: string }
  cell: string
  community: Named
  subdistrict: Named
  district: Named
  responsible_units: ResponsibleUnit[]
  snapped: boolean
  distance_m: number
  grid_version: number | null
}

export interface SubdistrictRow {
  code: string
  district_code: string
  name: string
  pinyin: string | null
  command_centre: string | null
  command_centre_name: string | null
  area_m2: number | null
  communities: number
  cells: number
}

export interface CommunityRow { code: string; subdistrict_code: string; name: string; area_m2: number | null; cells: number }

/** Every error answer of the API: `{ error: { code, message, details } }`. */
export interface ApiErrorBody { error: { code: string; message: string; details?: unknown } }
