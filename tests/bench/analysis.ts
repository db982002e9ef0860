/**
 * Analysis on a year of 500,000 synthetic cases over the 8,423-cell fixture
 * grid, on the embedded database and a real PostGIS, with the plain PostGIS way
 * of getting the same numbers in the same run:
 *
 * - scores of all cells and all subdistricts (this window and the previous one):
 *   our grouped aggregation on the stored codes vs the same aggregation keyed by
 *   a point-in-polygon join (ST_Covers) of cases to cells;
 * - heatmaps: the in-memory columns (case-store.ts) at H3 res 6–10 and per cell
 *   vs SQL: GROUP BY cell_code, and a hexagon grid (ST_HexagonGrid, indexed)
 *   joined to the points at the sizes of H3 res 7 and 9;
 * - 5,000,000 cases: the in-memory columns filled directly (no database) — and
 *   with BENCH_5M=1 the SQL GROUP BY on 5,000,000 rows in PostGIS too;
 * - hot spots (Gi*) and service coverage through the HTTP routes.
 *
 * Cases are bulk-inserted with generate_series (seeded: setseed per chunk), not
 * played through the loop. Run: npm run bench -- analysis
 * (BENCH_CASES=… changes the count; BENCH_EMBEDDED=0 skips the embedded database).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, loadavg } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../../server/db/index.ts'
import type { Database } from '../../server/db/types.ts'
import { buildApp } from '../../server/app.ts'
import { loadConfig } from '../../server/config.ts'
import { ensureFixture, ensureServiceOutlets } from '../../fixtures/load.ts'
import { ensureCaseReference } from '../../fixtures/case-reference.ts'
import { demoToken, ensureDemoUsers } from '../../fixtures/users.ts'
import { createRandom } from '../../grids/random.ts'
import { ScoreRepository, countsSql } from '../../server/analysis/score-repository.ts'
import { scoreLevel } from '../../server/analysis/scores.ts'
import { CaseStore } from '../../server/analysis/case-store.ts'
import { SqlCaseSource, type CaseSource } from '../../server/analysis/case-source.ts'
import { PG_URL, scratchDatabase, stats, ms, time } from './_pg.ts'

const CASES = Number(process.env.BENCH_CASES ?? 500_000)
const BIG = 5_000_000
const END = new Date('2026-11-01T00:00:00+08:00')
const FROM = new Date(END.getTime() - 365 * 86_400_000)
const CHUNK = 100_000
const KINDS = 'community_service,health,elderly_care,grocery,kindergarten'

const rows: string[] = []
const row = (what: string, backend: string, result: string, note = ''): void => {
  rows.push(`| ${what} | ${backend} | ${result} | ${note} |`)
  console.log(`  ${backend}: ${what}: ${result} ${note}`)
}

/** Median of `n` runs after one warm-up. */
async function median(n: number, fn: () => Promise<unknown> | unknown): Promise<{ median: number; p99: number }> {
  await fn()
  const xs: number[] = []
  for (let i = 0; i < n; i++) xs.push((await time(fn))[0])
  return stats(xs)
}

