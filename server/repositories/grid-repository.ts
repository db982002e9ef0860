/**
 * Reads of the grid. GeoJSON bodies are built in SQL (json_agg) and handed to
 * the client as text, so 8,423 cells never become 8,423 JS objects on the way.
 * Rings are written right-hand-rule (exterior counter-clockwise, RFC 7946) at
 * 7 decimals (≈ 1 cm), the precision the grid is stored at.
 */
import type { Queryable } from '../db/types.ts'

export interface DistrictRow { code: string; name: string; area_m2: number | null; subdistricts: number; communities: number; cells: number }
export interface SubdistrictRow { code: string; district_code: string; name: string; pinyin: string | null; command_centre: string | null; command_centre_name: string | null; area_m2: number | null; communities: number; cells: number }
export interface CommunityRow { code: string; subdistrict_code: string; name: string; area_m2: number | null; cells: number }
export interface GridVersionRow { id: number; created_at: string; effective_at: string; source: string; note: string | null; cell_count: number }

export interface CellFilter {
  bbox?: [number, number, number, number]
  subdistrict?: string
  community?: string
  limit?: number
}

const CELL_PROPERTIES = `json_build_object(
  'code', c.code, 'community_code', c.community_code, 'community_name', m.name,
  'subdistrict_code', c.subdistrict_code, 'subdistrict_name', s.name,
  'district_code', c.district_code, 'district_name', d.name,
  'responsible_unit', c.responsible_unit, 'responsible_unit_name', o.name,
  'area_m2', round(c.area_m2::numeric, 1), 'version', c.version)`

const CELL_FEATURE = `json_build_object('type', 'Feature', 'id', c.code,
  'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(c.geom), 7)::json, 'properties', ${CELL_PROPERTIES})`

const CELL_JOINS = `FROM cells c
  JOIN communities m ON m.code = c.community_code
  JOIN subdistricts s ON s.code = c.subdistrict_code
  JOIN districts d ON d.code = c.district_code
  LEFT JOIN organisations o ON o.uscc = c.responsible_unit`

const CELLS_GEOJSON = `SELECT json_build_object('type', 'FeatureCollection',
  'features', coalesce(json_agg(f.feature ORDER BY f.code), '[]'::json))::text AS body
FROM (SELECT c.code, ${CELL_FEATURE} AS feature ${CELL_JOINS}
  WHERE ($1::float8 IS NULL OR c.geom && ST_MakeEnvelope($1, $2, $3, $4, 4326))
    AND ($5::text IS NULL OR c.subdistrict_code = $5)
    AND ($6::text IS NULL OR c.community_code = $6)
  ORDER BY c.code LIMIT $7) f`

const CELL_ONE = `SELECT ${CELL_FEATURE}::text AS body ${CELL_JOINS} WHERE c.code = $1`

export class GridRepository {
  constructor(private readonly db: Queryable) {}

  async districts(): Promise<DistrictRow[]> {
    return (await this.db.query<DistrictRow>(`SELECT d.code, d.name, d.area_m2,
      (SELECT count(*) FROM subdistricts s WHERE s.district_code = d.code)::int AS subdistricts,
      (SELECT count(*) FROM communities m JOIN subdistricts s ON s.code = m.subdistrict_code WHERE s.district_code = d.code)::int AS communities,
      (SELECT count(*) FROM cells c WHERE c.district_code = d.code)::int AS cells
      FROM districts d ORDER BY d.code`)).rows
  }

  async subdistricts(district?: string): Promise<SubdistrictRow[]> {
    return (await this.db.query<SubdistrictRow>(`SELECT s.code, s.district_code, s.name, s.pinyin, s.command_centre,
      o.name AS command_centre_name, s.area_m2,
      (SELECT count(*) FROM communities m WHERE m.subdistrict_code = s.code)::int AS communities,
      (SELECT count(*) FROM cells c WHERE c.subdistrict_code = s.code)::int AS cells
      FROM subdistricts s LEFT JOIN organisations o ON o.uscc = s.command_centre
      WHERE ($1::text IS NULL OR s.district_code = $1) AND s.geom IS NOT NULL ORDER BY s.code`, [district ?? null])).rows
  }

  async communities(subdistrict?: string): Promise<CommunityRow[]> {
    return (await this.db.query<CommunityRow>(`SELECT m.code, m.subdistrict_code, m.name, m.area_m2,
      (SELECT count(*) FROM cells c WHERE c.community_code = m.code)::int AS cells
      FROM communities m WHERE ($1::text IS NULL OR m.subdistrict_code = $1) ORDER BY m.code`, [subdistrict ?? null])).rows
  }

  /** A FeatureCollection of cells as JSON text. */
  async cellsGeoJSON(f: CellFilter = {}): Promise<string> {
    const b = f.bbox ?? [null, null, null, null]
    const res = await this.db.query<{ body: string }>(CELLS_GEOJSON, [...b, f.subdistrict ?? null, f.community ?? null, f.limit ?? null])
    return res.rows[0].body
  }

  async cellCount(): Promise<number> {
    return (await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM cells')).rows[0].n
  }

  /** One cell as a GeoJSON Feature (text), or null. */
  async cell(code: string): Promise<string | null> {
    const res = await this.db.query<{ body: string }>(CELL_ONE, [code])
    return res.rows[0]?.body ?? null
  }

  /** The whole active grid in the import format (round-trips through importGrid). */
  async exportGeoJSON(): Promise<string> {
    return this.cellsGeoJSON({})
  }

  async versions(): Promise<GridVersionRow[]> {
    const rows = (await this.db.query<Omit<GridVersionRow, 'created_at' | 'effective_at'> & { created_at: Date; effective_at: Date }>(
      'SELECT * FROM grid_versions ORDER BY id DESC')).rows
    return rows.map((r) => ({ ...r, created_at: r.created_at.toISOString(), effective_at: r.effective_at.toISOString() }))
  }

  async activeVersion(): Promise<number | null> {
    return (await this.db.query<{ v: number | null }>('SELECT max(version) AS v FROM cells')).rows[0].v
  }

  /** Cells with their geometry as WKB, bit-identical to what PostGIS tests against. */
  async cellsForIndex(): Promise<{ code: string; community_code: string; subdistrict_code: string; wkb: Uint8Array }[]> {
    return (await this.db.query<{ code: string; community_code: string; subdistrict_code: string; wkb: Uint8Array }>(
      'SELECT code, community_code, subdistrict_code, ST_AsBinary(geom) AS wkb FROM cells ORDER BY code')).rows
  }
}
