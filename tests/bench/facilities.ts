/**
 * The facility registry, embedded PGlite and real PostGIS side by side, in one run:
 * - import of the fixture's components (250,000; FACILITY_BENCH_COUNT for more, up to 2,000,000)
 *   into an empty registry, and again as an upsert that changes nothing;
 * - nearest-k in process (the in-memory index) against PostGIS `ORDER BY geom_m <-> point LIMIT k`
 *   on the same rows, and the tie-exact reference the tests compare with;
 * - GET /api/facilities/owner-at over HTTP with autocannon (server in its own process on
 *   127.0.0.1, bounded duration).
 * Query points lie within ±100 m of a random component, where dispatchers click.
 * Seeded, so runs compare. Targets: nearest ≥ 200,000/s and ≥ 20× PostGIS; owner-at ≥ 10,000 req/s;
 * import ≤ 10 s embedded, ≤ 5 s PostGIS.
 */
import autocannon from 'autocannon'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FeatureCollection } from 'geojson'
import { chaoyangGridText } from '../../fixtures/load.ts'
import { fixtureOrganisations } from '../../fixtures/organisations.ts'
import { generateFacilities } from '../../fixtures/facilities.ts'
import { openDatabase } from '../../server/db/index.ts'
import type { Database } from '../../server/db/types.ts'
import { validateAndImport } from '../../server/repositories/grid-import.ts'
import { importFacilities } from '../../server/repositories/facility-import.ts'
import { FacilityRepository } from '../../server/repositories/facility-repository.ts'
import { PostgisFacilityIndex } from '../../server/repositories/facility-postgis-index.ts'
import { MemoryFacilityIndex } from '../../geocoder/facility-index.ts'
import { createRandom } from '../../grids/random.ts'
import { scratchDatabase, stats } from './_pg.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const COUNT = Number(process.env.FACILITY_BENCH_COUNT ?? 250_000)
const rows: string[][] = []
const fmt = (n: number): string => Math.round(n).toLocaleString('en')
const cpu = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }

const gridText = await chaoyangGridText()
const grid = JSON.parse(gridText) as FeatureCollection
const subdistricts = new Map<string, string>()
for (const f of grid.features) subdistricts.set(String(f.properties?.subdistrict_code), String(f.properties?.subdistrict_name))
const orgs = fixtureOrganisations([...subdistricts].map(([code, name]) => ({ code, name })))
let t0 = performance.now()
const facilities = generateFacilities(grid, orgs, { count: COUNT })
const genS = (performance.now() - t0) / 1000
rows.push([`generate ${fmt(facilities.length)} components (fixtures/facilities.ts)`, `${genS.toFixed(2)} s`, '', ''])

/** Loads the grid and organisations, then times the import of the components, twice. */
async function importRun(db: Database): Promise<{ first: number; firstCpu: number; again: number }> {
  await validateAndImport(db, JSON.parse(gridText), 'bench')
  await new FacilityRepository(db).upsertOrganisations(orgs.list)
  const opts = { source: 'bench', format: 'fixture' as const, crs: 'wgs84' as const, skipInvalid: false }
  const c = cpu()
  t0 = performance.now()
  const s = await importFacilities(db, facilities, [], facilities.length, opts)
  const first = (performance.now() - t0) / 1000
  const firstCpu = cpu() - c
  if (s.inserted !== facilities.length) throw new Error(`inserted ${s.inserted} of ${facilities.length}`)
  t0 = performance.now()
  const again = await importFacilities(db, facilities, [], facilities.length, opts)
  if (again.unchanged !== facilities.length) throw new Error(`re-import changed ${facilities.length - again.unchanged}`)
  return { first, firstCpu, again: (performance.now() - t0) / 1000 }
}

