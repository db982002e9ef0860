/**
 * Writes checked facility rows in one transaction: check what needs the
 * database (organisations that exist, the cell each component falls in, the
 * validity of lines and polygons), then upsert by component ID. By default any
 * problem — found while reading the file or here — rolls everything back and
 * is reported per row; with skipInvalid the good rows are written and the bad
 * ones listed.
 *
 * Written for bulk: 250,000 rows in one pass of parallel arrays through unnest,
 * 5,000 a chunk, the closest thing to COPY that works the same on pg and on
 * PGlite. On the embedded database every per-row index probe and every extra
 * pass over the rows costs seconds, so:
 * - a component's cell is found by the geocoder's in-memory index over the
 *   active cells (geocoder/memory-index.ts: PostGIS's ST_Covers to the bit,
 *   smallest covering code), which gives exactly what `(SELECT code FROM cells
 *   WHERE ST_Covers(geom, pt) ORDER BY code LIMIT 1)` gives — tests check it row
 *   for row on both backends — at a fraction of the cost of 250,000 index probes;
 *   for a line or polygon `pt` is its ST_PointOnSurface, computed by PostGIS;
 * - there is no staging table: rows go straight into `facilities`;
 * - a bulk load drops the GiST and cell indexes and builds them afterwards.
 */
import type { Database, Queryable } from '../db/types.ts'
import { AppError } from '../errors.ts'
import { parseWkbPolygonal } from '../db/wkb.ts'
import { MemoryCellIndex } from '../../geocoder/memory-index.ts'
import { FacilityRepository } from './facility-repository.ts'
import type { FacilityRecord } from '../../geocoder/facility-types.ts'
import { FacilityErrorCode, type FacilityInput, type FacilityProblem, type InputCrs } from '../../geocoder/facility-validate.ts'

/** At most this many problems travel in an answer; problem_count has them all. */
const MAX_LISTED = 1000
const CHUNK = 5000
/** An import at least this large (and at least the table's size) rebuilds the indexes instead of updating them row by row. */
const BULK_ROWS = 20_000

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

// Lines and polygons: validity, and the point that stands for them (ST_PointOnSurface);
// its cell is then found like a point's. OFFSET 0 keeps each value computed once.
const SHAPES = `SELECT r, v AS valid, CASE WHEN NOT v THEN ST_IsValidReason(g) END AS reason,
  CASE WHEN v THEN ST_X(p) END AS lon, CASE WHEN v THEN ST_Y(p) END AS lat
FROM (SELECT r, g, v, CASE WHEN v THEN ST_PointOnSurface(g) END AS p
  FROM (SELECT r, g, ST_IsValid(g) AS v FROM (SELECT r, ST_SetSRID(ST_GeomFromGeoJSON(gj), 4326) AS g
    FROM unnest($1::int[], $2::text[]) AS t(r, gj)) x OFFSET 0) y OFFSET 0) z`

// Columns of plain values travel as comma-separated text split in SQL (a quarter
// cheaper than text[] parameters on the embedded database); an empty field is
// NULL. Free text and GeoJSON, which may hold commas, travel as text[], or as
// NULL when the whole chunk has none (unnest pads it with NULLs).
const INSERT = `INSERT INTO facilities AS f (id, subclass, geom, owner, maintainer, authority, status, installed_on, cell_code, name, note, import_id)
SELECT i, substr(i, 7, 5),
  CASE WHEN gj IS NULL THEN ST_SetSRID(ST_MakePoint(x, y), 4326) ELSE ST_SetSRID(ST_GeomFromGeoJSON(gj), 4326) END,
  o, m, a, st, d, c, n, nt, $1
FROM unnest(string_to_array($2, ','), string_to_array($3, ',', '')::float8[], string_to_array($4, ',', '')::float8[], $5::text[],
  string_to_array($6, ','), string_to_array($7, ',', ''), string_to_array($8, ',', ''), string_to_array($9, ','),
  string_to_array($10, ',', '')::date[], string_to_array($11, ',', ''), $12::text[], $13::text[]) AS t(i, x, y, gj, o, m, a, st, d, c, n, nt)`

