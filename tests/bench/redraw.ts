/**
 * Grid redraws on the 8,423-cell fixture, embedded PGlite and real PostGIS in one run:
 * - one split added to a draft, then its preview (targets: ≤ 100 ms together);
 * - a change set of 20 splits across the district: validate, then commit as a new
 *   version (target: ≤ 1 s together on PostGIS), the way the API does it
 *   (lattice operations in process, PostGIS validity and writes in one transaction);
 * - the plain PostGIS way of the same 20 splits in the same run: ST_Split, ST_IsValid,
 *   overlaps with the neighbours and ST_SymDifference against the old cell, written as a
 *   version — and what it leaves behind once rounded to the grid's 7 decimals.
 * - regenerate (squares and H3) of six fixture communities at 1.5 × their mean cell area: the
 *   operation added to a draft (cells read, tiled, clipped, checked), then the draft validated;
 *   REDRAW_ONLY=regenerate measures only this.
 * Cells are every 400th by code with more than 6,000 m², shifted per round, so runs compare.
 * The server's gridChanged() (geocoder and facility index rebuilds) is not included.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { chaoyangGridText } from '../../fixtures/load.ts'
import { openDatabase } from '../../server/db/index.ts'
import type { Database } from '../../server/db/types.ts'
import { validateAndImport } from '../../server/repositories/grid-import.ts'
import { ChangesetRepository } from '../../server/repositories/changesets.ts'
import { commitChangeset, previewChangeset } from '../../server/repositories/grid-commit.ts'
import { scratchDatabase, stats } from './_pg.ts'
import { fixtureCells, pickCommunities } from '../helpers/fixture-communities.ts'

const gridText = await chaoyangGridText()
const ms = (v: number): string => `${v.toFixed(v < 10 ? 1 : 0)} ms`

interface Figures { split: number[]; validate: number[]; commit: number[]; add20: number[]; plain: number[]; plainSliverM2: number; plainFlagged: number; regen: Record<'square' | 'h3', { add: number[]; validate: number[]; cells: number[] }> }

/** Regenerate: six fixture communities of tests/redraw-regenerate-fixture.test.ts (district outline, irregular, ones that failed once), each shape. */
const REGEN_COMMUNITIES = pickCommunities(await fixtureCells()).slice(0, 6).map((p) => p.community)

async function regenerateRuns(db: Database, repo: ChangesetRepository, f: Figures): Promise<void> {
  for (const shape of ['square', 'h3'] as const) {
    for (const community of REGEN_COMMUNITIES) {
      const mean = (await db.query<{ a: number }>('SELECT avg(area_m2) AS a FROM cells WHERE community_code = $1', [community])).rows[0].a
      const cs = await repo.create({ title: `bench regenerate ${community} ${shape}`, authorId: null })
      let t0 = performance.now()
      const r = await repo.addOperation(cs.id, { type: 'regenerate', community, target_area_m2: Math.round(mean * 1.5), shape })
      f.regen[shape].add.push(performance.now() - t0)
      f.regen[shape].cells.push(r.summary.added.length)
      t0 = performance.now()
      const v = await repo.validate(cs.id)
      if (v.problems.length) throw new Error(`regenerate ${community} ${shape}: ${JSON.stringify(v.problems)}`)
      f.regen[shape].validate.push(performance.now() - t0)
      await repo.discard(cs.id)
    }
  }
}

async function targets(db: Database, round: number, n: number): Promise<{ code: string; line: { type: 'LineString'; coordinates: number[][] } }[]> {
  const rows = (await db.query<{ code: string; x: number; y1: number; y2: number }>(`SELECT code, ST_X(ST_Centroid(geom)) AS x,
      ST_YMin(geom) - 0.0001 AS y1, ST_YMax(geom) + 0.0001 AS y2
    FROM (SELECT code, geom, area_m2, row_number() OVER (ORDER BY code) AS k FROM cells) c
    WHERE k % 400 = $1 AND area_m2 > 6000 ORDER BY code LIMIT $2`, [(round * 37 + 11) % 400, n])).rows
  return rows.map((r) => ({ code: r.code, line: { type: 'LineString', coordinates: [[r.x, r.y2], [r.x, r.y1]] } }))
}

