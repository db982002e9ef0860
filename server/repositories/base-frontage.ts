/**
 * Frontage units (门前三包): the match that routes a case to the unit whose
 * frontage it lies on, the backfill for cases that came before the units, the
 * bulk load the fixture uses, and reads for the API.
 *
 * Distances are in the metric plane of 002 (facility_plane: lon/lat scaled at
 * 39.95° N, off by at most 0.3 % inside the district), so a tolerance of 8 m
 * is searched with the GiST index on frontage_m.
 */
import type { Queryable } from '../db/types.ts'

export interface FrontageMatch {
  unit_id: string
  name: string
  uscc: string | null
  rule_id: number
  rule_name: string
  distance_m: number
}

/**
 * The nearest active unit within the first matching rule's tolerance of the point,
 * for a matter the rules give to frontage units, as a query giving one JSON object
 * (or none). `matter` and `point` are SQL text: a parameter placeholder and a
 * geometry expression of the caller's. Intake's own match is the same query in
 * intake_case() (migration 013).
 */
export function FRONTAGE_MATCH_JSON(matter: string, point: string): string {
  return `SELECT json_build_object('unit_id', u.id, 'name', u.name, 'uscc', trim(u.uscc), 'rule_id', r.id, 'rule_name', r.name,
      'distance_m', ST_Distance(u.frontage_m, facility_plane(${point}))::float8)
    FROM (SELECT id, name, tolerance_m FROM frontage_rules
      WHERE active AND EXISTS (SELECT 1 FROM unnest(matter_prefixes) x WHERE starts_with(substr(${matter}::text, 7), x))
      ORDER BY priority, id LIMIT 1) r, frontage_units u
    WHERE u.active AND ST_DWithin(u.frontage_m, facility_plane(${point}), r.tolerance_m)
    ORDER BY ST_Distance(u.frontage_m, facility_plane(${point})), u.id LIMIT 1`
}

/** The match on its own. */
export async function matchFrontage(tx: Queryable, matterCode: string, lon: number, lat: number): Promise<FrontageMatch | null> {
  const sql = `SELECT (${FRONTAGE_MATCH_JSON('$1', 'ST_SetSRID(ST_MakePoint($2::float8, $3::float8), 4326)')}) AS m`
  return (await tx.query<{ m: FrontageMatch | null }>(sql, [matterCode, lon, lat])).rows[0].m
}


/**
 * Links cases not linked yet to the unit their point lies on, as intake would
 * have: the first matching rule, the nearest unit within its tolerance. For
 * units loaded after the cases (a fixture, a first import). Returns the links made.
 */
export async function backfillFrontage(tx: Queryable, at: Date): Promise<number> {
  const res = await tx.query<{ n: number }>(`WITH c AS (
      SELECT c.id, c.geom, (SELECT r.id FROM frontage_rules r
          WHERE r.active AND EXISTS (SELECT 1 FROM unnest(r.matter_prefixes) p WHERE starts_with(substr(c.matter_code, 7), p))
          ORDER BY r.priority, r.id LIMIT 1) AS rule_id
      FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_frontage f WHERE f.case_id = c.id)),
    m AS (
      SELECT c.id AS case_id, r.id AS rule_id, r.name AS rule_name, u.id AS unit_id, u.d
      FROM c JOIN frontage_rules r ON r.id = c.rule_id
      CROSS JOIN LATERAL (SELECT u.id, ST_Distance(u.frontage_m, facility_plane(c.geom)) AS d FROM frontage_units u
        WHERE u.active AND ST_DWithin(u.frontage_m, facility_plane(c.geom), r.tolerance_m)
        ORDER BY 2, u.id LIMIT 1) u),
    ins AS (INSERT INTO case_frontage (case_id, unit_id, rule_id, rule_name, distance_m, source, assigned_at)
      SELECT case_id, unit_id, rule_id, rule_name, d, 'backfill', $1 FROM m RETURNING 1)
    SELECT count(*)::int AS n FROM ins`, [at])
  return res.rows[0].n
}

export interface FrontageRow {
  id: string
  uscc: string | null
  name: string
  kind: string
  address: string | null
  contact_person: string | null
  contact_phone: string | null
  record_id: string | null
  /** GeoJSON LineString or Polygon, WGS84. */
  frontage: string
  cell_code: string
  signed_on: string | null
}

const CHUNK = 5000

