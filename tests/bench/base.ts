/**
 * Base information over the full fixture: 8,423 cells, the gazetteer's
 * buildings and places as base records (≈ 76,000 with the companies in office
 * towers, ≈ 112,000 with the shops of the frontage units), 40,000 frontage
 * units, 250,000 components and a year of 500,000 synthetic cases (with
 * 门前三包 links by the backfill), on the embedded
 * database and a real PostGIS, each side by side with the plain PostGIS way:
 *
 * - comprehensive query of the busiest subdistrict (target ≤ 200 ms): ours
 *   (btree ranges of cell codes, one query per source) vs ST_Covers of the
 *   subdistrict's geometry over every table;
 * - a drawn 1 km² polygon (target ≤ 50 ms), 20 places in the dense core: ours
 *   (GiST, the metric plane's index for components and frontages) vs plain
 *   ST_Intersects on geom for every table;
 * - the daily snapshot of every indicator for every unit (target ≤ 30 s);
 * - the frontage match intake runs per case.
 *
 * Run: npm run bench -- base (BENCH_CASES=… changes the count; BENCH_EMBEDDED=0 skips the embedded database).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, loadavg } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../../server/db/index.ts'
import type { Database } from '../../server/db/types.ts'
import { ensureBaseInfo, ensureFacilities, ensureFixture, ensureFrontage, ensurePlaces } from '../../fixtures/load.ts'
import { ensureCaseReference } from '../../fixtures/case-reference.ts'
import { comprehensive } from '../../server/base/query.ts'
import { takeSnapshot } from '../../server/base/indicators.ts'
import { matchFrontage } from '../../server/repositories/base-frontage.ts'
import { createRandom } from '../../grids/random.ts'
import { PG_URL, scratchDatabase, stats, ms, time } from './_pg.ts'

const CASES = Number(process.env.BENCH_CASES ?? 500_000)
const END = new Date('2026-11-01T00:00:00+08:00')
const CHUNK = 100_000

const rows: string[] = []
const row = (what: string, backend: string, result: string, note = ''): void => {
  rows.push(`| ${what} | ${backend} | ${result} | ${note} |`)
  console.log(`  ${backend}: ${what}: ${result} ${note}`)
}

/** Synthetic cases of a year on the cells' inner points (skewed to the first cells), most closed, the last days open. */
const INSERT = `INSERT INTO cases (matter_code, matter_std, status, channel, description, geom, cell_code, community_code, subdistrict_code, district_code,
  lead_unit, reported_at, last_reported_at, updated_at, accepted_at, accept_on_time, voided_at, dispatched_at, handle_due_at, handled_at, handle_on_time,
  verify_on_time, closed_at, close_on_time, due_at, stage)
SELECT m.code, left(m.code, 11), x.status, CASE WHEN x.u1 < 0.7 THEN 'supervisor' ELSE 'hotline' END, 'bench',
  ST_SetSRID(ST_MakePoint(c.lon + (x.u2 - 0.5) * 0.0012, c.lat + (x.u3 - 0.5) * 0.0009), 4326), c.code, c.community_code, c.subdistrict_code, c.district_code,
  CASE WHEN x.status <> 'voided' THEN u.uscc END, x.t, x.t, x.t,
  CASE WHEN x.status <> 'voided' THEN x.t + interval '1 hour' END, true, CASE WHEN x.status = 'voided' THEN x.t + interval '1 hour' END,
  CASE WHEN x.status <> 'voided' THEN x.t + interval '2 hours' END, CASE WHEN x.status <> 'voided' THEN x.t + interval '26 hours' END,
  CASE WHEN x.status = 'closed' THEN x.t + x.h * interval '1 hour' END, CASE WHEN x.status = 'closed' THEN x.h < 26 END,
  CASE WHEN x.status = 'closed' THEN true END, CASE WHEN x.status = 'closed' THEN x.t + (x.h + 4) * interval '1 hour' END, CASE WHEN x.status = 'closed' THEN true END,
  CASE WHEN x.status = 'in_progress' THEN x.t + interval '26 hours' END, CASE WHEN x.status = 'in_progress' THEN 'handle' END
FROM (SELECT r.*, CASE WHEN r.u8 < 0.03 THEN 'voided' WHEN r.t > $2::timestamptz - interval '3 days' AND r.u8 < 0.6 THEN 'in_progress' ELSE 'closed' END AS status, 2 + r.u9 * 40 AS h
  FROM (SELECT g, random() AS u1, random() AS u2, random() AS u3, random() AS u8, random() AS u9, random() AS cu, random() AS mu, random() AS uu,
      $2::timestamptz - random() * interval '365 days' AS t FROM generate_series(1, $1::int) g) r) x
JOIN bench_cells c ON c.i = floor(x.cu * x.cu * $3)::int
JOIN bench_matters m ON m.i = floor(x.mu * $4)::int
JOIN bench_units u ON u.i = floor(x.uu * $5)::int`