// The same split in plain PostGIS: ST_Split by the line, checks, and a new version.
const PLAIN_STAGE = `CREATE TEMP TABLE plain_parts ON COMMIT DROP AS
SELECT t.code AS parent, (ST_Dump(ST_Split(c.geom, ST_SetSRID(ST_GeomFromGeoJSON(t.line), 4326)))).geom AS geom, c.community_code, c.responsible_unit
FROM unnest($1::text[], $2::text[]) AS t(code, line) JOIN cells c ON c.code = t.code`
const PLAIN_CHECK = `SELECT
  (SELECT count(*) FROM plain_parts WHERE NOT ST_IsValid(geom))::int AS invalid,
  (SELECT count(*) FROM plain_parts p JOIN cells n ON n.code <> p.parent AND n.geom && p.geom
    WHERE ST_Relate(p.geom, n.geom, '2********') AND ST_Area(ST_Intersection(p.geom, n.geom)::geography) > 0.5)::int AS overlaps,
  (SELECT count(*) FROM (SELECT p.parent, ST_Area(ST_SymDifference(c.geom, ST_Union(p.geom))::geography) AS d
    FROM plain_parts p JOIN cells c ON c.code = p.parent GROUP BY p.parent, c.geom) x WHERE d > 0.5)::int AS gaps,
  (SELECT count(*) FROM plain_parts p WHERE ST_Area(p.geom::geography) < 500)::int AS tiny,
  (SELECT string_agg(parent || ':' || n, ',') FROM (SELECT parent, count(*) AS n FROM plain_parts GROUP BY parent HAVING count(*) <> 2) x) AS odd`
// What the parts look like at the precision the grid is stored and exported at (7 decimals).
const PLAIN_ROUNDED = `SELECT coalesce(max(ST_Area(ST_Intersection(ST_SnapToGrid(p.geom, 1e-7), n.geom)::geography)), 0) AS sliver
FROM plain_parts p JOIN cells n ON n.code <> p.parent AND n.geom && p.geom
WHERE ST_Relate(ST_SnapToGrid(p.geom, 1e-7), n.geom, '2********')`

async function plainRun(db: Database, cells: Awaited<ReturnType<typeof targets>>): Promise<{ ms: number; sliver: number; flagged: number }> {
  const t0 = performance.now()
  let sliver = 0
  let flagged = 0
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(20051106)')
    await tx.query(PLAIN_STAGE, [cells.map((c) => c.code), cells.map((c) => JSON.stringify(c.line))])
    const check = (await tx.query<{ invalid: number; overlaps: number; gaps: number; tiny: number; odd: string | null }>(PLAIN_CHECK)).rows[0]
    flagged = check.invalid + check.overlaps + check.gaps
    if (flagged || check.odd) console.error('plain PostGIS checks:', JSON.stringify(check))
    sliver = (await tx.query<{ sliver: number }>(PLAIN_ROUNDED)).rows[0].sliver
    const v = (await tx.query<{ id: number }>(`INSERT INTO grid_versions (source) VALUES ('bench-plain') RETURNING id`)).rows[0].id
    await tx.query('UPDATE cell_history SET version_to = $1 WHERE code = ANY($2::text[]) AND version_to IS NULL', [v, cells.map((c) => c.code)])
    await tx.query('UPDATE cell_codes SET retired_version = $1 WHERE code = ANY($2::text[])', [v, cells.map((c) => c.code)])
    await tx.query('DELETE FROM cells WHERE code = ANY($1::text[])', [cells.map((c) => c.code)])
    // Next free numbers per community, in the order the parts came out.
    await tx.query(`INSERT INTO cells (code, community_code, subdistrict_code, district_code, geom, area_m2, responsible_unit, version)
      SELECT community_code || lpad((n + (SELECT max(substr(code, 13)::int) FROM cell_codes cc WHERE substr(cc.code, 1, 12) = q.community_code))::text, 3, '0'),
        community_code, substr(community_code, 1, 9), substr(community_code, 1, 6), geom, ST_Area(geom::geography), responsible_unit, $1
      FROM (SELECT p.*, row_number() OVER (PARTITION BY community_code ORDER BY parent) AS n FROM plain_parts p) q`, [v])
    await tx.query(`INSERT INTO cell_history (code, version_from, community_code, geom, area_m2, responsible_unit)
      SELECT code, version, community_code, geom, area_m2, responsible_unit FROM cells WHERE version = $1`, [v])
    await tx.query('INSERT INTO cell_codes (code, first_version) SELECT code, version FROM cells WHERE version = $1', [v])
    // Measure, then leave the grid as it was for the next round.
    throw new Rollback()
  }).catch((err: unknown) => { if (!(err instanceof Rollback)) throw err })
  return { ms: performance.now() - t0, sliver, flagged }
}
class Rollback extends Error {}

