/**
 * Base records (人地事物组织): the import (all or nothing by default, problems
 * by row, upsert by id) and the bulk insert the fixture uses. Cells are found
 * like the facility import finds them (CellLocatorCache: covered, smallest code).
 */
import type { Database, Queryable } from '../db/types.ts'
import { AppError } from '../errors.ts'
import { CellLocatorCache } from './facility-import.ts'
import { BaseErrorCode, type BaseInput, type BaseProblem } from '../base/validate.ts'

const MAX_LISTED = 1000
const CHUNK = 5000
/** Serialises base record writers (imports, the fixture). */
const WRITE_LOCK = 'SELECT pg_advisory_xact_lock(20051110)'

export class BaseRecordsRejected extends AppError {
  constructor(readonly problems: BaseProblem[]) {
    super(422, 'invalid_base_records', `the base records were not imported: ${problems.length} problem(s); nothing was written`,
      { problem_count: problems.length, problems: problems.slice(0, MAX_LISTED) })
    this.name = 'BaseRecordsRejected'
  }
}

export interface BaseImportOptions {
  source: string
  format: 'geojson' | 'csv'
  crs: string
  skipInvalid: boolean
  onProgress?: (stage: string, done: number, total: number) => void
}

export interface BaseImportSummary {
  import_id: number
  rows: number
  inserted: number
  updated: number
  skipped: number
  skipped_rows: BaseProblem[]
  ms: number
}

/** A row ready to write: checked, with its cell. */
export interface BaseRow extends Omit<BaseInput, 'row'> { cell_code: string; place_id?: string | null }

const INSERT = `INSERT INTO base_records AS b (id, kind, name, address, geom, cell_code, community_code, subdistrict_code, use, floors,
  households, pop_registered, pop_resident, uscc, building_id, capacity, place_id, import_id)
SELECT id, kind, name, address, ST_SetSRID(ST_MakePoint(lon, lat), 4326), cell, substr(cell, 1, 12), substr(cell, 1, 9), use, floors,
  hh, preg, pres, uscc, bid, cap, pid, $1
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[], $8::text[], $9::text[], $10::int[],
  $11::int[], $12::int[], $13::int[], $14::text[], $15::text[], $16::int[], $17::text[])
  AS t(id, kind, name, address, lon, lat, cell, use, floors, hh, preg, pres, uscc, bid, cap, pid)
ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name, address = EXCLUDED.address, geom = EXCLUDED.geom,
  cell_code = EXCLUDED.cell_code, community_code = EXCLUDED.community_code, subdistrict_code = EXCLUDED.subdistrict_code,
  use = EXCLUDED.use, floors = EXCLUDED.floors, households = EXCLUDED.households, pop_registered = EXCLUDED.pop_registered,
  pop_resident = EXCLUDED.pop_resident, uscc = EXCLUDED.uscc, building_id = EXCLUDED.building_id, capacity = EXCLUDED.capacity,
  import_id = EXCLUDED.import_id, updated_at = now()
RETURNING (xmax = 0) AS inserted`

/** Writes rows in chunks (upsert by id); returns how many were new. Call inside a transaction. */
export async function insertBaseRows(tx: Queryable, rows: readonly BaseRow[], importId: number | null, onProgress?: (done: number, total: number) => void): Promise<number> {
  let inserted = 0
  for (let i = 0; i < rows.length; i += CHUNK) {
    const c = rows.slice(i, i + CHUNK)
    const res = await tx.query<{ inserted: boolean }>(INSERT, [importId,
      c.map((r) => r.id), c.map((r) => r.kind), c.map((r) => r.name), c.map((r) => r.address), c.map((r) => r.lon), c.map((r) => r.lat),
      c.map((r) => r.cell_code), c.map((r) => r.use), c.map((r) => r.floors), c.map((r) => r.households), c.map((r) => r.pop_registered),
      c.map((r) => r.pop_resident), c.map((r) => r.uscc), c.map((r) => r.building_id), c.map((r) => r.capacity), c.map((r) => r.place_id ?? null)])
    inserted += res.rows.filter((r) => r.inserted).length
    onProgress?.(Math.min(i + CHUNK, rows.length), rows.length)
  }
  return inserted
}

/**
 * Imports checked rows with the problems found while reading. Any problem (the
 * reader's or the database's) rejects the whole file unless skipInvalid.
 */
