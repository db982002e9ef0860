/**
 * Writes checked facility rows in one transaction: stage them, let PostGIS
 * check what needs the database (geometry validity, owners that exist, the
 * cell each falls in), then upsert by component ID. By default any problem —
 * found in JS or here — rolls everything back and is reported per row; with
 * skipInvalid the good rows are written and the bad ones listed.
 *
 * Staging goes in chunks of 5,000 rows as parallel arrays through unnest, the
 * closest thing to COPY that works the same on pg and on PGlite.
 */
import type { Database, Queryable } from '../db/types.ts'
import { AppError } from '../errors.ts'
import { FacilityErrorCode, type FacilityInput, type FacilityProblem, type InputCrs } from '../../geocoder/facility-validate.ts'

/** At most this many problems travel in an error answer; problem_count has them all. */
const MAX_LISTED = 1000
const CHUNK = 5000
/** An import at least this large (and at least the table's size) rebuilds the GiST index instead of updating it row by row. */
const BULK_ROWS = 50_000

export class FacilitiesRejected extends AppError {
  constructor(readonly problems: FacilityProblem[]) {
    super(422, 'invalid_facilities', `the facilities were not imported: ${problems.length} problem(s); nothing was written`,
      { problem_count: problems.length, problems: problems.slice(0, MAX_LISTED) })
    this.name = 'FacilitiesRejected'
  }
}

export interface FacilityImportOptions {
  /** Who sent it: 'api', 'cli:<file>', 'fixture'. */
  source: string
  format: 'geojson' | 'csv' | 'fixture'
  crs: InputCrs
  /** Write the good rows and list the bad ones, instead of rejecting the file. */
  skipInvalid: boolean
  onProgress?: (stage: string, done: number, total: number) => void
}

export interface FacilityImportSummary {
  import_id: number
  /** Rows in the file. */
  rows: number
  inserted: number
  updated: number
  unchanged: number
  skipped: number
  /** Why each skipped row was skipped (skipInvalid only; at most 1,000 listed). */
  skipped_rows: FacilityProblem[]
  ms: number
}

const STAGE_TABLE = `CREATE TEMP TABLE import_facilities (
  row integer NOT NULL,
  id char(17) NOT NULL,
  subclass char(5) NOT NULL,
  geom geometry NOT NULL,
  -- the point that decides the cell: the component itself, or its point on surface (null when invalid)
  pt geometry,
  valid boolean NOT NULL,
  owner char(18) NOT NULL,
  maintainer char(18),
  authority char(18),
  status text NOT NULL,
  installed_on date,
  name text,
  note text
) ON COMMIT DROP`

const STAGE_INSERT = `INSERT INTO import_facilities (row, id, subclass, geom, pt, valid, owner, maintainer, authority, status, installed_on, name, note)
SELECT r, i, s, g, CASE WHEN p THEN g WHEN v THEN ST_PointOnSurface(g) END, v, o, m, a, st, d, n, nt
FROM (SELECT r, i, s, g, p, p OR ST_IsValid(g) AS v, o, m, a, st, d, n, nt
  FROM (SELECT r, i, s, gj IS NULL AS p,
      CASE WHEN gj IS NULL THEN ST_SetSRID(ST_MakePoint(x, y), 4326) ELSE ST_SetSRID(ST_GeomFromGeoJSON(gj), 4326) END AS g,
      o, m, a, st, d::date AS d, n, nt
    FROM unnest($1::int[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::text[], $7::text[], $8::text[], $9::text[],
      $10::text[], $11::text[], $12::text[], $13::text[]) AS t(r, i, s, x, y, gj, o, m, a, st, d, n, nt)) u) w`

// The cell of each row: the smallest code among the cells that cover its point —
// the geocoder's edge rule, so both always agree. Written as one join driven by
// the cells (8,423 index probes into the staged points, each cell's polygon
// prepared once) rather than a subquery per row (250,000 probes into the cells),
// which on the embedded database is ten times slower.
const CELL_MAP = `CREATE TEMP TABLE import_cells ON COMMIT DROP AS
SELECT s.row, min(c.code) AS cell_code FROM cells c JOIN import_facilities s ON s.pt @ c.geom AND ST_Covers(c.geom, s.pt)
GROUP BY s.row`