// An unchanged row is not written (the WHERE), so a re-import leaves updated_at and import_id alone.
const UPSERT = `WITH up AS (${INSERT}
ON CONFLICT (id) DO UPDATE SET subclass = EXCLUDED.subclass, geom = EXCLUDED.geom, owner = EXCLUDED.owner,
  maintainer = EXCLUDED.maintainer, authority = EXCLUDED.authority, status = EXCLUDED.status,
  installed_on = EXCLUDED.installed_on, cell_code = EXCLUDED.cell_code, name = EXCLUDED.name, note = EXCLUDED.note,
  import_id = EXCLUDED.import_id, updated_at = now()
WHERE NOT ST_OrderingEquals(f.geom, EXCLUDED.geom)
  OR (f.owner, f.maintainer, f.authority, f.status, f.installed_on, f.cell_code, f.name, f.note)
     IS DISTINCT FROM (EXCLUDED.owner, EXCLUDED.maintainer, EXCLUDED.authority, EXCLUDED.status,
       EXCLUDED.installed_on, EXCLUDED.cell_code, EXCLUDED.name, EXCLUDED.note)
RETURNING f.id, (xmax = 0) AS inserted)
SELECT (count(*) FILTER (WHERE inserted))::int AS inserted, count(*)::int AS written,
  -- which ones, when not all of the chunk (unchanged rows are not written)
  CASE WHEN count(*) < $14 THEN string_agg(trim(id), ',') END AS ids FROM up`

// The indexes of 002_facilities.sql, dropped and built again around a bulk load: building
// one from sorted rows costs a fraction of keeping it up to date row by row (on the
// embedded database the primary key alone is a third of the load). The primary key
// goes only when the table is empty, for nothing then can conflict; a foreign key
// that points at it would make that fail loudly, not silently.
const BULK_INDEXES: [string, string][] = [
  ['DROP INDEX facilities_geom_m_idx', 'CREATE INDEX facilities_geom_m_idx ON facilities USING gist (geom_m)'],
  ['DROP INDEX facilities_cell_idx', 'CREATE INDEX facilities_cell_idx ON facilities (cell_code)'],
]
const BULK_PRIMARY_KEY: [string, string] = [
  'ALTER TABLE facilities DROP CONSTRAINT facilities_pkey', 'ALTER TABLE facilities ADD CONSTRAINT facilities_pkey PRIMARY KEY (id)',
]

/** Serialises facility writers (imports, cell reassignment). */
const WRITE_LOCK = 'SELECT pg_advisory_xact_lock(20051108)'
const BUMP_REVISION = 'UPDATE facility_state SET revision = revision + 1'

type Locate = (coords: Float64Array) => (string | null)[]

/**
 * Point → cell over the active grid, no snapping: covered or nothing. Building
 * it reads every cell (about a second on the embedded database), so a server
 * keeps one and rebuilds it only when the grid has a new version.
 */
export class CellLocatorCache {
  private key = ''
  private locate: Locate | null = null

  async get(tx: Queryable): Promise<Locate | null> {
    const v = (await tx.query<{ v: number | null; n: number }>('SELECT (SELECT max(id) FROM grid_versions) AS v, (SELECT count(*)::int FROM cells) AS n')).rows[0]
    const key = `${v.v}/${v.n}`
    if (key === this.key) return this.locate
    const rows = (await tx.query<{ code: string; community_code: string; subdistrict_code: string; wkb: Uint8Array }>(
      'SELECT code, community_code, subdistrict_code, ST_AsBinary(geom) AS wkb FROM cells ORDER BY code')).rows
    if (!rows.length) {
      this.locate = null
    } else {
      const index = MemoryCellIndex.build(rows.map((r) => ({
        code: r.code, communityCode: r.community_code, subdistrictCode: r.subdistrict_code, geometry: parseWkbPolygonal(r.wkb),
      })), { toleranceM: 0 })
      this.locate = (coords) => {
        const res = index.locateMany(coords, { outsideDistance: false })
        return Array.from(res.cells, (c, i) => (c >= 0 && !res.snapped[i] ? index.codes[c] : null))
      }
    }
    this.key = key
    return this.locate
  }
}