export async function importBaseRecords(db: Database, rows: readonly BaseInput[], readProblems: readonly BaseProblem[], rowCount: number, opts: BaseImportOptions): Promise<BaseImportSummary> {
  const t0 = performance.now()
  // A file-level problem (not a FeatureCollection, no rows) leaves nothing to check further.
  if (readProblems.some((p) => p.row === null)) throw new BaseRecordsRejected([...readProblems])
  return db.transaction(async (tx) => {
    await tx.query(WRITE_LOCK)
    const problems: BaseProblem[] = [...readProblems]
    const locate = await new CellLocatorCache().get(tx)
    const coords = new Float64Array(rows.length * 2)
    rows.forEach((r, i) => { coords[2 * i] = r.lon; coords[2 * i + 1] = r.lat })
    const cells = locate ? locate(coords) : rows.map(() => null)
    opts.onProgress?.('locate', rows.length, rows.length)
    // A shop or organisation may name its building: in this file or already stored.
    const inFile = new Set(rows.filter((r) => r.kind === 'building').map((r) => r.id))
    const named = [...new Set(rows.map((r) => r.building_id).filter((b): b is string => b !== null && !inFile.has(b)))]
    const stored = new Set(named.length ? (await tx.query<{ id: string }>(`SELECT id FROM base_records WHERE kind = 'building' AND id = ANY($1::text[])`, [named])).rows.map((r) => r.id) : [])
    const good: BaseRow[] = []
    rows.forEach((r, i) => {
      const before = problems.length
      if (!cells[i]) problems.push({ row: r.row, id: r.id, field: 'geometry', error: BaseErrorCode.outsideGrid, reason: `(${r.lon}, ${r.lat}) is in no cell of the active grid` })
      if (r.building_id && !inFile.has(r.building_id) && !stored.has(r.building_id)) {
        problems.push({ row: r.row, id: r.id, field: 'building_id', error: BaseErrorCode.unknownBuilding, reason: `no building ${r.building_id} in the file or the database` })
      }
      if (problems.length === before) {
        const { row: _row, ...rest } = r
        good.push({ ...rest, cell_code: cells[i] as string })
      }
    })
    problems.sort((a, b) => (a.row ?? 0) - (b.row ?? 0))
    if (problems.length && !opts.skipInvalid) throw new BaseRecordsRejected(problems)
    const importId = (await tx.query<{ id: number }>(`INSERT INTO base_imports (source, format, crs, rows, inserted, updated, skipped)
      VALUES ($1, $2, $3, $4, 0, 0, 0) RETURNING id`, [opts.source, opts.format, opts.crs, rowCount])).rows[0].id
    const inserted = await insertBaseRows(tx, good, importId, (d, t) => opts.onProgress?.('write', d, t))
    const skipped = rowCount - good.length
    await tx.query('UPDATE base_imports SET inserted = $2, updated = $3, skipped = $4 WHERE id = $1', [importId, inserted, good.length - inserted, skipped])
    return { import_id: importId, rows: rowCount, inserted, updated: good.length - inserted, skipped, skipped_rows: problems.slice(0, MAX_LISTED), ms: Math.round(performance.now() - t0) }
  })
}

export async function baseRecordCount(db: Queryable): Promise<number> {
  return (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM base_records')).rows[0].n
}

/**
 * After the grid changed (a redraw or an import): base records, named residents
 * and frontage units in the cells the new version closed get the cell that now
 * covers them (smallest code; a frontage by its middle, or its point on surface). Only the
 * cells closed by the latest version are looked at, through the cell index.
 * Returns how many rows moved.
 */
export async function reassignAfterGridChange(db: Database): Promise<{ records: number; residents: number; frontage: number }> {
  return db.transaction(async (tx) => {
    await tx.query(WRITE_LOCK)
    const changed = `(SELECT h.code FROM cell_history h WHERE h.version_to = (SELECT max(id) FROM grid_versions))`
    const cover = (g: string): string => `(SELECT c.code FROM cells c WHERE ST_Covers(c.geom, ${g}) ORDER BY c.code LIMIT 1)`
    const records = await tx.query(`UPDATE base_records b SET cell_code = n.code, community_code = substr(n.code, 1, 12), subdistrict_code = substr(n.code, 1, 9), updated_at = now()
      FROM (SELECT id, ${cover('x.geom')} AS code FROM base_records x WHERE x.cell_code IN ${changed}) n
      WHERE b.id = n.id AND n.code IS NOT NULL AND n.code <> b.cell_code`)
    const residents = await tx.query(`UPDATE base_residents r SET cell_code = b.cell_code FROM base_records b
      WHERE b.id = r.building_id AND r.cell_code <> b.cell_code AND r.cell_code IN ${changed}`)
    const frontage = await tx.query(`UPDATE frontage_units u SET cell_code = n.code, community_code = substr(n.code, 1, 12), subdistrict_code = substr(n.code, 1, 9)
      FROM (SELECT id, ${cover("CASE WHEN GeometryType(x.frontage) = 'LINESTRING' THEN ST_LineInterpolatePoint(x.frontage, 0.5) ELSE ST_PointOnSurface(x.frontage) END")} AS code
        FROM frontage_units x WHERE x.cell_code IN ${changed}) n
      WHERE u.id = n.id AND n.code IS NOT NULL AND n.code <> u.cell_code`)
    return { records: records.affectedRows, residents: residents.affectedRows, frontage: frontage.affectedRows }
  })
}