/** Bulk insert (the fixture; rows already checked and located). Call inside a transaction. */
export async function insertFrontageRows(tx: Queryable, rows: readonly FrontageRow[], onProgress?: (done: number, total: number) => void): Promise<number> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const c = rows.slice(i, i + CHUNK)
    await tx.query(`INSERT INTO frontage_units (id, uscc, name, kind, address, contact_person, contact_phone, record_id, frontage, length_m,
        cell_code, community_code, subdistrict_code, signed_on)
      SELECT id, uscc, name, kind, address, cp, ph, rid, g, ST_Length(g::geography), cell, substr(cell, 1, 12), substr(cell, 1, 9), so::date
      FROM (SELECT id, uscc, name, kind, address, cp, ph, rid, ST_SetSRID(ST_GeomFromGeoJSON(gj), 4326) AS g, cell, so
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
          AS t(id, uscc, name, kind, address, cp, ph, rid, gj, cell, so)) x`,
    [c.map((r) => r.id), c.map((r) => r.uscc), c.map((r) => r.name), c.map((r) => r.kind), c.map((r) => r.address), c.map((r) => r.contact_person),
      c.map((r) => r.contact_phone), c.map((r) => r.record_id), c.map((r) => r.frontage), c.map((r) => r.cell_code), c.map((r) => r.signed_on)])
    onProgress?.(Math.min(i + CHUNK, rows.length), rows.length)
  }
  return rows.length
}

export interface FrontageUnitView {
  id: string
  uscc: string | null
  name: string
  kind: string
  address: string | null
  contact_person: string | null
  contact_phone: string | null
  record_id: string | null
  length_m: number
  cell_code: string
  community_code: string
  subdistrict_code: string
  active: boolean
  signed_on: string | null
  frontage: unknown
}

const UNIT_COLUMNS = `u.id, trim(u.uscc) AS uscc, u.name, u.kind, u.address, u.contact_person, u.contact_phone, u.record_id, round(u.length_m::numeric, 1)::float8 AS length_m,
  trim(u.cell_code) AS cell_code, trim(u.community_code) AS community_code, trim(u.subdistrict_code) AS subdistrict_code, u.active,
  to_char(u.signed_on, 'YYYY-MM-DD') AS signed_on, ST_AsGeoJSON(u.frontage, 7)::json AS frontage`

export async function frontageUnit(db: Queryable, id: string): Promise<FrontageUnitView | null> {
  return (await db.query<FrontageUnitView>(`SELECT ${UNIT_COLUMNS} FROM frontage_units u WHERE u.id = $1`, [id])).rows[0] ?? null
}

/** Units of an area (by cell code range) or a bbox, by id. */
export async function frontageUnits(db: Queryable, q: { lo: string | null; hi: string | null; bbox: [number, number, number, number] | null; limit: number; offset: number }): Promise<{ total: number; items: FrontageUnitView[] }> {
  const rows = (await db.query<FrontageUnitView & { total: number }>(`SELECT ${UNIT_COLUMNS}, count(*) OVER ()::int AS total FROM frontage_units u
    WHERE ($1::text IS NULL OR u.cell_code BETWEEN $1::bpchar AND $2::bpchar)
      AND ($3::float8 IS NULL OR (u.frontage_m && facility_plane(ST_MakeEnvelope($3, $4, $5, $6, 4326)) AND ST_Intersects(u.frontage, ST_MakeEnvelope($3, $4, $5, $6, 4326))))
    ORDER BY u.id LIMIT $7 OFFSET $8`, [q.lo, q.hi, ...(q.bbox ?? [null, null, null, null]), q.limit, q.offset])).rows
  return { total: rows[0]?.total ?? 0, items: rows.map(({ total: _t, ...r }) => r) }
}

export interface FrontageCaseRow { case_id: number; status: string; matter_code: string; reported_at: string; rule_name: string; distance_m: number; source: string }

export async function casesOfUnit(db: Queryable, id: string, limit: number): Promise<FrontageCaseRow[]> {
  return (await db.query<FrontageCaseRow>(`SELECT f.case_id::int AS case_id, c.status, c.matter_code, to_char(c.reported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS reported_at,
      f.rule_name, round(f.distance_m::numeric, 2)::float8 AS distance_m, f.source
    FROM case_frontage f JOIN cases c ON c.id = f.case_id WHERE f.unit_id = $1 ORDER BY c.reported_at DESC, f.case_id DESC LIMIT $2`, [id, limit])).rows
}

export interface CaseFrontageRow { unit_id: string; name: string; uscc: string | null; role: 'assist'; rule_id: number | null; rule_name: string; distance_m: number; source: string; assigned_at: string }

export async function frontageOfCase(db: Queryable, caseId: number): Promise<CaseFrontageRow[]> {
  return (await db.query<CaseFrontageRow>(`SELECT f.unit_id, u.name, trim(u.uscc) AS uscc, 'assist' AS role, f.rule_id, f.rule_name,
      round(f.distance_m::numeric, 2)::float8 AS distance_m, f.source, to_char(f.assigned_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS assigned_at
    FROM case_frontage f JOIN frontage_units u ON u.id = f.unit_id WHERE f.case_id = $1 ORDER BY f.unit_id`, [caseId])).rows
}

export interface FrontageRule { id: number; name: string; duty: string; matter_prefixes: string[]; tolerance_m: number; priority: number; active: boolean }

export async function frontageRules(db: Queryable): Promise<FrontageRule[]> {
  return (await db.query<FrontageRule>('SELECT id, name, duty, matter_prefixes, tolerance_m::float8 AS tolerance_m, priority, active FROM frontage_rules ORDER BY priority, id')).rows
}
