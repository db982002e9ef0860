/**
 * Writes a validated grid into the database as a new grid version, in one
 * transaction: stage the cells, let PostGIS check each geometry and every pair
 * for overlaps, then replace the active cells, keep history, retire codes and
 * rebuild the community / subdistrict / district outlines from the cells.
 * Any problem rolls everything back and is reported per feature.
 */
import type { Database, Queryable } from '../db/types.ts'
import { validateGridGeoJSON, type GridCellInput } from '../../grids/import-validate.ts'
import { GridErrorCode, type FeatureProblem } from '../../grids/errors.ts'
import { makeUscc } from '../../grids/uscc.ts'
import { reassignCellsIn } from './facility-import.ts'

export class GridRejected extends Error {
  constructor(readonly problems: FeatureProblem[], readonly problemCount: number) {
    super(`grid rejected: ${problemCount} problem(s)`)
    this.name = 'GridRejected'
  }
}

export interface ImportSummary {
  version: number
  cells: number
  added: number
  changed: number
  unchanged: number
  retired: number
  communities: number
  subdistricts: number
  ms: number
}

export interface ImportProgress {
  (stage: string, done: number, total: number): void
}

const CHUNK = 1000

/** The command centre of a subdistrict: the default responsible unit of its cells. */
export function commandCentreUscc(subdistrictCode: string): string {
  return makeUscc('1', '1', subdistrictCode.slice(0, 6), 10_000_000 + Number(subdistrictCode.slice(6)))
}

const STAGE_TABLE = `CREATE TEMP TABLE import_cells (
  idx integer PRIMARY KEY,
  code char(15) NOT NULL,
  community_code char(12) NOT NULL,
  subdistrict_code char(9) NOT NULL,
  district_code char(6) NOT NULL,
  responsible_unit char(18),
  geom geometry NOT NULL
) ON COMMIT DROP`

const STAGE_INSERT = `INSERT INTO import_cells (idx, code, community_code, subdistrict_code, district_code, responsible_unit, geom)
SELECT i, c, substr(c, 1, 12), substr(c, 1, 9), substr(c, 1, 6), r, ST_SetSRID(ST_GeomFromGeoJSON(g), 4326)
FROM unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS t(i, c, r, g)`

const INVALID_GEOMETRIES = `SELECT idx, code, ST_IsValidReason(geom) AS reason
FROM import_cells WHERE NOT ST_IsValid(geom) ORDER BY idx`

// Two cells overlap when their interiors share an area (DE-9IM interior/interior = 2);
// touching along an edge or at a vertex is how cells are meant to meet.
const OVERLAPS = `SELECT a.idx AS a_idx, a.code AS a_code, b.idx AS b_idx, b.code AS b_code,
  ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS area_m2
FROM import_cells a JOIN import_cells b ON a.idx < b.idx AND a.geom && b.geom
WHERE ST_Relate(a.geom, b.geom, '2********')
ORDER BY a.idx, b.idx LIMIT 1000`

const RETIRED = `SELECT i.idx, i.code, cc.retired_version FROM import_cells i
JOIN cell_codes cc ON cc.code = i.code WHERE cc.retired_version IS NOT NULL ORDER BY i.idx`

const UNKNOWN_UNITS = `SELECT DISTINCT ON (i.responsible_unit) i.idx, i.code, i.responsible_unit FROM import_cells i
WHERE i.responsible_unit IS NOT NULL AND NOT EXISTS (SELECT 1 FROM organisations o WHERE o.uscc = i.responsible_unit)
ORDER BY i.responsible_unit, i.idx`

