/**
 * The comprehensive query (综合查询) in SQL: what is inside an area — base
 * records by kind with their people, named residents, cases, components and
 * frontage units. An area given by code (cell, community, subdistrict) is a
 * range of cell codes, answered from btree indexes on the cell each row was
 * assigned to; a drawn polygon is answered from the GiST indexes with
 * ST_Intersects. Fragments come from the allow-list below; the area's code or
 * GeoJSON and every other value are parameters ($1, $2 the area).
 */
import type { Queryable } from '../db/types.ts'

export type AreaMode = 'code' | 'polygon'

/** $1 lowest cell code, $2 highest; or $1 the polygon as GeoJSON (WGS84), $2 null. */
const AREA = `a AS MATERIALIZED (SELECT CASE WHEN $2::text IS NULL THEN ST_SetSRID(ST_GeomFromGeoJSON($1), 4326) END AS g,
  CASE WHEN $2::text IS NULL THEN facility_plane(ST_SetSRID(ST_GeomFromGeoJSON($1), 4326)) END AS gm)`

const WHERE: Record<AreaMode, { records: string; residents: string; cases: string; facilities: string; frontage: string }> = {
  code: {
    records: 'b.cell_code BETWEEN $1::bpchar AND $2::bpchar',
    residents: 'r.cell_code BETWEEN $1::bpchar AND $2::bpchar',
    cases: 'c.subdistrict_code = substr($1, 1, 9)::bpchar AND c.cell_code BETWEEN $1::bpchar AND $2::bpchar',
    facilities: 'f.cell_code BETWEEN $1::bpchar AND $2::bpchar',
    frontage: 'u.cell_code BETWEEN $1::bpchar AND $2::bpchar',
  },
  polygon: {
    records: 'ST_Intersects(b.geom, a.g)',
    residents: 'r.building_id IN (SELECT b.id FROM base_records b, a WHERE ST_Intersects(b.geom, a.g))',
    cases: 'ST_Intersects(c.geom, a.g)',
    facilities: 'f.geom_m && a.gm AND ST_Intersects(f.geom, a.g)',
    frontage: 'u.frontage_m && a.gm AND ST_Intersects(u.frontage, a.g)',
  },
}

export interface KindRow { kind: string; use: string | null; n: number; households: number; registered: number; resident: number; floors: number }
export interface ListRow {
  id: string; kind: string; name: string; address: string | null; lon: number; lat: number; use: string | null; floors: number | null
  households: number | null; pop_resident: number | null; capacity: number | null; uscc: string | null; cell_code: string
}
export interface ResidentRow { id: number; name: string; category: string; birth_year: number | null; phone: string | null; building_id: string; building_name: string | null }
export interface CaseCountRow { status: string; n: number; open_n: number; overdue_n: number; in_window: number }
export interface OpenCaseRow { id: number; matter_code: string; matter_name: string | null; status: string; reported_at: Date; due_at: Date | null; lon: number; lat: number; cell_code: string }

export class BaseQueryRepository {
  constructor(private readonly db: Queryable) {}

  private area(mode: AreaMode, a: [string, string | null]): unknown[] {
    return mode === 'code' ? [a[0], a[1]] : [a[0], null]
  }

  async kinds(mode: AreaMode, a: [string, string | null]): Promise<KindRow[]> {
    return (await this.db.query<KindRow>(`WITH ${AREA} SELECT b.kind, b.use, count(*)::int AS n,
        coalesce(sum(b.households), 0)::float8 AS households, coalesce(sum(b.pop_registered), 0)::float8 AS registered,
        coalesce(sum(b.pop_resident), 0)::float8 AS resident, coalesce(sum(b.floors), 0)::float8 AS floors
      FROM base_records b, a WHERE ${WHERE[mode].records} GROUP BY 1, 2`, this.area(mode, a))).rows
  }

  /** Up to `limit` records of each kind, by name. */
  async lists(mode: AreaMode, a: [string, string | null], limit: number): Promise<ListRow[]> {
    return (await this.db.query<ListRow>(`WITH ${AREA} SELECT id, kind, name, address, lon, lat, use, floors, households, pop_resident, capacity, uscc, cell_code FROM (
        SELECT b.id, b.kind, b.name, b.address, ST_X(b.geom) AS lon, ST_Y(b.geom) AS lat, b.use, b.floors, b.households, b.pop_resident, b.capacity,
          b.uscc, b.cell_code, row_number() OVER (PARTITION BY b.kind ORDER BY b.name, b.id) AS rn
        FROM base_records b, a WHERE ${WHERE[mode].records}) x WHERE rn <= $3 ORDER BY kind, rn`, [...this.area(mode, a), limit])).rows
  }

  async residentCounts(mode: AreaMode, a: [string, string | null]): Promise<{ category: string; n: number }[]> {
    return (await this.db.query<{ category: string; n: number }>(`WITH ${AREA} SELECT r.category, count(*)::int AS n FROM base_residents r, a
      WHERE ${WHERE[mode].residents} GROUP BY 1`, this.area(mode, a))).rows
  }

