/**
 * The grid as it was: cells of any version or as of a moment, the difference
 * between two versions, and case statistics on the grid of any version.
 * cell_history holds every layout a cell had as [version_from, version_to).
 * GeoJSON is built in SQL and returned as text.
 */
import type { Queryable } from '../db/types.ts'
import { AppError } from '../errors.ts'

/** Rows of cell_history valid in version $1. */
const AS_OF = 'h.version_from <= $1 AND (h.version_to IS NULL OR h.version_to > $1)'

const HISTORY_FEATURE = (extra: string): string => `json_build_object('type', 'Feature', 'id', h.code,
  'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(h.geom), 7)::json,
  'properties', json_build_object('code', h.code, 'community_code', h.community_code, 'subdistrict_code', substr(h.code, 1, 9),
    'responsible_unit', h.responsible_unit, 'area_m2', round(h.area_m2::numeric, 1), 'version_from', h.version_from, 'version_to', h.version_to${extra}))`

const CELLS_AT = `SELECT json_build_object('type', 'FeatureCollection', 'version', $1::int,
  'features', coalesce(json_agg(${HISTORY_FEATURE('')} ORDER BY h.code), '[]'::json))::text AS body
FROM cell_history h WHERE ${AS_OF}
  AND ($2::text IS NULL OR h.community_code = $2) AND ($3::text IS NULL OR substr(h.code, 1, 9) = $3)
  AND ($4::float8 IS NULL OR h.geom && ST_MakeEnvelope($4, $5, $6, $7, 4326))`

// Rows of version $1 (a) and $2 (b); a row the same in both is unchanged.
const DIFF = `WITH a AS (SELECT * FROM cell_history h WHERE h.version_from <= $1 AND (h.version_to IS NULL OR h.version_to > $1)),
b AS (SELECT * FROM cell_history h WHERE h.version_from <= $2 AND (h.version_to IS NULL OR h.version_to > $2)),
d AS (
  SELECT a.*, CASE WHEN EXISTS (SELECT 1 FROM b WHERE b.code = a.code) THEN 'reshaped_before' ELSE 'removed' END AS change
  FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.code = a.code AND b.version_from = a.version_from)
  UNION ALL
  SELECT b.*, CASE WHEN EXISTS (SELECT 1 FROM a WHERE a.code = b.code) THEN 'reshaped' ELSE 'added' END
  FROM b WHERE NOT EXISTS (SELECT 1 FROM a WHERE a.code = b.code AND a.version_from = b.version_from)
)
SELECT json_build_object('type', 'FeatureCollection', 'from', $1::int, 'to', $2::int,
  'features', coalesce(json_agg(${HISTORY_FEATURE(", 'change', h.change")} ORDER BY h.code, h.change), '[]'::json))::text AS body
FROM d h`

// Cases counted on the grid of version $1: each case in the cell of that version that covers it
// (smallest code on a shared edge); `reported_here` counts those whose reported cell is that cell.
const STATS = `WITH g AS (SELECT h.code, h.community_code, h.geom FROM cell_history h WHERE ${AS_OF}),
located AS (
  SELECT c.id, c.is_open, c.cell_code AS reported, (SELECT g.code FROM g WHERE ST_Covers(g.geom, c.geom) ORDER BY g.code LIMIT 1) AS code
  FROM cases c WHERE ($3::timestamptz IS NULL OR c.reported_at >= $3) AND ($4::timestamptz IS NULL OR c.reported_at < $4)
)
SELECT substr(l.code, 1, $2::int) AS code, count(*)::int AS cases, count(*) FILTER (WHERE l.is_open)::int AS open,
  count(*) FILTER (WHERE substr(l.reported, 1, $2::int) = substr(l.code, 1, $2::int))::int AS reported_here
FROM located l WHERE l.code IS NOT NULL GROUP BY 1 ORDER BY 1`

export type StatsLevel = 'cell' | 'community' | 'subdistrict'
const LEVEL_LENGTH: Record<StatsLevel, number> = { cell: 15, community: 12, subdistrict: 9 }

export class GridHistoryRepository {
  constructor(private readonly db: Queryable) {}

  /** The grid version in force at a moment (the newest whose effective time is not after it), or null. */
  async versionAt(at: Date): Promise<number | null> {
    return (await this.db.query<{ v: number | null }>('SELECT max(id) AS v FROM grid_versions WHERE effective_at <= $1', [at])).rows[0].v
  }

  async versionExists(v: number): Promise<boolean> {
    return (await this.db.query('SELECT 1 FROM grid_versions WHERE id = $1', [v])).rows.length > 0
  }

  async cellsAt(version: number, f: { community?: string; subdistrict?: string; bbox?: [number, number, number, number] } = {}): Promise<string> {
    const b = f.bbox ?? [null, null, null, null]
    return (await this.db.query<{ body: string }>(CELLS_AT, [version, f.community ?? null, f.subdistrict ?? null, ...b])).rows[0].body
  }

  /** The diff, or 404 when either version does not exist (the route and the CLI). */
  async diffOf(from: number, to: number): Promise<string> {
    for (const v of [from, to]) if (!(await this.versionExists(v))) throw new AppError(404, 'not_found', `grid version ${v} not found`)
    return this.diff(from, to)
  }

  async diff(from: number, to: number): Promise<string> {
    return (await this.db.query<{ body: string }>(DIFF, [from, to])).rows[0].body
  }

  async caseStats(version: number, level: StatsLevel, from?: Date, to?: Date): Promise<{ code: string; cases: number; open: number; reported_here: number }[]> {
    return (await this.db.query<{ code: string; cases: number; open: number; reported_here: number }>(STATS, [version, LEVEL_LENGTH[level], from ?? null, to ?? null])).rows
  }
}