export async function importGrid(tx: Queryable, cells: GridCellInput[], source: string, onProgress?: ImportProgress): Promise<ImportSummary> {
  const t0 = performance.now()
  // One grid writer at a time: a second import waits here, then sees the first one's result.
  await tx.query('SELECT pg_advisory_xact_lock(20051106)')
  await tx.query(STAGE_TABLE)
  for (let i = 0; i < cells.length; i += CHUNK) {
    const chunk = cells.slice(i, i + CHUNK)
    await tx.query(STAGE_INSERT, [
      chunk.map((c) => c.index),
      chunk.map((c) => c.code),
      chunk.map((c) => c.responsibleUnit),
      chunk.map((c) => JSON.stringify(c.geometry)),
    ])
    onProgress?.('stage', Math.min(i + CHUNK, cells.length), cells.length)
  }
  await tx.query('CREATE INDEX ON import_cells USING gist (geom)')
  await tx.query('ANALYZE import_cells')

  const problems: FeatureProblem[] = []
  onProgress?.('validate geometry', 0, 3)
  for (const r of (await tx.query<{ idx: number; code: string; reason: string }>(INVALID_GEOMETRIES)).rows) {
    problems.push({ index: r.idx, code: r.code, field: 'geometry', error: GridErrorCode.invalidGeometry, reason: r.reason })
  }
  onProgress?.('validate overlaps', 1, 3)
  // Overlap tests on invalid geometry would raise; report validity first.
  if (!problems.length) {
    const overlaps = await tx.query<{ a_idx: number; a_code: string; b_idx: number; b_code: string; area_m2: number }>(OVERLAPS)
    for (const r of overlaps.rows) {
      problems.push({
        index: r.b_idx, code: r.b_code, field: 'geometry', error: GridErrorCode.overlappingCells,
        reason: `overlaps cell ${r.a_code} (feature ${r.a_idx}) by ${r.area_m2.toFixed(2)} m²`,
      })
    }
  }
  onProgress?.('validate codes', 2, 3)
  for (const r of (await tx.query<{ idx: number; code: string; retired_version: number }>(RETIRED)).rows) {
    problems.push({ index: r.idx, code: r.code, field: 'properties.code', error: GridErrorCode.retiredCode, reason: `code ${r.code} was retired in grid version ${r.retired_version} and is never issued again` })
  }
  for (const r of (await tx.query<{ idx: number; code: string; responsible_unit: string }>(UNKNOWN_UNITS)).rows) {
    problems.push({ index: r.idx, code: r.code, field: 'properties.responsible_unit', error: GridErrorCode.invalidResponsibleUnit, reason: `no organisation with code ${r.responsible_unit}` })
  }
  onProgress?.('validate', 3, 3)
  if (problems.length) throw new GridRejected(problems.sort((a, b) => (a.index ?? -1) - (b.index ?? -1)), problems.length)

  const version = (await tx.query<{ id: number }>(
    'INSERT INTO grid_versions (source, cell_count) VALUES ($1, $2) RETURNING id', [source, cells.length])).rows[0].id

  await upsertHierarchy(tx, cells)
  onProgress?.('write', 0, 2)
  const counts = await replaceCells(tx, version)
  onProgress?.('outlines', 1, 2)
  const outlines = await rebuildOutlines(tx)
  onProgress?.('done', 2, 2)
  return { version, cells: cells.length, ...counts, ...outlines, ms: Math.round(performance.now() - t0) }
}

async function upsertHierarchy(tx: Queryable, cells: GridCellInput[]): Promise<void> {
  const districts = new Map<string, string>()
  const subdistricts = new Map<string, { district: string; name: string }>()
  const communities = new Map<string, { subdistrict: string; name: string }>()
  for (const c of cells) {
    districts.set(c.districtCode, c.districtName)
    subdistricts.set(c.subdistrictCode, { district: c.districtCode, name: c.subdistrictName })
    communities.set(c.communityCode, { subdistrict: c.subdistrictCode, name: c.communityName })
  }
  await tx.query(`INSERT INTO districts (code, name) SELECT * FROM unnest($1::text[], $2::text[])
    ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name`, [[...districts.keys()], [...districts.values()]])
  const sd = [...subdistricts.entries()]
  await tx.query(`INSERT INTO organisations (uscc, name, kind, subdistrict_code)
    SELECT u, n || '网格化服务管理中心', 'command_centre', c FROM unnest($1::text[], $2::text[], $3::text[]) AS t(u, n, c)
    ON CONFLICT (uscc) DO NOTHING`, [sd.map(([code]) => commandCentreUscc(code)), sd.map(([, v]) => v.name), sd.map(([code]) => code)])
  await tx.query(`INSERT INTO subdistricts (code, district_code, name, command_centre)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
    ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, district_code = EXCLUDED.district_code`,
  [sd.map(([c]) => c), sd.map(([, v]) => v.district), sd.map(([, v]) => v.name), sd.map(([c]) => commandCentreUscc(c))])
  const cm = [...communities.entries()]
  await tx.query(`INSERT INTO communities (code, subdistrict_code, name) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
    ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, subdistrict_code = EXCLUDED.subdistrict_code`,
  [cm.map(([c]) => c), cm.map(([, v]) => v.subdistrict), cm.map(([, v]) => v.name)])
}