/** Finds each row's cell and everything wrong that needs the database to see. */
async function checkAgainstDatabase(tx: Queryable, rows: FacilityInput[], cache: CellLocatorCache): Promise<{ cells: (string | null)[]; points: Float64Array; problems: FacilityProblem[] }> {
  const problems: FacilityProblem[] = []
  const cells = new Array<string | null>(rows.length).fill(null)
  // the point that stands for each component: itself, or the point on surface of a line or polygon
  const at = new Float64Array(rows.length * 2)
  const report = (r: FacilityInput, field: string, error: FacilityErrorCode, reason: string): void => {
    problems.push({ row: r.row, id: r.id, field, error, reason })
  }
  const orgs = new Set((await tx.query<{ uscc: string }>('SELECT uscc FROM organisations')).rows.map((r) => r.uscc))
  for (const r of rows) {
    if (!orgs.has(r.owner)) report(r, 'owner', FacilityErrorCode.unknownOwner, `no organisation with code ${r.owner} (GET /api/organisations lists them)`)
    for (const field of ['maintainer', 'authority'] as const) {
      const v = r[field]
      if (v !== null && !orgs.has(v)) report(r, field, FacilityErrorCode.unknownOrganisation, `no organisation with code ${v}`)
    }
  }
  const invalid = new Set<number>()
  rows.forEach((r, i) => {
    if (r.geometry.type === 'Point') {
      at[2 * i] = r.geometry.coordinates[0]
      at[2 * i + 1] = r.geometry.coordinates[1]
    }
  })
  const shapes = rows.flatMap((r, i) => (r.geometry.type === 'Point' ? [] : [i]))
  for (let s = 0; s < shapes.length; s += CHUNK) {
    const part = shapes.slice(s, s + CHUNK)
    const res = (await tx.query<{ r: number; valid: boolean; reason: string | null; lon: number | null; lat: number | null }>(SHAPES,
      [part, part.map((i) => JSON.stringify(rows[i].geometry))])).rows
    for (const x of res) {
      if (!x.valid) {
        invalid.add(x.r)
        report(rows[x.r], 'geometry', FacilityErrorCode.invalidGeometry, `PostGIS: ${x.reason}`)
      }
      at[2 * x.r] = x.lon ?? NaN
      at[2 * x.r + 1] = x.lat ?? NaN
    }
  }
  const locate = rows.length ? await cache.get(tx) : null
  if (locate) locate(at).forEach((code, i) => { cells[i] = code })
  rows.forEach((r, i) => {
    const cell = cells[i]
    if (cell === null) {
      if (!invalid.has(i)) report(r, 'geometry', FacilityErrorCode.outsideGrid, `lies in no cell of the active grid (${at[2 * i]}, ${at[2 * i + 1]})`)
    } else if (cell.slice(0, 6) !== r.id.slice(0, 6)) {
      report(r, 'id', FacilityErrorCode.districtMismatch, `digits 1–6 say district ${r.id.slice(0, 6)} but it lies in cell ${cell}`)
    }
  })
  return { cells, points: at, problems }
}

/** The parameters of one chunk of rows for INSERT / UPSERT. */
function chunkParams(part: FacilityInput[], cells: (string | null)[]): unknown[] {
  const pt = (r: FacilityInput, k: 0 | 1): string => (r.geometry.type === 'Point' ? String(r.geometry.coordinates[k]) : '')
  const texts = (f: (r: FacilityInput) => string | null): (string | null)[] | null => (part.some((r) => f(r) !== null) ? part.map(f) : null)
  return [
    part.map((r) => r.id).join(','),
    part.map((r) => pt(r, 0)).join(','),
    part.map((r) => pt(r, 1)).join(','),
    texts((r) => (r.geometry.type === 'Point' ? null : JSON.stringify(r.geometry))),
    part.map((r) => r.owner).join(','),
    part.map((r) => r.maintainer ?? '').join(','),
    part.map((r) => r.authority ?? '').join(','),
    part.map((r) => r.status).join(','),
    part.map((r) => r.installedOn ?? '').join(','),
    cells.map((c) => c ?? '').join(','),
    texts((r) => r.name),
    texts((r) => r.note),
  ]
}

/**
 * Writes the rows in chunks. With `overlap` (a server database) the next chunk
 * is prepared while the database writes the one before, so the two processes
 * work at the same time; on the embedded database they share one thread.
 */