async function run(db: Database): Promise<Figures> {
  await validateAndImport(db, JSON.parse(gridText), 'bench')
  const repo = new ChangesetRepository(db)
  const f: Figures = { split: [], validate: [], commit: [], add20: [], plain: [], plainSliverM2: 0, plainFlagged: 0,
    regen: { square: { add: [], validate: [], cells: [] }, h3: { add: [], validate: [], cells: [] } } }
  await regenerateRuns(db, repo, f)
  if (process.env.REDRAW_ONLY === 'regenerate') return f
  // One split + preview, 20 times on different cells (drafts are discarded).
  for (const [i, c] of (await targets(db, 9, 20)).entries()) {
    const cs = await repo.create({ title: `bench split ${i}`, authorId: null, minAreaM2: 500, maxAreaM2: 5e6 })
    const t0 = performance.now()
    await repo.addOperation(cs.id, { type: 'split', cell: c.code, line: c.line })
    await previewChangeset(db, cs.id)
    f.split.push(performance.now() - t0)
    await repo.discard(cs.id)
  }
  for (let round = 0; round < 5; round++) {
    const cells = await targets(db, round, 20)
    const plain = await plainRun(db, cells)
    f.plain.push(plain.ms)
    f.plainSliverM2 = Math.max(f.plainSliverM2, plain.sliver)
    f.plainFlagged += plain.flagged
    const cs = await repo.create({ title: `bench 20 splits ${round}`, authorId: null, minAreaM2: 500, maxAreaM2: 5e6 })
    let t0 = performance.now()
    for (const c of cells) await repo.addOperation(cs.id, { type: 'split', cell: c.code, line: c.line })
    f.add20.push(performance.now() - t0)
    t0 = performance.now()
    const v = await repo.validate(cs.id)
    if (v.problems.length) throw new Error(`validation: ${JSON.stringify(v.problems)}`)
    f.validate.push(performance.now() - t0)
    t0 = performance.now()
    await commitChangeset(db, cs.id)
    f.commit.push(performance.now() - t0)
  }
  return f
}

const dir = mkdtempSync(join(tmpdir(), 'wangge-bench-redraw-'))
const embedded = await openDatabase({ dataDir: join(dir, 'pg') })
const e = await run(embedded)
await embedded.close()
rmSync(dir, { recursive: true, force: true })
const scratch = await scratchDatabase('wangge_bench_redraw')
const pgdb = await openDatabase({ databaseUrl: scratch.url })
const p = await run(pgdb).finally(() => pgdb.close())
await scratch.drop()

const med = (xs: number[]): string => (xs.length ? ms(stats(xs).median) : '–')
const sum = (a: number[], b: number[]): number[] => a.map((v, i) => v + b[i])
console.log('| measure (median) | embedded PGlite | PostgreSQL + PostGIS |')
console.log('|---|---|---|')
console.log(`| one split added to a draft + preview (20 cells; p99) | ${med(e.split)} (${ms(stats(e.split).p99)}) | ${med(p.split)} (${ms(stats(p.split).p99)}) |`)
console.log(`| 20 splits added to a draft, one by one | ${med(e.add20)} | ${med(p.add20)} |`)
console.log(`| validate the 20-split change set | ${med(e.validate)} | ${med(p.validate)} |`)
console.log(`| commit it as a new version (conflict check, revalidation, writes, moves) | ${med(e.commit)} | ${med(p.commit)} |`)
console.log(`| **validate + commit** | **${med(sum(e.validate, e.commit))}** | **${med(sum(p.validate, p.commit))}** |`)
console.log(`| plain PostGIS: ST_Split + ST_IsValid + overlap + ST_SymDifference checks + write, same 20 cells | ${med(e.plain)} | ${med(p.plain)} |`)
console.log(`| plain PostGIS: parts its own checks flag (invalid, overlap or gap > 0.5 m²), 100 splits | ${e.plainFlagged} | ${p.plainFlagged} |`)
console.log(`| plain PostGIS: largest overlap with a neighbour once parts are rounded to 7 decimals | ${e.plainSliverM2.toFixed(2)} m² | ${p.plainSliverM2.toFixed(2)} m² |`)
for (const shape of ['square', 'h3'] as const) {
  const n = e.regen[shape].cells
  console.log(`| regenerate a fixture community in ${shape === 'h3' ? 'H3 hexagons' : 'squares'} (${REGEN_COMMUNITIES.length} communities, ${Math.min(...n)}–${Math.max(...n)} new cells; max): added to a draft | ${med(e.regen[shape].add)} (${ms(Math.max(...e.regen[shape].add))}) | ${med(p.regen[shape].add)} (${ms(Math.max(...p.regen[shape].add))}) |`)
  console.log(`| … then the draft validated | ${med(e.regen[shape].validate)} | ${med(p.regen[shape].validate)} |`)
}
console.log(`load average at the end: ${loadavg().map((v) => v.toFixed(2)).join(', ')}`)