const DB_PROBLEMS = `WITH located AS (SELECT i.*, k.cell_code FROM import_facilities i LEFT JOIN import_cells k ON k.row = i.row)
SELECT row, id, 'geometry' AS field, 'invalid_geometry' AS error, 'PostGIS: ' || ST_IsValidReason(geom) AS reason
  FROM import_facilities WHERE NOT valid
UNION ALL SELECT row, id, 'owner', 'unknown_owner', 'no organisation with code ' || owner || ' (GET /api/organisations lists them)'
  FROM import_facilities i WHERE NOT EXISTS (SELECT 1 FROM organisations o WHERE o.uscc = i.owner)
UNION ALL SELECT row, id, 'maintainer', 'unknown_organisation', 'no organisation with code ' || maintainer
  FROM import_facilities i WHERE maintainer IS NOT NULL AND NOT EXISTS (SELECT 1 FROM organisations o WHERE o.uscc = i.maintainer)
UNION ALL SELECT row, id, 'authority', 'unknown_organisation', 'no organisation with code ' || authority
  FROM import_facilities i WHERE authority IS NOT NULL AND NOT EXISTS (SELECT 1 FROM organisations o WHERE o.uscc = i.authority)
UNION ALL SELECT row, id, 'geometry', 'outside_grid', 'lies in no cell of the active grid ('
    || round(ST_X(pt)::numeric, 6) || ', ' || round(ST_Y(pt)::numeric, 6) || ')'
  FROM located WHERE valid AND cell_code IS NULL
UNION ALL SELECT row, id, 'id', 'district_mismatch', 'digits 1–6 say district ' || substr(id, 1, 6) || ' but it lies in cell ' || cell_code
  FROM located WHERE substr(id, 1, 6) <> substr(cell_code, 1, 6)
ORDER BY 1, 3`

const UPSERT = `INSERT INTO facilities AS f (id, subclass, geom, owner, maintainer, authority, status, installed_on, cell_code, name, note, import_id)
SELECT i.id, i.subclass, i.geom, i.owner, i.maintainer, i.authority, i.status, i.installed_on, k.cell_code, i.name, i.note, $1
FROM import_facilities i LEFT JOIN import_cells k ON k.row = i.row ORDER BY i.id
ON CONFLICT (id) DO UPDATE SET subclass = EXCLUDED.subclass, geom = EXCLUDED.geom, owner = EXCLUDED.owner,
  maintainer = EXCLUDED.maintainer, authority = EXCLUDED.authority, status = EXCLUDED.status,
  installed_on = EXCLUDED.installed_on, cell_code = EXCLUDED.cell_code, name = EXCLUDED.name, note = EXCLUDED.note,
  import_id = EXCLUDED.import_id, updated_at = now()
WHERE NOT ST_OrderingEquals(f.geom, EXCLUDED.geom)
  OR (f.subclass, f.owner, f.maintainer, f.authority, f.status, f.installed_on, f.cell_code, f.name, f.note)
     IS DISTINCT FROM (EXCLUDED.subclass, EXCLUDED.owner, EXCLUDED.maintainer, EXCLUDED.authority, EXCLUDED.status,
       EXCLUDED.installed_on, EXCLUDED.cell_code, EXCLUDED.name, EXCLUDED.note)`

// The GiST index of 002_facilities.sql, rebuilt after a bulk load (sorted build: several times faster than row-by-row inserts).
const DROP_GEOM_INDEX = 'DROP INDEX IF EXISTS facilities_geom_m_idx'
const CREATE_GEOM_INDEX = 'CREATE INDEX facilities_geom_m_idx ON facilities USING gist (geom_m)'

/** Serialises facility writers (imports, cell reassignment). */
const WRITE_LOCK = 'SELECT pg_advisory_xact_lock(20051108)'
const BUMP_REVISION = 'UPDATE facility_state SET revision = revision + 1'

async function stage(tx: Queryable, rows: FacilityInput[], onProgress?: FacilityImportOptions['onProgress']): Promise<void> {
  await tx.query(STAGE_TABLE)
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK)
    const cols: unknown[][] = Array.from({ length: 13 }, () => new Array<unknown>(chunk.length))
    chunk.forEach((r, j) => {
      const point = r.geometry.type === 'Point' ? r.geometry.coordinates : null
      cols[0][j] = r.row
      cols[1][j] = r.id
      cols[2][j] = r.subclass
      cols[3][j] = point ? point[0] : null
      cols[4][j] = point ? point[1] : null
      cols[5][j] = point ? null : JSON.stringify(r.geometry)
      cols[6][j] = r.owner
      cols[7][j] = r.maintainer
      cols[8][j] = r.authority
      cols[9][j] = r.status
      cols[10][j] = r.installedOn
      cols[11][j] = r.name
      cols[12][j] = r.note
    })
    await tx.query(STAGE_INSERT, cols)
    onProgress?.('stage', Math.min(i + CHUNK, rows.length), rows.length)
  }
}