async function write(tx: Queryable, rows: FacilityInput[], cells: (string | null)[], importId: number, empty: boolean, overlap: boolean,
  onProgress?: FacilityImportOptions['onProgress']): Promise<{ inserted: number; written: number; changed: Set<string> }> {
  let inserted = 0
  let written = 0
  // the ids written (inserted, or updated because something changed)
  const changed = new Set<string>()
  // in id order, so the primary key grows at its right edge
  const order = rows.map((_, i) => i).sort((a, b) => (rows[a].id < rows[b].id ? -1 : 1))
  const done = (part: FacilityInput[], res: { inserted: number; written: number; ids: string | null } | null, end: number): void => {
    if (res === null) {
      inserted += part.length
      written += part.length
      for (const r of part) changed.add(r.id)
    } else {
      inserted += res.inserted
      written += res.written
      if (res.written === part.length) for (const r of part) changed.add(r.id)
      else if (res.ids) for (const id of res.ids.split(',')) changed.add(id)
    }
    onProgress?.('write', end, order.length)
  }
  let inFlight: Promise<void> | null = null
  try {
    for (let s = 0; s < order.length; s += CHUNK) {
      const idx = order.slice(s, s + CHUNK)
      const part = idx.map((i) => rows[i])
      const params = chunkParams(part, idx.map((i) => cells[i]))
      const end = Math.min(s + CHUNK, order.length)
      const sent: Promise<void> = empty
        ? tx.query(INSERT, [importId, ...params]).then(() => done(part, null, end))
        : tx.query<{ inserted: number; written: number; ids: string | null }>(UPSERT, [importId, ...params, part.length]).then((r) => done(part, r.rows[0], end))
      // handled at once, so a failure while the chunk before is awaited is not an unhandled rejection; awaited below
      sent.catch(() => {})
      if (inFlight) await inFlight
      inFlight = sent
      if (!overlap) { await inFlight; inFlight = null }
    }
    if (inFlight) await inFlight
  } catch (err) {
    // let the chunk still queued settle before the transaction is rolled back
    await inFlight?.catch(() => {})
    throw err
  }
  return { inserted, written, changed }
}

/** What an import wrote, for callers that keep an in-memory index. */
export interface FacilityImportResult {
  summary: FacilityImportSummary
  /** facility_state.revision after this import. */
  revision: number
  /** The rows written (inserted or changed), as the index holds them. */
  written: FacilityRecord[]
}

/**
 * Imports checked rows (with the problems found while reading them) in one
 * transaction. Throws FacilitiesRejected when anything is wrong, unless skipInvalid.
 */
export async function importFacilities(db: Database, rows: FacilityInput[], problems: FacilityProblem[], totalRows: number, opts: FacilityImportOptions): Promise<FacilityImportSummary> {
  return (await importFacilitiesDetailed(db, rows, problems, totalRows, opts)).summary
}

