/**
 * The statements of intake, run by the service inside one transaction:
 * 1. advisory locks on the idempotency key and on the squares of the map a
 *    duplicate could lie in, so two reports of one problem arriving at the
 *    same moment do not both open a case (`duplicateLockKeys`; on PostgreSQL
 *    they travel with BEGIN, `TransactionOptions.advisoryLocks`);
 * 2. `lookup`: in one statement, an earlier submission with the same key, the
 *    photos that exist, the nearest open case of the same matter within the
 *    radius and window, the nearest component of the matter's subclass and
 *    the frontage unit (门前三包) the point lies on;
 * 3. `insertCase` (case, first report, first event, the routed units and the
 *    frontage link in one statement) or `linkReport` (a duplicate: a report and
 *    an event on the case it belongs to).
 * So a new case costs PostgreSQL four round trips: BEGIN with the locks, the
 * lookup, the insert, COMMIT.
 */
import type { Queryable } from '../db/types.ts'
import { FRONTAGE_MATCH_JSON, type FrontageMatch } from './base-frontage.ts'

export interface LookupParams {
  reporterId: number | null
  idempotencyKey: string | null
  photos: readonly string[]
  matterStd: string
  lon: number
  lat: number
  duplicateRadiusM: number
  /** Reports before this are too old to be duplicates. */
  duplicateSince: Date
  /** Component subclass to match, or null. */
  subclass: string | null
  /** Plane radius (facility_plane units) bounding the component search. */
  facilityPlaneRadius: number
  /** A component the reporter named, looked up instead of the nearest. */
  facilityId: string | null
  /** The full matter code whose frontage unit to find (门前三包), or null not to look. */
  frontageMatter: string | null
}

export interface FacilityMatch {
  id: string
  subclass: string
  owner: string
  maintainer: string | null
  status: string
  distance_m: number
}

export interface LookupResult {
  replay: { case_id: number; request_hash: string | null; created_case: boolean; report_id: number } | null
  photos_found: string[]
  duplicate: { id: number; distance_m: number } | null
  facility: FacilityMatch | null
  frontage: FrontageMatch | null
}

/** A statement's parameters, numbered as they are added: `${$(value)}` in the SQL text. */
function params(): { list: unknown[]; $: (v: unknown) => string } {
  const list: unknown[] = []
  return { list, $: (v) => { list.push(v); return `$${list.length}` } }
}

/**
 * The lookup as one statement, with only the parts this report needs (no key: no
 * replay look-up; no photos: no photo check; no component: no KNN). Parameters are
 * numbered by the builder; no request text is ever part of the SQL.
 */
function lookupSql(p: LookupParams): { sql: string; values: unknown[] } {
  const { list, $ } = params()
  const pt = `ST_SetSRID(ST_MakePoint(${$(p.lon)}::float8, ${$(p.lat)}::float8), 4326)`
  const replay = p.idempotencyKey === null ? 'NULL::json' : `(SELECT json_build_object('case_id', r.case_id, 'request_hash', r.request_hash, 'created_case', r.created_case, 'report_id', r.id)
     FROM case_reports r WHERE r.reporter_id = ${$(p.reporterId)} AND r.idempotency_key = ${$(p.idempotencyKey)})`
  const photos = p.photos.length === 0 ? "'{}'::text[]" : `(SELECT coalesce(array_agg(ph.id::text), '{}') FROM photos ph WHERE ph.id = ANY(${$(p.photos)}::text[]))`
  const radius = $(p.duplicateRadiusM)
  const duplicate = `(SELECT json_build_object('id', c.id, 'distance_m', ST_Distance(c.geom::geography, p.g::geography))
     FROM cases c
     WHERE c.is_open AND c.matter_std = ${$(p.matterStd)} AND c.last_reported_at >= ${$(p.duplicateSince)}
       AND c.geom && ST_Expand(p.g, ${radius}::float8 / (111320 * cos(radians(ST_Y(p.g)))), ${radius}::float8 / 110574)
       AND ST_DWithin(c.geom::geography, p.g::geography, ${radius})
     ORDER BY ST_Distance(c.geom::geography, p.g::geography), c.id LIMIT 1)`
  const hit = `json_build_object('id', f.id, 'subclass', f.subclass, 'owner', f.owner, 'maintainer', f.maintainer, 'status', f.status,
        'distance_m', ST_Distance(f.geom::geography, p.g::geography))`
  const facility = p.facilityId !== null ? `(SELECT ${hit} FROM facilities f WHERE f.id = ${$(p.facilityId)})`
    : p.subclass !== null ? `(SELECT ${hit} FROM facilities f
      WHERE f.subclass = ${$(p.subclass)} AND f.geom_m && ST_Expand(facility_plane(p.g), ${$(p.facilityPlaneRadius)}::float8)
      ORDER BY f.geom_m <-> facility_plane(p.g), f.id LIMIT 1)`
      : 'NULL::json'
  const frontage = p.frontageMatter === null ? 'NULL::json' : `(${FRONTAGE_MATCH_JSON($(p.frontageMatter), 'p.g')})`
  return { sql: `SELECT ${replay} AS replay, ${photos} AS photos_found, ${duplicate} AS duplicate, ${facility} AS facility, ${frontage} AS frontage
    FROM (SELECT ${pt} AS g) p`, values: list }
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
  /** The frontage unit the case goes to as well (门前三包), or null. */
  frontage: FrontageMatch | null
}