async function prepare(db: Database, kind: string): Promise<void> {
  const [t] = await time(async () => {
    await ensureFixture(db)
    await ensurePlaces(db)
    await ensureFacilities(db)
    await ensureCaseReference(db)
    await db.exec(`CREATE TABLE bench_cells AS SELECT (row_number() OVER (ORDER BY code) - 1)::int AS i, code, community_code, subdistrict_code, district_code, ST_X(p) AS lon, ST_Y(p) AS lat
        FROM (SELECT *, ST_PointOnSurface(geom) AS p FROM cells) x;
      CREATE INDEX ON bench_cells (i);
      CREATE TABLE bench_matters AS SELECT (row_number() OVER (ORDER BY code) - 1)::int AS i, code FROM matter_types WHERE level = 2 AND substr(code, 7, 2) IN ('06', '07', '09');
      CREATE TABLE bench_units AS SELECT (row_number() OVER (ORDER BY uscc) - 1)::int AS i, uscc FROM organisations WHERE kind <> 'subdistrict_office'`)
  })
  console.log(`  ${kind}: grid, places, components, reference data in ${(t / 1000).toFixed(1)} s`)
  const sizes = (await db.query<{ c: number; m: number; u: number }>('SELECT (SELECT count(*) FROM bench_cells)::int AS c, (SELECT count(*) FROM bench_matters)::int AS m, (SELECT count(*) FROM bench_units)::int AS u')).rows[0]
  const [ti] = await time(async () => {
    for (let done = 0; done < CASES; done += CHUNK) {
      await db.transaction(async (tx) => {
        await tx.query('SELECT setseed($1)', [(done / CHUNK % 997) / 1000])
        await tx.query(INSERT, [Math.min(CHUNK, CASES - done), END, sizes.c, sizes.m, sizes.u])
      })
    }
  })
  console.log(`  ${kind}: ${CASES.toLocaleString('en')} synthetic cases in ${(ti / 1000).toFixed(1)} s`)
  const [tb, n] = await time(() => ensureBaseInfo(db))
  console.log(`  ${kind}: ${n?.toLocaleString('en')} base records in ${(tb / 1000).toFixed(1)} s`)
  const [tf, u] = await time(() => ensureFrontage(db))
  const linked = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM case_frontage')).rows[0].n
  console.log(`  ${kind}: ${u?.toLocaleString('en')} frontage units, ${linked.toLocaleString('en')} cases linked, in ${(tf / 1000).toFixed(1)} s`)
  await db.exec('ANALYZE')
}

/** The plain way: every count by the area's geometry (ST_Covers / ST_Intersects), nothing precomputed. */
async function plain(db: Database, areaSql: string, params: unknown[], covers: boolean, from: Date, to: Date): Promise<void> {
  const inside = (g: string): string => (covers ? `ST_Covers(a.g, ${g})` : `ST_Intersects(${g}, a.g)`)
  const n = params.length
  await Promise.all([
    db.query(`WITH a AS (${areaSql}) SELECT b.kind, b.use, count(*), sum(b.households), sum(b.pop_registered), sum(b.pop_resident) FROM base_records b, a WHERE ${inside('b.geom')} GROUP BY 1, 2`, params),
    db.query(`WITH a AS (${areaSql}) SELECT r.category, count(*) FROM base_residents r JOIN base_records b ON b.id = r.building_id, a WHERE ${inside('b.geom')} GROUP BY 1`, params),
    db.query(`WITH a AS (${areaSql}) SELECT c.status, count(*) FROM cases c, a WHERE ${inside('c.geom')} AND (c.is_open OR (c.reported_at >= $${n + 1} AND c.reported_at < $${n + 2})) GROUP BY 1`, [...params, from, to]),
    db.query(`WITH a AS (${areaSql}) SELECT substr(f.subclass, 1, 2), f.status, count(*) FROM facilities f, a WHERE ${covers ? 'ST_Covers(a.g, ST_PointOnSurface(f.geom))' : 'ST_Intersects(f.geom, a.g)'} GROUP BY 1, 2`, params),
    db.query(`WITH a AS (${areaSql}) SELECT count(*), sum(u.length_m) FROM frontage_units u, a WHERE ${covers ? 'ST_Covers(a.g, ST_LineInterpolatePoint(u.frontage, 0.5))' : 'ST_Intersects(u.frontage, a.g)'}`, params),
  ])
}