/** importFacilities, also returning what was written (see FacilityImportResult). */
export async function importFacilitiesDetailed(db: Database, rows: FacilityInput[], problems: FacilityProblem[], totalRows: number,
  opts: FacilityImportOptions & { cells?: CellLocatorCache }): Promise<FacilityImportResult> {
  const t0 = performance.now()
  // A file wrong as a whole (not a FeatureCollection, no id column…) is rejected even with skipInvalid.
  if (problems.some((p) => p.row === null || (opts.format === 'csv' && p.row === 1))) throw new FacilitiesRejected(problems)
  return db.transaction(async (tx) => {
    await tx.query(WRITE_LOCK)
    opts.onProgress?.('check', 0, 1)
    const checked = await checkAgainstDatabase(tx, rows, opts.cells ?? new CellLocatorCache())
    opts.onProgress?.('check', 1, 1)
    const all = [...problems, ...checked.problems].sort((a, b) => (a.row ?? 0) - (b.row ?? 0))
    if (all.length && !opts.skipInvalid) throw new FacilitiesRejected(all)
    const bad = new Set(checked.problems.map((p) => p.row))
    const keep: FacilityInput[] = []
    const keepCells: (string | null)[] = []
    const records: FacilityRecord[] = []
    rows.forEach((r, i) => {
      if (bad.has(r.row)) return
      keep.push(r)
      keepCells.push(checked.cells[i])
      records.push({
        id: r.id, subclass: r.subclass, owner: r.owner, maintainer: r.maintainer, authority: r.authority, status: r.status,
        cell: checked.cells[i], lon: checked.points[2 * i], lat: checked.points[2 * i + 1], geometry: r.geometry.type === 'Point' ? null : r.geometry,
      })
    })

    const total = (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM facilities')).rows[0].n
    const importId = (await tx.query<{ id: number }>(
      'INSERT INTO facility_imports (source, format, crs, rows, inserted, updated, skipped) VALUES ($1, $2, $3, $4, 0, 0, 0) RETURNING id',
      [opts.source, opts.format, opts.crs, totalRows])).rows[0].id
    const bulk = keep.length >= BULK_ROWS && keep.length >= total
    const indexes = bulk ? (total === 0 ? [...BULK_INDEXES, BULK_PRIMARY_KEY] : BULK_INDEXES) : []
    for (const [drop] of indexes) await tx.query(drop)
    const { inserted, written, changed } = await write(tx, keep, keepCells, importId, total === 0, db.kind === 'postgres', opts.onProgress)
    for (const [i, [, create]] of indexes.entries()) {
      opts.onProgress?.('index', i, indexes.length)
      await tx.query(create)
    }
    const skipped = new Set(all.map((p) => p.row)).size
    await tx.query('UPDATE facility_imports SET inserted = $2, updated = $3, skipped = $4 WHERE id = $1', [importId, inserted, written - inserted, skipped])
    const revision = Number((await tx.query<{ revision: string | number }>(BUMP_REVISION + ' RETURNING revision')).rows[0].revision)
    return {
      summary: {
        import_id: importId, rows: totalRows, inserted, updated: written - inserted, unchanged: keep.length - written, skipped,
        skipped_rows: all.slice(0, MAX_LISTED), ms: Math.round(performance.now() - t0),
      },
      revision,
      written: records.filter((r) => changed.has(r.id)),
    }
  })
}

/**
 * Puts every component back in the cell that covers it, after the grid changed;
 * the same rule as the import (points by the in-memory cell index, lines and
 * polygons by their point on surface in SQL). Returns how many moved.
 */
export async function reassignCells(db: Database): Promise<number> {
  return db.transaction((tx) => reassignCellsIn(tx))
}

/** reassignCells inside the caller's transaction (the grid import's: the new cells and the components' cells commit together). */
export async function reassignCellsIn(tx: Queryable): Promise<number> {
  {
    await tx.query(WRITE_LOCK)
    const shapes = (await tx.query(`UPDATE facilities f SET cell_code = n.code, updated_at = now()
      FROM (SELECT id, (SELECT c.code FROM cells c WHERE ST_Covers(c.geom, x.p) ORDER BY c.code LIMIT 1) AS code
        FROM (SELECT id, ST_PointOnSurface(geom) AS p FROM facilities WHERE GeometryType(geom) <> 'POINT' OFFSET 0) x) n
      WHERE n.id = f.id AND f.cell_code IS DISTINCT FROM n.code`)).affectedRows
    const points = (await new FacilityRepository(tx).records()).filter((r) => r.geometry === null)
    const locate = await new CellLocatorCache().get(tx)
    const coords = new Float64Array(points.length * 2)
    points.forEach((r, i) => { coords[2 * i] = r.lon; coords[2 * i + 1] = r.lat })
    const cells = locate ? locate(coords) : points.map(() => null)
    const moved = points.map((r, i) => ({ id: r.id, was: r.cell, now: cells[i] })).filter((m) => m.was !== m.now)
    for (let s = 0; s < moved.length; s += CHUNK) {
      const part = moved.slice(s, s + CHUNK)
      await tx.query(`UPDATE facilities f SET cell_code = u.c, updated_at = now()
        FROM unnest(string_to_array($1, ','), string_to_array($2, ',', '')) AS u(i, c) WHERE f.id = u.i`,
      [part.map((m) => m.id).join(','), part.map((m) => m.now ?? '').join(',')])
    }
    if (shapes + moved.length) await tx.query(BUMP_REVISION)
    return shapes + moved.length
  }
}