/** Synthetic cases: skewed to some cells (a hot west), 3 % voided, the last days partly open, on-time flags by chance. */
const INSERT = `INSERT INTO cases (matter_code, matter_std, status, channel, description, geom, cell_code, community_code, subdistrict_code, district_code,
  lead_unit, rework_count, return_count, reported_at, last_reported_at, updated_at, accepted_at, accept_on_time, voided_at,
  dispatch_due_at, dispatched_at, dispatch_on_time, handle_due_at, handled_at, handle_on_time, verify_due_at, verified_at, verify_on_time,
  closed_at, close_on_time, due_at, stage)
SELECT m.code, left(m.code, 11), x.status, CASE WHEN x.u1 < 0.7 THEN 'supervisor' ELSE 'hotline' END, 'bench',
  ST_SetSRID(ST_MakePoint(c.lon + (x.u2 - 0.5) * 0.0012, c.lat + (x.u3 - 0.5) * 0.0009), 4326),
  c.code, c.community_code, c.subdistrict_code, c.district_code,
  CASE WHEN x.status <> 'voided' THEN u.uscc END, (x.status = 'closed' AND x.u4 < 0.05)::int, (x.status <> 'voided' AND x.u4 > 0.98)::int,
  x.t, x.t, x.t,
  CASE WHEN x.status <> 'voided' THEN x.t + interval '1 hour' END, x.u5 > 0.04, CASE WHEN x.status = 'voided' THEN x.t + interval '1 hour' END,
  CASE WHEN x.status <> 'voided' THEN x.t + interval '3 hours' END, CASE WHEN x.status <> 'voided' THEN x.t + interval '2 hours' END,
  CASE WHEN x.status <> 'voided' THEN x.u6 > 0.1 END,
  CASE WHEN x.status <> 'voided' THEN x.t + interval '26 hours' END, CASE WHEN x.status = 'closed' THEN x.t + x.h * interval '1 hour' END,
  CASE WHEN x.status = 'closed' THEN x.h < 26 END,
  CASE WHEN x.status = 'closed' THEN x.t + (x.h + 6) * interval '1 hour' END, CASE WHEN x.status = 'closed' THEN x.t + (x.h + 3) * interval '1 hour' END,
  CASE WHEN x.status = 'closed' THEN x.u7 > 0.05 END,
  CASE WHEN x.status = 'closed' THEN x.t + (x.h + 4) * interval '1 hour' END, CASE WHEN x.status = 'closed' THEN true END,
  CASE WHEN x.status = 'in_progress' THEN x.t + interval '26 hours' END, CASE WHEN x.status = 'in_progress' THEN 'handle' END
FROM (
  SELECT r.*, CASE WHEN r.u8 < 0.03 THEN 'voided' WHEN r.t > $2::timestamptz - interval '3 days' AND r.u8 < 0.6 THEN 'in_progress' ELSE 'closed' END AS status,
    2 + r.u9 * 40 AS h
  FROM (SELECT g, random() AS u1, random() AS u2, random() AS u3, random() AS u4, random() AS u5, random() AS u6, random() AS u7, random() AS u8, random() AS u9,
      random() AS cu, random() AS mu, random() AS uu, $2::timestamptz - random() * interval '365 days' AS t
    FROM generate_series(1, $1::int) g) r
) x
JOIN bench_cells c ON c.i = floor(x.cu * x.cu * $3)::int
JOIN bench_matters m ON m.i = floor(x.mu * $4)::int
JOIN bench_units u ON u.i = floor(x.uu * $5)::int`

async function insertCases(db: Database, n: number, offset: number): Promise<void> {
  const sizes = (await db.query<{ c: number; m: number; u: number }>(
    'SELECT (SELECT count(*) FROM bench_cells)::int AS c, (SELECT count(*) FROM bench_matters)::int AS m, (SELECT count(*) FROM bench_units)::int AS u')).rows[0]
  for (let done = 0; done < n; done += CHUNK) {
    await db.transaction(async (tx) => {
      await tx.query('SELECT setseed($1)', [((offset + done) / CHUNK % 997) / 1000])
      await tx.query(INSERT, [Math.min(CHUNK, n - done), END, sizes.c, sizes.m, sizes.u])
    })
  }
}

async function prepare(db: Database, kind: string): Promise<void> {
  const [t] = await time(async () => {
    await ensureFixture(db)
    await ensureCaseReference(db)
    await ensureDemoUsers(db)
    await ensureServiceOutlets(db)
    await db.exec(`CREATE TABLE bench_cells AS SELECT (row_number() OVER (ORDER BY code) - 1)::int AS i, code, community_code, subdistrict_code, district_code, ST_X(p) AS lon, ST_Y(p) AS lat
        FROM (SELECT *, ST_PointOnSurface(geom) AS p FROM cells) x;
      CREATE INDEX ON bench_cells (i);
      CREATE TABLE bench_matters AS SELECT (row_number() OVER (ORDER BY code) - 1)::int AS i, code FROM matter_types WHERE level = 2;
      CREATE TABLE bench_units AS SELECT (row_number() OVER (ORDER BY uscc) - 1)::int AS i, uscc FROM organisations WHERE kind <> 'subdistrict_office'`)
  })
  console.log(`  ${kind}: grid, reference data, outlets in ${(t / 1000).toFixed(1)} s`)
  const [ti] = await time(() => insertCases(db, CASES, 0))
  await db.exec('ANALYZE cases')
  console.log(`  ${kind}: ${CASES.toLocaleString('en')} synthetic cases inserted in ${(ti / 1000).toFixed(1)} s`)
}