const INSERT_CASE = `WITH c AS (
  INSERT INTO cases (matter_code, matter_std, status, channel, description, address, geom, cell_code, community_code, subdistrict_code,
    district_code, grid_version, facility_id, facility_owner, facility_maintainer, facility_distance_m, reporter_id, event_count,
    reported_at, last_reported_at, updated_at, accept_due_at, stage, clock_started_at, clock_used_minutes, clock_limit_minutes,
    clock_basis, warn_at, due_at)
  VALUES ($1, $2, 'reported', $3, $4, $5, ST_SetSRID(ST_MakePoint($6, $7), 4326), $8, $9, $10,
    $11, $12, $13, $14, $15, $16, $17, 1,
    $18, $18, $18, $19, 'accept', $18, 0, $20,
    $21, $22, $19)
  RETURNING id),
r AS (
  INSERT INTO case_reports (case_id, created_case, channel, reporter_id, contact_name, contact_phone, contact_email, description, address,
    geom, input_lon, input_lat, input_crs, photos, idempotency_key, request_hash, reported_at)
  SELECT c.id, true, $3, $17, $23, $24, $25, $4, $5, ST_SetSRID(ST_MakePoint($6, $7), 4326), $26, $27, $28, $29::text[], $30, $31, $18
  FROM c RETURNING id),
e AS (
  INSERT INTO case_events (case_id, seq, at, action, from_status, to_status, actor_id, actor_role, actor_org, note, photos, data)
  SELECT c.id, 1, $18, 'report', NULL, 'reported', $17, $32, $33, NULL, $29::text[], $34::jsonb FROM c),
a AS (
  INSERT INTO case_assignments (case_id, org, role, state, rule_id, rule_name, assigned_at)
  SELECT c.id, u.org, u.role, 'planned', u.rule_id, u.rule_name, $18
  FROM c, unnest($35::text[], $36::text[], $37::int[], $38::text[]) AS u(org, role, rule_id, rule_name)),
ph AS (
  INSERT INTO case_photos (photo_id, case_id) SELECT DISTINCT x, c.id FROM c, unnest($29::text[]) AS x),
fr AS (
  INSERT INTO case_frontage (case_id, unit_id, rule_id, rule_name, distance_m, source, assigned_at)
  SELECT c.id, $39, $40, $41, $42, 'intake', $18 FROM c WHERE $39::text IS NOT NULL)
SELECT c.id::int AS id, r.id::int AS report_id FROM c, r`

export interface LinkedReport {
  caseId: number
  at: Date
  channel: string
  reporterId: number | null
  contactName: string | null
  contactPhone: string | null
  contactEmail: string | null
  description: string
  address: string | null
  lon: number
  lat: number
  inputLon: number
  inputLat: number
  inputCrs: string
  photos: readonly string[]
  distanceM: number
  idempotencyKey: string | null
  requestHash: string | null
  actorRole: string
  actorOrg: string | null
}

