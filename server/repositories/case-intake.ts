/**
 * The statements of intake. Every report is written by `intake_case()`
 * (migration 013), one statement that is its own transaction or runs inside
 * the service's: the advisory locks on the idempotency key and on the squares
 * of the map a duplicate could lie in (`duplicateLockKeys`, so two reports of
 * one problem at the same moment do not both open a case), the replay of an
 * earlier submission with the same key, the photo check, then either the link
 * to the open case of the same matter nearby or the new case with its first
 * report, event, routed units, photos and frontage unit (门前三包).
 *
 * The service decides the component and the routing before the call: from the
 * in-memory facility index, or with `findComponent` when the reporter named a
 * component or the index is not built yet.
 */
import type { Queryable } from '../db/types.ts'

export interface FacilityMatch {
  id: string
  subclass: string
  owner: string
  maintainer: string | null
  status: string
  distance_m: number
}

export interface NewCase {
  matterCode: string
  matterStd: string
  channel: string
  description: string
  address: string | null
  lon: number
  lat: number
  cell: string
  community: string
  subdistrict: string
  district: string
  gridVersion: number | null
  facility: FacilityMatch | null
  reporterId: number | null
  at: Date
  acceptDueAt: Date
  limitMinutes: number
  basis: string
  warnAt: Date
  contactName: string | null
  contactPhone: string | null
  contactEmail: string | null
  inputLon: number
  inputLat: number
  inputCrs: string
  photos: readonly string[]
  idempotencyKey: string | null
  requestHash: string | null
  actorRole: string
  actorOrg: string | null
  eventData: Record<string, unknown>
  /** Units routed now, dispatched on 立案. */
  units: readonly { org: string; role: string; ruleId: number | null; ruleName: string | null }[]
}

const COMPONENT = `json_build_object('id', f.id, 'subclass', f.subclass, 'owner', f.owner, 'maintainer', f.maintainer, 'status', f.status,
  'distance_m', ST_Distance(f.geom::geography, ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 4326)::geography))`
const NAMED_COMPONENT = `SELECT ${COMPONENT} AS f FROM facilities f WHERE f.id = $3`
const NEAREST_COMPONENT = `SELECT ${COMPONENT} AS f FROM facilities f
  WHERE f.subclass = $3 AND f.geom_m && ST_Expand(facility_plane(ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 4326)), $4::float8)
  ORDER BY f.geom_m <-> facility_plane(ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 4326)), f.id LIMIT 1`

/**
 * The component a report is about, from the database: the one the reporter named
 * (`facilityId`, at whatever distance; the service judges it), or the nearest of
 * `subclass` within `planeRadius` (facility_plane units) when the in-memory index
 * is not built yet. Null when there is none.
 */
export async function findComponent(tx: Queryable, lon: number, lat: number,
  by: { facilityId: string } | { subclass: string; planeRadius: number }): Promise<FacilityMatch | null> {
  const res = 'facilityId' in by
    ? await tx.query<{ f: FacilityMatch }>(NAMED_COMPONENT, [lon, lat, by.facilityId], { prepare: true })
    : await tx.query<{ f: FacilityMatch }>(NEAREST_COMPONENT, [lon, lat, by.subclass, by.planeRadius], { prepare: true })
  return res.rows[0]?.f ?? null
}

/** What intake_case (migration 013) answered. */
export type IntakeCaseResult =
  | { kind: 'replay'; case_id: number; request_hash: string | null; created_case: boolean; report_id: number }
  | { kind: 'missing_photos'; missing: string[] }
  | { kind: 'linked'; case_id: number; report_id: number; distance_m: number }
  | { kind: 'created'; case_id: number; report_id: number }

const INTAKE_CASE = `SELECT intake_case(${Array.from({ length: 41 }, (_, i) => `$${i + 1}`).join(', ')}) AS r`

/**
 * The whole intake in one statement (migration 013): locks, replay, photos, then a
 * link or a new case. `db` is the database (the statement is its own transaction)
 * or a transaction the caller continues. The component and the routing are decided
 * (`n.facility`, `n.units`); the frontage unit is found by the function. `locks`
 * sorted, empty on the embedded database (one transaction at a time).
 */
export async function intakeCase(db: Queryable, locks: readonly string[], radiusM: number, since: Date, n: NewCase): Promise<IntakeCaseResult> {
  const f = n.facility
  return (await db.query<{ r: IntakeCaseResult }>(INTAKE_CASE, [
    locks, n.reporterId, n.idempotencyKey, n.requestHash, n.photos,
    n.matterCode, n.matterStd, n.lon, n.lat, radiusM, since,
    n.channel, n.description, n.address, n.cell, n.community, n.subdistrict, n.district,
    n.gridVersion, f?.id ?? null, f?.owner ?? null, f?.maintainer ?? null, f ? f.distance_m : null,
    n.at, n.acceptDueAt, n.limitMinutes, n.basis, n.warnAt,
    n.contactName, n.contactPhone, n.contactEmail, n.inputLon, n.inputLat, n.inputCrs,
    n.actorRole, n.actorOrg, JSON.stringify(n.eventData),
    n.units.map((u) => u.org), n.units.map((u) => u.role), n.units.map((u) => u.ruleId), n.units.map((u) => u.ruleName),
  ], { prepare: true })).rows[0].r
}