async function run(kind: 'pglite' | 'postgres', db: Database): Promise<void> {
  await prepare(db, kind)
  const now = new Date(END.getTime() + 86_400_000)
  const q = { from: FROM, to: END, matter: null, now }

  // Scores: a fresh repository each run, so nothing is shared between runs.
  const both = await median(kind === 'postgres' ? 5 : 2, () => {
    const repo = new ScoreRepository(db)
    return Promise.all([scoreLevel(repo, { ...q, level: 'cell' }), scoreLevel(repo, { ...q, level: 'subdistrict' })])
  })
  row('scores: all 8,423 cells + 43 subdistricts ranked, this year and the previous (one cell aggregation per window, rolled up)', kind, ms(both.median), 'target ≤ 500 ms on PostGIS')
  const units = await median(kind === 'postgres' ? 5 : 2, () => scoreLevel(new ScoreRepository(db), { ...q, level: 'unit' }))
  row('scores: units (departments, utilities) by lead unit', kind, ms(units.median))
  const p90 = await median(kind === 'postgres' ? 3 : 1, () => new ScoreRepository(db).closeP90('subdistrict', { from: FROM, to: END, at: END, matter: null }, null))
  row('p90 time to close of all 43 subdistricts (asked for the units a page shows)', kind, ms(p90.median))
  const plainSql = countsSql('cell').replace('c.cell_code AS key', 'g.code AS key').replace('FROM cases c\n', 'FROM cases c JOIN cells g ON ST_Covers(g.geom, c.geom)\n')
  const [plain] = await time(() => db.query(plainSql, [FROM, END, END, null, ['hotline']]))
  row('plain: the same cell aggregation keyed by ST_Covers(cell, case) (1 window)', kind, ms(plain), 'one run')

  // The in-memory columns.
  const store = new CaseStore(new SqlCaseSource(db), { maxStaleMs: 0 })
  const [load] = await time(() => store.refresh())
  row(`heatmap columns: first load of ${store.n.toLocaleString('en')} cases from the database`, kind, `${(load / 1000).toFixed(1)} s`, `${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB heap after`)
  const [warm] = await time(() => store.refresh(true))
  row('heatmap columns: refresh with nothing new (look-back + open cases)', kind, ms(warm))
  const f = { from: FROM, to: END, now }
  for (const res of [6, 8, 10]) {
    const m = await median(20, () => store.aggregate(f, { kind: 'h3', res }))
    row(`heatmap in process: whole district, year, H3 res ${res} (${store.aggregate(f, { kind: 'h3', res }).keys.length.toLocaleString('en')} hexagons)`, kind, ms(m.median), `p99 ${ms(m.p99)}`)
  }
  const mc = await median(20, () => store.aggregate({ ...f, matter: '11010506', statuses: ['closed'], overdueWeight: 3 }, { kind: 'cell' }))
  row('heatmap in process: per grid cell, matter + status filter + overdue weight', kind, ms(mc.median), `p99 ${ms(mc.p99)}`)
  const group = await median(kind === 'postgres' ? 5 : 2, () => db.query('SELECT cell_code, count(*)::int AS n FROM cases WHERE reported_at >= $1 AND reported_at < $2 GROUP BY 1', [FROM, END]))
  row('plain SQL: per grid cell, GROUP BY cell_code over the year', kind, ms(group.median))
  for (const [res, edge] of [[7, 1406], [9, 201]] as const) {
    // A flat-topped hexagon of ST_HexagonGrid with edge `edge` m covers the area of an H3 hexagon of that edge.
    await db.exec(`DROP TABLE IF EXISTS bench_hex; CREATE TABLE bench_hex AS SELECT i, j, geom FROM ST_HexagonGrid(${edge}, (SELECT ST_SetSRID(ST_Extent(facility_plane(geom)), 0) FROM cells));
      CREATE INDEX ON bench_hex USING gist (geom); ANALYZE bench_hex`)
    const [hx] = await time(() => db.query(`SELECT h.i, h.j, count(*)::int AS n FROM cases c JOIN bench_hex h ON ST_Intersects(h.geom, facility_plane(c.geom))
      WHERE c.reported_at >= $1 AND c.reported_at < $2 GROUP BY 1, 2`, [FROM, END]))
    row(`plain PostGIS: ST_HexagonGrid (edge ${edge} m ≈ H3 res ${res}, indexed) joined to the points`, kind, ms(hx), 'one run')
  }

  // Through HTTP.
  const app = await buildApp({ config: loadConfig({ WANGGE_SEED_FIXTURE: 'false', LOG_LEVEL: 'silent' }), db })
  app.cases.setClock(() => now)
  const headers = { authorization: `Bearer ${demoToken('leader')}` }
  const get = async (url: string): Promise<number> => {
    const r = await app.inject({ method: 'GET', url, headers })
    if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body.slice(0, 300)}`)
    return r.body.length
  }
  const win = `from=${encodeURIComponent(FROM.toISOString())}&to=${encodeURIComponent(END.toISOString())}`
  const [first] = await time(() => get(`/api/analysis/heatmap?zoom=9&${win}`))
  row('GET /api/analysis/heatmap, first request (loads the columns)', kind, `${(first / 1000).toFixed(1)} s`)
  for (const zoom of [9, 12, 14]) {
    const bytes = await get(`/api/analysis/heatmap?zoom=${zoom}&${win}`)
    const m = await median(10, () => get(`/api/analysis/heatmap?zoom=${zoom}&${win}`))
    row(`GET /api/analysis/heatmap zoom ${zoom}, whole district, year`, kind, ms(m.median), `${(bytes / 1024).toFixed(0)} KB, target ≤ 150 ms`)
  }
  const hc = await median(10, () => get(`/api/analysis/heatmap?target=cell&${win}`))
  row('GET /api/analysis/heatmap?target=cell, whole district, year', kind, ms(hc.median))
  const month = `from=${encodeURIComponent(new Date(END.getTime() - 30 * 86_400_000).toISOString())}&to=${encodeURIComponent(END.toISOString())}`
  for (const [label, url] of [['grid cells', `target=cell&${month}`], ['H3 res 8', `resolution=8&${month}`], ['H3 res 10', `resolution=10&${month}`]] as const) {
    const [cold] = await time(() => get(`/api/analysis/hotspots?${url}`))
    const m = await median(5, () => get(`/api/analysis/hotspots?${url}`))
    row(`GET /api/analysis/hotspots ${label}, last 30 days vs the 30 before`, kind, ms(m.median), `first call ${ms(cold)} (study area and neighbours)`)
  }
  const sc = await median(kind === 'postgres' ? 5 : 2, async () => { await new Promise((r) => setTimeout(r, 1100)); return get(`/api/analysis/scores?level=cell&limit=100&${win}`) })
  row('GET /api/analysis/scores?level=cell (8,423 ranked, 100 returned with their p90)', kind, ms(sc.median - 1100))
  const ss = await median(kind === 'postgres' ? 5 : 2, async () => { await new Promise((r) => setTimeout(r, 1100)); return get(`/api/analysis/scores?level=subdistrict&${win}`) })
  row('GET /api/analysis/scores?level=subdistrict (43 ranked and returned with their p90)', kind, ms(ss.median - 1100))
  const [cov, body] = await time(async () => (await app.inject({ method: 'GET', url: `/api/analysis/coverage/underserved?kind=${KINDS}`, headers })).json() as { cells_checked: number; total: number })
  row(`GET /api/analysis/coverage/underserved, 5 kinds × ${body.cells_checked.toLocaleString('en')} cells, 1 km`, kind, ms(cov), `${body.total.toLocaleString('en')} under-served; one run`)
  await app.close()

  if (kind === 'postgres' && process.env.BENCH_5M === '1') {
    const [t5] = await time(() => insertCases(db, BIG - CASES, CASES))
    await db.exec('ANALYZE cases')
    console.log(`  postgres: ${(BIG - CASES).toLocaleString('en')} more cases in ${(t5 / 1000).toFixed(0)} s`)
    const g5 = await median(2, () => db.query('SELECT cell_code, count(*)::int AS n FROM cases WHERE reported_at >= $1 AND reported_at < $2 GROUP BY 1', [FROM, END]))
    row('plain SQL at 5,000,000: GROUP BY cell_code over the year', kind, ms(g5.median))
    const big = new CaseStore(new SqlCaseSource(db), { maxStaleMs: 0 })
    const [l5] = await time(() => big.refresh())
    row('heatmap columns at 5,000,000: first load from the database', kind, `${(l5 / 1000).toFixed(0)} s`)
    const a5 = await median(5, () => big.aggregate(f, { kind: 'h3', res: 8 }))
    row('heatmap in process at 5,000,000 (loaded from PostGIS): H3 res 8', kind, ms(a5.median))
  }
}

/** 5,000,000 cases straight into the columns: what a request costs once they are loaded. */
async function inProcessBig(cells: { code: string; lon: number; lat: number }[]): Promise<void> {
  const rand = createRandom(5_000_000)
  const matters = ['11010506010', '11010506012', '11010509006', '11010501005001', '11010507001']
  const statuses = ['closed', 'closed', 'closed', 'closed', 'closed', 'closed', 'closed', 'closed', 'voided', 'in_progress']
  const none: CaseSource = { after: async () => [], byIds: async () => [] }
  const store = new CaseStore(none, { lookbackIds: 0 })
  const t0 = END.getTime() / 1000 - 365 * 86_400
  const [fill] = await time(() => {
    for (let i = 1; i <= BIG; i++) {
      const c = cells[Math.floor(rand.next() ** 2 * cells.length)]
      const status = statuses[rand.int(statuses.length)]
      store.put({ id: i, lon: c.lon + (rand.next() - 0.5) * 0.0012, lat: c.lat + (rand.next() - 0.5) * 0.0009, t: t0 + rand.next() * 365 * 86_400,
        matter: matters[rand.int(matters.length)], status, cell: c.code, due: status === 'in_progress' ? END.getTime() / 1000 : null, late: rand.next() < 0.15 })
      if (i % 100_000 === 0) store.settle()
    }
  })
  const heap = process.memoryUsage().heapUsed / 2 ** 20
  row(`heatmap columns at 5,000,000: filled in process (H3 of each point)`, 'in process', `${(fill / 1000).toFixed(1)} s`, `${heap.toFixed(0)} MB heap`)
  const f = { from: FROM, to: END, now: new Date(END.getTime() + 86_400_000) }
  for (const res of [6, 8, 10]) {
    const m = await median(5, () => store.aggregate(f, { kind: 'h3', res }))
    row(`heatmap at 5,000,000: whole district, year, H3 res ${res}`, 'in process', ms(m.median), `p99 ${ms(m.p99)}, target ≤ 1 s`)
  }
  const mc = await median(5, () => store.aggregate({ ...f, matter: '110105060', statuses: ['closed'], overdueWeight: 3 }, { kind: 'cell' }))
  row('heatmap at 5,000,000: per grid cell, matter + status + overdue weight', 'in process', ms(mc.median))
}

console.log(`analysis: ${CASES.toLocaleString('en')} cases, load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
let cells: { code: string; lon: number; lat: number }[] = []
{
  const scratch = await scratchDatabase('wangge_bench_analysis').catch((err: unknown) => {
    console.log(`  postgres: skipped (${PG_URL}: ${(err as Error).message})`)
    return null
  })
  if (scratch) {
    const db = await openDatabase({ databaseUrl: scratch.url, statementTimeoutMs: 600_000 })
    try {
      await run('postgres', db)
      cells = (await db.query<{ code: string; lon: number; lat: number }>('SELECT code, lon, lat FROM bench_cells ORDER BY i')).rows
    } finally {
      await db.close()
      await scratch.drop()
    }
  }
}
if (process.env.BENCH_EMBEDDED !== '0') {
  const dir = mkdtempSync(join(tmpdir(), 'wangge-bench-analysis-'))
  const db = await openDatabase({ dataDir: join(dir, 'pg') })
  try {
    await run('pglite', db)
    if (!cells.length) cells = (await db.query<{ code: string; lon: number; lat: number }>('SELECT code, lon, lat FROM bench_cells ORDER BY i')).rows
  } finally {
    await db.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
if (cells.length) await inProcessBig(cells)
console.log(`\nload average at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`)
console.log('| measure | backend | result | note |\n|---|---|---|---|')
for (const r of rows) console.log(r)