async function run(kind: 'pglite' | 'postgres', db: Database): Promise<void> {
  await prepare(db, kind)
  const to = END
  const from = new Date(END.getTime() - 30 * 86_400_000)
  const opts = { limit: 20, from, to, now: END, role: 'leader' as const }
  const sd = (await db.query<{ code: string; n: number }>('SELECT subdistrict_code AS code, count(*)::int AS n FROM base_records GROUP BY 1 ORDER BY 2 DESC LIMIT 1')).rows[0]
  const reps = kind === 'postgres' ? 15 : 7
  const ours: number[] = []
  let answer = await comprehensive(db, { kind: 'subdistrict', code: sd.code }, opts)
  for (let i = 0; i < reps; i++) ours.push((await time(async () => { answer = await comprehensive(db, { kind: 'subdistrict', code: sd.code }, opts) }))[0])
  const s = stats(ours)
  row(`comprehensive query, busiest subdistrict (${sd.n.toLocaleString('en')} records, ${answer.cases.reported_in_window.toLocaleString('en')} cases in 30 days + ${answer.cases.open.toLocaleString('en')} open, ${answer.facilities.total.toLocaleString('en')} components)`,
    kind, ms(s.median), `p99 ${ms(s.p99)}; target ≤ 200 ms`)
  const pl: number[] = []
  for (let i = 0; i < Math.min(reps, 5); i++) pl.push((await time(() => plain(db, 'SELECT geom AS g FROM subdistricts WHERE code = $1', [sd.code], true, from, to)))[0])
  row('plain PostGIS: the same counts by ST_Covers(subdistrict, thing)', kind, ms(stats(pl).median))

  // 20 squares of 1 km² centred on cells of the dense core.
  const centres = (await db.query<{ lon: number; lat: number }>('SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT ST_PointOnSurface(geom) AS p FROM cells ORDER BY area_m2, code LIMIT 2000) x')).rows
  const rand = createRandom(20101010)
  const squares = Array.from({ length: 20 }, () => {
    const c = centres[rand.int(centres.length)]
    const dx = 500 / 85_390
    const dy = 500 / 111_030
    return { type: 'Polygon' as const, coordinates: [[[c.lon - dx, c.lat - dy], [c.lon + dx, c.lat - dy], [c.lon + dx, c.lat + dy], [c.lon - dx, c.lat + dy], [c.lon - dx, c.lat - dy]]] }
  })
  await comprehensive(db, { kind: 'polygon', geometry: squares[0] }, opts)
  const pt: number[] = []
  let records = 0
  for (const sq of squares) {
    const [d, r] = await time(() => comprehensive(db, { kind: 'polygon', geometry: sq }, opts))
    pt.push(d)
    records += Object.values(r.counts).reduce((a, b) => a + b, 0)
  }
  const p = stats(pt)
  row(`comprehensive query, drawn 1 km² square (20 places in the core, ${Math.round(records / 20).toLocaleString('en')} records each on average)`, kind, ms(p.median), `p99 ${ms(p.p99)}; target ≤ 50 ms`)
  const pp: number[] = []
  for (const sq of squares.slice(0, kind === 'postgres' ? 10 : 4)) pp.push((await time(() => plain(db, 'SELECT ST_SetSRID(ST_GeomFromGeoJSON($1), 4326) AS g', [JSON.stringify(sq)], false, from, to)))[0])
  row('plain PostGIS: the same counts by ST_Intersects(thing, square) on geom', kind, ms(stats(pp).median), 'components and frontages have no GiST on geom: sequential scans')

  // The frontage match intake runs per case.
  const pts = (await db.query<{ lon: number; lat: number }>(`SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT ST_LineInterpolatePoint(frontage, 0.5) AS p FROM frontage_units ORDER BY id LIMIT 200) x`)).rows
  const mt: number[] = []
  let hits = 0
  for (const q of pts) {
    const [d, m] = await time(() => matchFrontage(db, '11010509006', q.lon, q.lat))
    mt.push(d)
    if (m) hits++
  }
  row('frontage match at intake (nearest unit within the rule\'s tolerance), 200 points', kind, ms(stats(mt).median), `p99 ${ms(stats(mt).p99)}; ${hits}/200 matched`)

  const [snap, summary] = await time(() => takeSnapshot(db, { day: '2026-10-31', now: END }))
  row(`daily indicator snapshot, all units (${summary.subjects.map((x) => `${x.units.toLocaleString('en')} ${x.subject}`).join(', ')}; ${summary.subjects.reduce((n, x) => n + x.rows, 0).toLocaleString('en')} values)`,
    kind, `${(snap / 1000).toFixed(1)} s`, 'target ≤ 30 s')
  const [again] = await time(() => takeSnapshot(db, { day: '2026-10-31', now: END }))
  row('daily indicator snapshot again (replaces the day\'s rows)', kind, `${(again / 1000).toFixed(1)} s`)
}

async function main(): Promise<void> {
  console.log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
  if (process.env.BENCH_EMBEDDED !== '0') {
    const dir = mkdtempSync(join(tmpdir(), 'wangge-bench-base-'))
    const db = await openDatabase({ dataDir: join(dir, 'pg'), statementTimeoutMs: 900_000 })
    try {
      await run('pglite', db)
    } finally {
      await db.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const scratch = await scratchDatabase('wangge_bench_base')
  const pgdb = await openDatabase({ databaseUrl: scratch.url, statementTimeoutMs: 900_000 })
  try {
    await run('postgres', pgdb)
  } finally {
    await pgdb.close()
    await scratch.drop()
  }
  console.log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (PostGIS: ${PG_URL})`)
  console.log('\n| measure | backend | result | note |\n|---|---|---|---|')
  for (const r of rows) console.log(r)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