/**
 * Imports checked rows (with the problems found while checking them) in one
 * transaction. Throws FacilitiesRejected when anything is wrong, unless skipInvalid.
 */
export async function importFacilities(db: Database, rows: FacilityInput[], problems: FacilityProblem[], totalRows: number, opts: FacilityImportOptions): Promise<FacilityImportSummary> {
  const t0 = performance.now()
  // A file that is wrong as a whole (not a FeatureCollection, no header…) is rejected even with skipInvalid.
  if (problems.some((p) => p.row === null || (p.row === 1 && p.error === FacilityErrorCode.missingProperty && opts.format === 'csv'))) {
    throw new FacilitiesRejected(problems)
  }
  return db.transaction(async (tx) => {
    await tx.query(WRITE_LOCK)
    await stage(tx, rows, opts.onProgress)
    opts.onProgress?.('locate', 0, 1)
    await tx.query('CREATE INDEX ON import_facilities USING gist (pt)')
    await tx.query('ANALYZE import_facilities')
    await tx.query(CELL_MAP)
    await tx.query('CREATE INDEX ON import_cells (row)')
    opts.onProgress?.('check', 0, 1)
    const found = (await tx.query<{ row: number; id: string; field: string; error: FacilityErrorCode; reason: string }>(DB_PROBLEMS)).rows
    opts.onProgress?.('check', 1, 1)
    const all = [...problems, ...found.map((r) => ({ row: r.row, id: r.id, field: r.field, error: r.error, reason: r.reason }))]
      .sort((a, b) => (a.row ?? 0) - (b.row ?? 0))
    if (all.length && !opts.skipInvalid) throw new FacilitiesRejected(all)
    if (found.length) await tx.query('DELETE FROM import_facilities WHERE row = ANY($1::int[])', [[...new Set(found.map((r) => r.row))]])

    const staged = (await tx.query<{ n: number; existing: number; total: number }>(`SELECT
      (SELECT count(*) FROM import_facilities)::int AS n,
      (SELECT count(*) FROM import_facilities i JOIN facilities f ON f.id = i.id)::int AS existing,
      (SELECT count(*) FROM facilities)::int AS total`)).rows[0]
    const importId = (await tx.query<{ id: number }>(
      `INSERT INTO facility_imports (source, format, crs, rows, inserted, updated, skipped) VALUES ($1, $2, $3, $4, 0, 0, 0) RETURNING id`,
      [opts.source, opts.format, opts.crs, totalRows])).rows[0].id
    const bulk = staged.n >= BULK_ROWS && staged.n >= staged.total
    opts.onProgress?.('write', 0, 1)
    if (bulk) await tx.query(DROP_GEOM_INDEX)
    const written = (await tx.query(UPSERT, [importId])).affectedRows
    if (bulk) {
      opts.onProgress?.('index', 0, 1)
      await tx.query(CREATE_GEOM_INDEX)
    }
    opts.onProgress?.('write', 1, 1)
    const inserted = staged.n - staged.existing
    const updated = written - inserted
    const skippedRows = new Set(all.map((p) => p.row)).size
    await tx.query('UPDATE facility_imports SET inserted = $2, updated = $3, skipped = $4 WHERE id = $1', [importId, inserted, updated, skippedRows])
    await tx.query(BUMP_REVISION)
    return {
      import_id: importId, rows: totalRows, inserted, updated, unchanged: staged.n - written, skipped: skippedRows,
      skipped_rows: all.slice(0, MAX_LISTED), ms: Math.round(performance.now() - t0),
    }
  })
}

/**
 * Puts every component back in the cell that covers it, after the grid changed.
 * Returns how many moved.
 */
export async function reassignCells(db: Database): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query(WRITE_LOCK)
    const moved = (await tx.query(`UPDATE facilities f SET cell_code = n.code, updated_at = now()
      FROM (SELECT id, (SELECT c.code FROM cells c
          WHERE ST_Covers(c.geom, CASE WHEN GeometryType(x.geom) = 'POINT' THEN x.geom ELSE ST_PointOnSurface(x.geom) END)
          ORDER BY c.code LIMIT 1) AS code
        FROM facilities x) n
      WHERE n.id = f.id AND f.cell_code IS DISTINCT FROM n.code`)).affectedRows
    if (moved) await tx.query(BUMP_REVISION)
    return moved
  })
}