const dir = mkdtempSync(join(tmpdir(), 'wangge-bench-fac-'))
const scratch = await scratchDatabase()
let embedded: Database | null = null
let pg: Database | null = null
try {
  embedded = await openDatabase({ dataDir: join(dir, 'pg') })
  const e = await importRun(embedded)
  pg = await openDatabase({ databaseUrl: scratch.url, statementTimeoutMs: 600_000 })
  const p = await importRun(pg)
  rows.push([`import ${fmt(facilities.length)} components into an empty registry (check, write, index)`, `${e.first.toFixed(2)} s (cpu ${e.firstCpu.toFixed(1)} s)`, `${p.first.toFixed(2)} s`, 'targets ≤ 10 s / ≤ 5 s'])
  rows.push([`import the same file again (upsert, nothing changes)`, `${e.again.toFixed(2)} s`, `${p.again.toFixed(2)} s`, ''])

  // The in-memory index, built from what PostGIS holds.
  t0 = performance.now()
  const records = await new FacilityRepository(pg).records()
  const readS = (performance.now() - t0) / 1000
  t0 = performance.now()
  const eRecords = await new FacilityRepository(embedded).records()
  const eReadS = (performance.now() - t0) / 1000
  t0 = performance.now()
  const index = new MemoryFacilityIndex(records)
  const buildS = (performance.now() - t0) / 1000
  rows.push(['read all components for the index / build it', `read ${eReadS.toFixed(2)} s`, `read ${readS.toFixed(2)} s`, `build ${buildS.toFixed(2)} s (${fmt(eRecords.length)} rows)`])

  // Where a dispatcher clicks: within ±100 m of a component (the same points for every engine).
  const rand = createRandom(20110615)
  const N = 200_000
  const xs = new Float64Array(N)
  const ys = new Float64Array(N)
  for (let i = 0; i < N; i++) {
    const r = records[rand.int(records.length)]
    xs[i] = r.lon + (rand.next() - 0.5) * 0.0024
    ys[i] = r.lat + (rand.next() - 0.5) * 0.0018
  }
  const memRate: Record<string, number> = {}
  for (const [label, o] of [['k=1', { k: 1 }], ['k=5', { k: 5 }], ['k=10', { k: 10 }], ['k=5, subclass 01005', { k: 5, subclasses: ['01005'] }]] as const) {
    for (let i = 0; i < 20_000; i++) index.nearest(xs[i], ys[i], o) // warm up
    t0 = performance.now()
    for (let i = 0; i < N; i++) index.nearest(xs[i], ys[i], o)
    memRate[label] = N / ((performance.now() - t0) / 1000)
  }
  t0 = performance.now()
  for (let i = 0; i < N; i++) index.within(xs[i], ys[i], { radiusM: 30, subclasses: ['01005'] })
  const withinRate = N / ((performance.now() - t0) / 1000)

  // PostGIS, the same query the index answers: ORDER BY geom_m <-> point LIMIT k.
  const KNN = `SELECT id FROM facilities ORDER BY geom_m <-> facility_plane(ST_SetSRID(ST_MakePoint($1, $2), 4326)) LIMIT $3`
  const knnRate = async (db: Database, k: number, n: number, sub?: string): Promise<{ rate: number; p50: number; p99: number }> => {
    const sql = sub ? KNN.replace('FROM facilities', `FROM facilities WHERE subclass = '${sub}'`) : KNN
    const lat: number[] = []
    for (let i = 0; i < 200; i++) await db.query(sql, [xs[i], ys[i], k])
    const start = performance.now()
    for (let i = 0; i < n; i++) {
      const t = performance.now()
      await db.query(sql, [xs[i], ys[i], k])
      lat.push(performance.now() - t)
    }
    const st = stats(lat)
    return { rate: n / ((performance.now() - start) / 1000), p50: st.median, p99: st.p99 }
  }
  for (const [label, k, sub] of [['k=1', 1, undefined], ['k=5', 5, undefined], ['k=10', 10, undefined], ['k=5, subclass 01005', 5, '01005']] as const) {
    const ek = await knnRate(embedded, k, 3000, sub)
    const pk = await knnRate(pg, k, 5000, sub)
    rows.push([`nearest ${label}: in-memory ${fmt(memRate[label])}/s vs ORDER BY geom_m <-> p LIMIT k`, `${fmt(ek.rate)}/s (p50 ${ek.p50.toFixed(2)} ms)`,
      `${fmt(pk.rate)}/s (p50 ${pk.p50.toFixed(2)} ms, p99 ${pk.p99.toFixed(2)} ms)`, `in-memory is ${(memRate[label] / pk.rate).toFixed(0)}× PostGIS, ${(memRate[label] / ek.rate).toFixed(0)}× PGlite`])
  }
  rows.push(['within 30 m, subclass 01005 (what owner-at asks), in-memory', '', '', `${fmt(withinRate)}/s`])
  // The tie-exact reference (two index scans), one by one and as a LATERAL batch.
  const ref = new PostgisFacilityIndex(pg)
  t0 = performance.now()
  for (let i = 0; i < 3000; i++) await ref.nearest(xs[i], ys[i], { k: 5 })
  const refRate = 3000 / ((performance.now() - t0) / 1000)
  t0 = performance.now()
  await ref.nearestMany(Array.from(xs.subarray(0, 20_000)), Array.from(ys.subarray(0, 20_000)), { k: 5 })
  const batchRate = 20_000 / ((performance.now() - t0) / 1000)
  // PostGIS with 8 connections in parallel (the pool's size).
  let next = 0
  t0 = performance.now()
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < 20_000) { const i = next++; await pg!.query(KNN, [xs[i], ys[i], 5]) }
  }))
  const parRate = 20_000 / ((performance.now() - t0) / 1000)
  rows.push(['PostGIS k=5: tie-exact reference / LATERAL batch of 20,000 / plain KNN on 8 connections', '', `${fmt(refRate)}/s / ${fmt(batchRate)}/s / ${fmt(parRate)}/s`,
    `in-memory k=5 is ${(memRate['k=5'] / parRate).toFixed(0)}× the 8-connection rate`])
  await embedded.close()
  embedded = null

  // owner-at over HTTP: a server process on the PostGIS database, autocannon from here.
  const server = spawn(process.execPath, ['--import', 'tsx', 'tests/bench/_facility-server.ts'], {
    cwd: ROOT, env: { ...process.env, DATABASE_URL: scratch.url, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = ''
      server.stdout.on('data', (b: Buffer) => {
        out += b.toString()
        const m = /listening (\d+)/.exec(out)
        if (m) resolve(Number(m[1]))
      })
      server.once('exit', (code) => reject(new Error(`bench server exited ${code}`)))
    })
    // A dispatcher's click: a few metres from a real power cover.
    const covers = records.filter((r) => r.subclass === '01005')
    const paths = Array.from({ length: 10_000 }, () => {
      const c = covers[rand.int(covers.length)]
      return `/api/facilities/owner-at?lon=${(c.lon + (rand.next() - 0.5) * 1e-4).toFixed(7)}&lat=${(c.lat + (rand.next() - 0.5) * 1e-4).toFixed(7)}&subclass=01005`
    })
    let k = 0
    const run = (duration: number, connections: number): Promise<autocannon.Result> => autocannon({
      url: `http://127.0.0.1:${port}`, connections, duration,
      requests: [{ setupRequest: (req) => ({ ...req, path: paths[k++ % paths.length] }) }],
    })
    await run(3, 16)
    for (const c of [16, 64]) {
      const r = await run(10, c)
      rows.push([`HTTP GET /api/facilities/owner-at (subclass 01005), ${c} connections, 10 s`, '', `${fmt(r.requests.average)} req/s`,
        `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms; errors ${r.errors}, non-2xx ${r.non2xx}; target ≥ 10,000 req/s`])
    }
  } finally {
    server.kill('SIGTERM')
    await new Promise((r) => server.once('exit', r))
  }
} finally {
  await embedded?.close()
  await pg?.close()
  await scratch.drop()
  rmSync(dir, { recursive: true, force: true })
}

console.log(`\n${fmt(facilities.length)} components on the 8,423-cell fixture grid\n`)
console.log('| measure | embedded PGlite | PostgreSQL + PostGIS | notes |\n|---|---|---|---|')
for (const r of rows) console.log(`| ${r.join(' | ')} |`)