  async residents(mode: AreaMode, a: [string, string | null], limit: number): Promise<ResidentRow[]> {
    return (await this.db.query<ResidentRow>(`WITH ${AREA} SELECT r.id::int AS id, r.name, r.category, r.birth_year, r.phone, r.building_id, bb.name AS building_name
      FROM base_residents r CROSS JOIN a LEFT JOIN base_records bb ON bb.id = r.building_id
      WHERE ${WHERE[mode].residents} ORDER BY r.building_id, r.id LIMIT $3`, [...this.area(mode, a), limit])).rows
  }

  /** Cases by status: every open one, and those reported in [from, to). */
  async caseCounts(mode: AreaMode, a: [string, string | null], from: Date, to: Date, now: Date): Promise<CaseCountRow[]> {
    return (await this.db.query<CaseCountRow>(`WITH ${AREA} SELECT c.status, count(*)::int AS n,
        count(*) FILTER (WHERE c.is_open)::int AS open_n,
        count(*) FILTER (WHERE c.is_open AND c.status <> 'deferred' AND c.due_at < $5)::int AS overdue_n,
        count(*) FILTER (WHERE c.reported_at >= $3 AND c.reported_at < $4)::int AS in_window
      FROM cases c, a WHERE ${WHERE[mode].cases} AND (c.is_open OR (c.reported_at >= $3 AND c.reported_at < $4)) GROUP BY 1`,
    [...this.area(mode, a), from, to, now])).rows
  }

  async openCases(mode: AreaMode, a: [string, string | null], limit: number): Promise<OpenCaseRow[]> {
    return (await this.db.query<OpenCaseRow>(`WITH ${AREA} SELECT c.id::int AS id, c.matter_code, m.name AS matter_name, c.status, c.reported_at, c.due_at,
        ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat, c.cell_code
      FROM cases c CROSS JOIN a LEFT JOIN matter_types m ON m.code = c.matter_code
      WHERE c.is_open AND ${WHERE[mode].cases} ORDER BY c.due_at NULLS LAST, c.id LIMIT $3`, [...this.area(mode, a), limit])).rows
  }

  async facilityCounts(mode: AreaMode, a: [string, string | null]): Promise<{ major: string; status: string; n: number }[]> {
    return (await this.db.query<{ major: string; status: string; n: number }>(`WITH ${AREA} SELECT substr(f.subclass, 1, 2) AS major, f.status, count(*)::int AS n
      FROM facilities f, a WHERE ${WHERE[mode].facilities} GROUP BY 1, 2`, this.area(mode, a))).rows
  }

  async frontage(mode: AreaMode, a: [string, string | null]): Promise<{ n: number; length_m: number }> {
    return (await this.db.query<{ n: number; length_m: number }>(`WITH ${AREA} SELECT count(*)::int AS n, coalesce(sum(u.length_m), 0)::float8 AS length_m
      FROM frontage_units u, a WHERE u.active AND ${WHERE[mode].frontage}`, this.area(mode, a))).rows[0]
  }

  /** A polygon's area (m², on the ellipsoid), whether it is valid, and how many cells it touches. */
  async polygonInfo(geojson: string): Promise<{ valid: boolean; reason: string | null; area_m2: number; cells: number }> {
    return (await this.db.query<{ valid: boolean; reason: string | null; area_m2: number; cells: number }>(`WITH ${AREA}
      SELECT ST_IsValid(a.g) AS valid, CASE WHEN NOT ST_IsValid(a.g) THEN ST_IsValidReason(a.g) END AS reason,
        CASE WHEN ST_IsValid(a.g) THEN ST_Area(a.g::geography) ELSE 0 END AS area_m2,
        CASE WHEN ST_IsValid(a.g) THEN (SELECT count(*)::int FROM cells c WHERE ST_Intersects(c.geom, a.g)) ELSE 0 END AS cells FROM a`, [geojson, null])).rows[0]
  }

  /** A code area's name, area and cell count; null when the code names nothing. */
  async codeInfo(level: 'cell' | 'community' | 'subdistrict', code: string): Promise<{ name: string; area_m2: number; cells: number } | null> {
    const sql = {
      cell: `SELECT cm.name || ' ' || right(c.code, 3) AS name, c.area_m2, 1 AS cells FROM cells c JOIN communities cm ON cm.code = c.community_code WHERE c.code = $1`,
      community: 'SELECT name, coalesce(area_m2, 0) AS area_m2, (SELECT count(*)::int FROM cells WHERE community_code = $1) AS cells FROM communities WHERE code = $1',
      subdistrict: 'SELECT name, coalesce(area_m2, 0) AS area_m2, (SELECT count(*)::int FROM cells WHERE subdistrict_code = $1) AS cells FROM subdistricts WHERE code = $1',
    }[level]
    return (await this.db.query<{ name: string; area_m2: number; cells: number }>(sql, [code])).rows[0] ?? null
  }
}