const LINK_REPORT = `WITH u AS (
  UPDATE cases SET report_count = report_count + 1, last_reported_at = $2, updated_at = $2, event_count = event_count + 1
  WHERE id = $1 RETURNING id, event_count, status),
r AS (
  INSERT INTO case_reports (case_id, created_case, channel, reporter_id, contact_name, contact_phone, contact_email, description, address,
    geom, input_lon, input_lat, input_crs, photos, distance_m, idempotency_key, request_hash, reported_at)
  SELECT u.id, false, $3, $4, $5, $6, $7, $8, $9, ST_SetSRID(ST_MakePoint($10, $11), 4326), $12, $13, $14, $15::text[], $16, $17, $18, $2
  FROM u RETURNING id),
e AS (
  INSERT INTO case_events (case_id, seq, at, action, from_status, to_status, actor_id, actor_role, actor_org, note, photos, data)
  SELECT u.id, u.event_count, $2, 'link_report', u.status, u.status, $4, $19, $20, $8, $15::text[],
    json_build_object('report_id', r.id, 'channel', $3::text, 'distance_m', $16::float8)::jsonb FROM u, r),
ph AS (
  INSERT INTO case_photos (photo_id, case_id) SELECT DISTINCT x, u.id FROM u, unnest($15::text[]) AS x ON CONFLICT DO NOTHING)
SELECT r.id::int AS report_id FROM r`

export async function lookup(tx: Queryable, p: LookupParams): Promise<LookupResult> {
  const { sql, values } = lookupSql(p)
  const row = (await tx.query<LookupResult>(sql, values, { prepare: true })).rows[0]
  return {
    replay: row.replay,
    photos_found: row.photos_found ?? [],
    duplicate: row.duplicate,
    facility: row.facility,
    frontage: row.frontage,
  }
}

export async function insertCase(tx: Queryable, n: NewCase): Promise<{ id: number; report_id: number }> {
  const f = n.facility
  return (await tx.query<{ id: number; report_id: number }>(INSERT_CASE, [
    n.matterCode, n.matterStd, n.channel, n.description, n.address, n.lon, n.lat, n.cell, n.community, n.subdistrict,
    n.district, n.gridVersion, f?.id ?? null, f?.owner ?? null, f?.maintainer ?? null, f ? f.distance_m : null, n.reporterId,
    n.at, n.acceptDueAt, n.limitMinutes,
    n.basis, n.warnAt, n.contactName, n.contactPhone, n.contactEmail, n.inputLon, n.inputLat, n.inputCrs, n.photos, n.idempotencyKey, n.requestHash,
    n.actorRole, n.actorOrg, JSON.stringify(n.eventData),
    n.units.map((u) => u.org), n.units.map((u) => u.role), n.units.map((u) => u.ruleId), n.units.map((u) => u.ruleName),
    n.frontage?.unit_id ?? null, n.frontage?.rule_id ?? null, n.frontage?.rule_name ?? null, n.frontage?.distance_m ?? null,
  ], { prepare: true })).rows[0]
}

export async function linkReport(tx: Queryable, l: LinkedReport): Promise<{ report_id: number }> {
  return (await tx.query<{ report_id: number }>(LINK_REPORT, [
    l.caseId, l.at, l.channel, l.reporterId, l.contactName, l.contactPhone, l.contactEmail, l.description, l.address,
    l.lon, l.lat, l.inputLon, l.inputLat, l.inputCrs, l.photos, l.distanceM, l.idempotencyKey, l.requestHash, l.actorRole, l.actorOrg,
  ], { prepare: true })).rows[0]
}

/** What intake_case (migration 013) answered. */
export type AtOnceResult =
  | { kind: 'replay'; case_id: number; request_hash: string | null; created_case: boolean; report_id: number }
  | { kind: 'missing_photos'; missing: string[] }
  | { kind: 'linked'; case_id: number; report_id: number; distance_m: number }
  | { kind: 'created'; case_id: number; report_id: number }

const INTAKE_AT_ONCE = `SELECT intake_case(${Array.from({ length: 41 }, (_, i) => `$${i + 1}`).join(', ')}) AS r`

/**
 * The whole intake in one statement and its own transaction: locks, look-up, then a
 * link or a new case (migration 013). For a report whose component and routing are
 * known before the look-up (`n.facility` decided, `n.units` routed); `locks` sorted,
 * empty on the embedded database. `n.frontage` is found by the function, not passed.
 */
export async function intakeAtOnce(db: Queryable, locks: readonly string[], radiusM: number, since: Date, n: Omit<NewCase, 'frontage'>): Promise<AtOnceResult> {
  const f = n.facility
  return (await db.query<{ r: AtOnceResult }>(INTAKE_AT_ONCE, [
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