async function replaceCells(tx: Queryable, version: number): Promise<{ added: number; changed: number; unchanged: number; retired: number }> {
  // Resolve the default responsible unit once, so comparisons below see final values.
  await tx.query(`UPDATE import_cells i SET responsible_unit = s.command_centre
    FROM subdistricts s WHERE i.responsible_unit IS NULL AND s.code = i.subdistrict_code`)
  const diff = (await tx.query<{ added: number; changed: number; unchanged: number; retired: number }>(`
    SELECT
      count(*) FILTER (WHERE c.code IS NULL)::int AS added,
      count(*) FILTER (WHERE c.code IS NOT NULL AND NOT (ST_OrderingEquals(c.geom, i.geom) AND c.responsible_unit = i.responsible_unit))::int AS changed,
      count(*) FILTER (WHERE c.code IS NOT NULL AND ST_OrderingEquals(c.geom, i.geom) AND c.responsible_unit = i.responsible_unit)::int AS unchanged,
      (SELECT count(*) FROM cells x WHERE NOT EXISTS (SELECT 1 FROM import_cells y WHERE y.code = x.code))::int AS retired
    FROM import_cells i LEFT JOIN cells c ON c.code = i.code`)).rows[0]

  // Close the history of cells that change shape or owner, or disappear.
  await tx.query(`UPDATE cell_history h SET version_to = $1
    FROM cells c LEFT JOIN import_cells i ON i.code = c.code
    WHERE h.code = c.code AND h.version_to IS NULL
      AND (i.code IS NULL OR NOT (ST_OrderingEquals(c.geom, i.geom) AND c.responsible_unit = i.responsible_unit))`, [version])
  await tx.query(`INSERT INTO cell_history (code, version_from, community_code, geom, area_m2, responsible_unit)
    SELECT i.code, $1, i.community_code, i.geom, ST_Area(i.geom::geography), i.responsible_unit
    FROM import_cells i LEFT JOIN cells c ON c.code = i.code
    WHERE c.code IS NULL OR NOT (ST_OrderingEquals(c.geom, i.geom) AND c.responsible_unit = i.responsible_unit)`, [version])
  await tx.query(`UPDATE cell_codes cc SET retired_version = $1
    WHERE cc.retired_version IS NULL AND NOT EXISTS (SELECT 1 FROM import_cells i WHERE i.code = cc.code)`, [version])
  await tx.query(`INSERT INTO cell_codes (code, first_version)
    SELECT code, $1 FROM import_cells ON CONFLICT (code) DO NOTHING`, [version])

  // A cell's version is the one since which it has had its shape and owner: the
  // open history row's version_from, so unchanged cells keep theirs.
  await tx.query('DELETE FROM cells')
  await tx.query(`INSERT INTO cells (code, community_code, subdistrict_code, district_code, geom, area_m2, responsible_unit, version)
    SELECT i.code, i.community_code, i.subdistrict_code, i.district_code, i.geom, ST_Area(i.geom::geography), i.responsible_unit, h.version_from
    FROM import_cells i JOIN cell_history h ON h.code = i.code AND h.version_to IS NULL ORDER BY i.code`)
  return diff
}

/** Community, subdistrict and district outlines are the unions of their cells, so they never disagree. */
async function rebuildOutlines(tx: Queryable): Promise<{ communities: number; subdistricts: number }> {
  await tx.query('DELETE FROM communities m WHERE NOT EXISTS (SELECT 1 FROM cells c WHERE c.community_code = m.code)')
  await tx.query(`UPDATE subdistricts SET geom = NULL, area_m2 = NULL
    WHERE NOT EXISTS (SELECT 1 FROM communities m WHERE m.subdistrict_code = subdistricts.code)`)
  const communities = await tx.query(`UPDATE communities m SET geom = u.geom, area_m2 = ST_Area(u.geom::geography)
    FROM (SELECT community_code, ST_Multi(ST_CollectionExtract(ST_Union(geom), 3)) AS geom FROM cells GROUP BY community_code) u
    WHERE m.code = u.community_code`)
  const subdistricts = await tx.query(`UPDATE subdistricts s SET geom = u.geom, area_m2 = ST_Area(u.geom::geography)
    FROM (SELECT subdistrict_code, ST_Multi(ST_CollectionExtract(ST_Union(geom), 3)) AS geom FROM communities GROUP BY subdistrict_code) u
    WHERE s.code = u.subdistrict_code`)
  await tx.query(`UPDATE districts d SET geom = u.geom, area_m2 = ST_Area(u.geom::geography)
    FROM (SELECT district_code, ST_Multi(ST_CollectionExtract(ST_Union(geom), 3)) AS geom FROM subdistricts GROUP BY district_code) u
    WHERE d.code = u.district_code`)
  return { communities: communities.affectedRows, subdistricts: subdistricts.affectedRows }
}

/**
 * Validates a parsed grid file and imports it in one transaction.
 * Throws GridRejected (nothing written) when the file or any feature is bad.
 */
export async function validateAndImport(db: Database, body: unknown, source: string, onProgress?: ImportProgress): Promise<ImportSummary> {
  const { cells, problems, problemCount } = validateGridGeoJSON(body)
  if (problemCount) throw new GridRejected(problems, problemCount)
  // Components move to their new cells in the same transaction: a crash between the two would leave the new grid with components in retired cells.
  return db.transaction(async (tx) => {
    const summary = await importGrid(tx, cells, source, onProgress)
    await reassignCellsIn(tx)
    return summary
  })
}
