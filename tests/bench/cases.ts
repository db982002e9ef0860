/**
 * Case intake and the history fixture, on the embedded database and on a real
 * PostGIS side by side.
 *
 * - fixture load: the seeded history (cases, reports, units, events) in cases/s,
 *   and what that means for the 500,000-case year;
 * - intake: POST /api/cases through the whole app (auth, validation, geocoding,
 *   component match, duplicate check with its locks, routing, one transaction),
 *   sustained with several requests in flight; throughput and p50/p99 latency.
 *   Targets: ≥ 1,000 cases/s on PostGIS, ≥ 300/s embedded.
 *
 * Seeded: the same points and matters every run. Run: npm run bench -- cases
 * (WANGGE_BENCH_ONLY=postgres or =pglite runs one side only; WANGGE_BENCH_PROFILE=/tmp/intake
 * writes a CPU profile of the intake phase).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRandom } from '../../grids/random.ts'
import { openDatabase } from '../../server/db/index.ts'
import type { Database } from '../../server/db/types.ts'
import { buildApp } from '../../server/app.ts'
import { loadConfig } from '../../server/config.ts'
import { ensureFacilities, ensureFixture, ensurePlaces } from '../../fixtures/load.ts'
import { ensureCaseReference } from '../../fixtures/case-reference.ts'
import { demoToken, ensureDemoUsers } from '../../fixtures/users.ts'
import { loadHistory, YEAR_CASES } from '../../fixtures/cases.ts'
import { PG_URL, postgresCpuSeconds, scratchDatabase, stats } from './_pg.ts'

const FACILITIES = 100_000
const HISTORY = { pglite: 20_000, postgres: 60_000 }
const INTAKE = { pglite: { n: 4_000, inFlight: 4 }, postgres: { n: 20_000, inFlight: 16 } }
const EVENT_MATTERS = ['06010', '06012', '06036', '09006', '07001', '09009', '09010', '06013', '06042', '08002']
const COMPONENT_MATTERS = ['01005001', '01001', '01002002', '01003', '01037', '03005', '04002', '02010']

async function prepare(db: Database, kind: string): Promise<void> {
  const t0 = performance.now()
  await ensureFixture(db)
  await ensurePlaces(db)
  await ensureFacilities(db, { count: FACILITIES })
  await ensureCaseReference(db)
  await ensureDemoUsers(db)
  console.log(`  ${kind}: grid, places, ${FACILITIES.toLocaleString('en')} components, reference data in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}

async function run(kind: 'pglite' | 'postgres', db: Database, database?: string): Promise<void> {
  await prepare(db, kind)
  // Fixture load.
  const n = HISTORY[kind]
  const h = await loadHistory(db, { count: n, days: Math.round((n / YEAR_CASES) * 365), end: new Date('2026-11-01T00:00:00+08:00') })
  const rate = h.cases / (h.ms / 1000)
  console.log(`  ${kind}: history ${h.cases.toLocaleString('en')} cases (${h.reports.toLocaleString('en')} reports, ${h.events.toLocaleString('en')} events) in ${(h.ms / 1000).toFixed(1)} s`
    + ` = ${Math.round(rate).toLocaleString('en')} cases/s → the 500,000-case year ≈ ${Math.round(YEAR_CASES / rate)} s`)

  // Intake.
  const app = await buildApp({ config: loadConfig({ WANGGE_SEED_FIXTURE: 'false', LOG_LEVEL: 'silent' }), db })
  app.cases.setClock(() => new Date('2026-11-02T10:00:00+08:00'))
  const rand = createRandom(424242)
  const facilities = (await db.query<{ lon: number; lat: number; subclass: string }>(`SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat, subclass FROM facilities
    WHERE GeometryType(geom) = 'POINT' AND subclass = ANY($1::text[]) ORDER BY id`, [[...new Set(COMPONENT_MATTERS.map((m) => m.slice(0, 5)))]])).rows
  const cells = (await db.query<{ lon: number; lat: number }>('SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT ST_PointOnSurface(geom) AS p FROM cells) x')).rows
  const headers = { authorization: `Bearer ${demoToken('supervisor')}`, 'content-type': 'application/json' }
  const { n: total, inFlight } = INTAKE[kind]
  const bodies = Array.from({ length: total }, () => {
    if (rand.next() < 0.35) {
      const matter = rand.pick(COMPONENT_MATTERS)
      const candidates = facilities.filter((f) => f.subclass === matter.slice(0, 5))
      const f = candidates[rand.int(candidates.length)]
      return JSON.stringify({ matter: `110105${matter}`, description: '部件异常', point: { lon: f.lon + rand.range(-3e-5, 3e-5), lat: f.lat + rand.range(-3e-5, 3e-5) } })
    }
    const c = cells[rand.int(cells.length)]
    return JSON.stringify({ matter: `110105${rand.pick(EVENT_MATTERS)}`, description: '事件', point: { lon: c.lon + rand.range(-2e-4, 2e-4), lat: c.lat + rand.range(-2e-4, 2e-4) } })
  })
  // Warm-up: JIT, plans, the token cache.
  for (let i = 0; i < 50; i++) await app.inject({ method: 'POST', url: '/api/cases', headers, payload: bodies[i] })
  const latencies: number[] = []
  const statuses = new Map<number, number>()
  let next = 50
  const profiler = process.env.WANGGE_BENCH_PROFILE ? await startProfile() : null
  const cpu0 = process.cpuUsage()
  const pgCpu0 = kind === 'postgres' ? postgresCpuSeconds(database) : null
  const t0 = performance.now()
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < total) {
      const body = bodies[next++]
      const s = performance.now()
      const r = await app.inject({ method: 'POST', url: '/api/cases', headers, payload: body })
      latencies.push(performance.now() - s)
      statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1)
      if (r.statusCode >= 400) throw new Error(`intake failed: ${r.statusCode} ${r.body}`)
    }
  }))
  const secs = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  if (profiler) console.log(`  ${kind}: CPU profile of the intake in ${await profiler.stop(`${process.env.WANGGE_BENCH_PROFILE}-${kind}.cpuprofile`)}`)
  const pgCpu1 = kind === 'postgres' ? postgresCpuSeconds(database) : null
  const st = stats(latencies)
  const linked = statuses.get(200) ?? 0
  console.log(`  ${kind}: intake ${latencies.length.toLocaleString('en')} cases with ${inFlight} in flight in ${secs.toFixed(1)} s = ${Math.round(latencies.length / secs).toLocaleString('en')} cases/s;`
    + ` latency median ${st.median.toFixed(1)} ms, p99 ${st.p99.toFixed(1)} ms; ${linked} linked as duplicates`)
  // CPU per case on each side: what throughput would be with the cores to ourselves.
  const nodeMs = (cpu.user + cpu.system) / 1000 / latencies.length
  const pgMs = pgCpu0 !== null && pgCpu1 !== null ? ((pgCpu1 - pgCpu0) * 1000) / latencies.length : null
  console.log(`  ${kind}: CPU per case: node ${nodeMs.toFixed(2)} ms` + (pgMs === null ? '' : `, PostgreSQL ${pgMs.toFixed(2)} ms (its backends)`)
    + (kind === 'postgres' && pgMs !== null ? `; one node thread and PostgreSQL on ${cpus().length} cores → at most ${Math.round(Math.min(1000 / nodeMs, (cpus().length * 1000) / (nodeMs + pgMs))).toLocaleString('en')} cases/s` : ''))
  await app.close()
}

/** WANGGE_BENCH_PROFILE=path: a V8 CPU profile of the intake phase, for Chrome's DevTools or speedscope. */
async function startProfile(): Promise<{ stop(file: string): Promise<string> }> {
  const session = new Session()
  session.connect()
  const post = (method: string, params?: object): Promise<unknown> => new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, res) => { if (err) reject(err); else resolve(res) })
  })
  await post('Profiler.enable')
  await post('Profiler.start')
  return {
    async stop(file) {
      const { profile } = await post('Profiler.stop') as { profile: object }
      writeFileSync(file, JSON.stringify(profile))
      session.disconnect()
      return file
    },
  }
}

const only = process.env.WANGGE_BENCH_ONLY
console.log('case history fixture and intake')
if (only !== 'postgres') {
  const dir = mkdtempSync(join(tmpdir(), 'wangge-bench-cases-'))
  const db = await openDatabase({ dataDir: join(dir, 'pg') })
  try {
    await run('pglite', db)
  } finally {
    await db.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
if (only !== 'pglite') {
  const scratch = await scratchDatabase('wangge_bench_cases').catch((err: unknown) => {
    console.log(`  postgres: skipped (${PG_URL}: ${(err as Error).message})`)
    return null
  })
  if (scratch) {
    const db = await openDatabase({ databaseUrl: scratch.url })
    try {
      await run('postgres', db, new URL(scratch.url).pathname.slice(1))
    } finally {
      await db.close()
      await scratch.drop()
    }
  }
}
