/**
 * Load: the server (server/main.ts, its own process) on a scratch PostGIS
 * database loaded with the fixtures, and autocannon on loopback sending a
 * mix at fixed rates for LOAD_SECONDS (default 300): geocoding, case intake
 * (supervisor, unique Idempotency-Keys), facility lookups (nearest, owner-at),
 * vector tiles (cells, facilities) and rankings (leader). Per route:
 * throughput, p50/p99, status counts. Memory of the server process (RSS and
 * heap, sampled every LOAD_SAMPLE_MS) and the live heap after a forced full
 * collection at fixed points of the run, against a stated bound. Exits 1 on
 * any 5xx or connection error, or when memory grows past the bound.
 *
 * Full run: `npm run bench -- load` (or `npx tsx tests/bench/load.ts`), 300 s.
 * Short run (CI, .ci/run): `npx tsx tests/bench/load.ts --seconds 30` — the same
 * mix and checks, memory sampled every second; ends with "N passed, N failed".
 *
 * The memory check compares live heaps (after `gc()`, see _memlog.ts): from the
 * end of the warm-up (a fifth of the run) to the end. Growth there is what the
 * requests keep. Bounded caches (tiles: 128 MiB) still fill after the warm-up
 * when every request asks for a new tile, so a short run draws its tiles from
 * a small pool of locations (LOAD_POINTS, 60 for runs under 150 s): the cache
 * is full by the end of the warm-up and what grows after it is growth per
 * request. Every other route, and the full run's tiles, draw from every cell
 * and 20,000 components.
 */
import autocannon from 'autocannon'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { openDatabase } from '../../server/db/index.ts'
import { ensureBaseInfo, ensureFacilities, ensureFixture, ensureFrontage, ensurePlaces, ensureServiceOutlets } from '../../fixtures/load.ts'
import { ensureStartCases } from '../../fixtures/cases.ts'
import { demoToken, ensureDemoUsers } from '../../fixtures/users.ts'
import { createRandom } from '../../grids/random.ts'
import { scratchDatabase } from './_pg.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** `--seconds N` on the command line, else LOAD_SECONDS, else 300. */
const argSeconds = process.argv.indexOf('--seconds')
const SECONDS = Number(argSeconds >= 0 ? process.argv[argSeconds + 1] : process.env.LOAD_SECONDS ?? 300)
if (!Number.isFinite(SECONDS) || SECONDS < 10) throw new Error('load: --seconds (or LOAD_SECONDS) must be a number ≥ 10')
/** Every 5 s on the full run; a short run samples every second so the memory check has enough samples. */
const SAMPLE_MS = Number(process.env.LOAD_SAMPLE_MS ?? (SECONDS < 150 ? 1000 : 5000))
/** Growth allowed from the end of the warm-up (a fifth of the run) to the end, both after a full collection: live heap and RSS. */
const HEAP_BOUND_MB = Number(process.env.LOAD_HEAP_BOUND_MB ?? 64)
const RSS_BOUND_MB = Number(process.env.LOAD_RSS_BOUND_MB ?? 128)
/** Locations (cells and components each) the tile requests are drawn from; 0: all. */
const POINTS = Number(process.env.LOAD_POINTS ?? (SECONDS < 150 ? 60 : 0))
/** Forced-collection samples after the warm-up: at its end, then evenly to just before the run ends. */
const GC_SAMPLES = Number(process.env.LOAD_GC_SAMPLES ?? (SECONDS < 150 ? 5 : 11))
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const freePort = (): Promise<number> => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
})

const scratch = await scratchDatabase('wangge_load')
let exitCode = 0
try {
  // The fixtures, as a first start loads them (fixtures/load.ts), and the demo users.
  const t0 = performance.now()
  const db = await openDatabase({ databaseUrl: scratch.url })
  await ensureFixture(db)
  await ensurePlaces(db)
  await ensureBaseInfo(db)
  await ensureFacilities(db)
  await ensureServiceOutlets(db)
  await ensureStartCases(db)
  await ensureFrontage(db)
  await ensureDemoUsers(db)
  const cellPoints = (await db.query<{ lon: number; lat: number }>('SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT ST_PointOnSurface(geom) AS p FROM cells ORDER BY code) x')).rows
  const facilityPoints = (await db.query<{ lon: number; lat: number }>('SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM facilities WHERE GeometryType(geom) = \'POINT\' ORDER BY id LIMIT 20000')).rows
  await db.close()
  // A pool of POINTS locations spread over the district (every k-th), or all of them.
  const spread = <T>(xs: T[]): T[] => POINTS > 0 && POINTS < xs.length ? xs.filter((_, i) => i % Math.floor(xs.length / POINTS) === 0).slice(0, POINTS) : xs
  const tileCells = spread(cellPoints)
  const tileFacilities = spread(facilityPoints)
  console.log(`fixtures loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${cellPoints.length} cells, ${facilityPoints.length} facility points sampled; tiles drawn from ${tileCells.length} cells and ${tileFacilities.length} components`)

  const port = await freePort()
  const server = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--import', './tests/bench/_memlog.ts', 'server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: scratch.url, WANGGE_DATA_DIR: '', PORT: String(port), HOST: '127.0.0.1', WANGGE_SEED_FIXTURE: 'false', LOG_LEVEL: 'warn', WANGGE_MEMLOG_MS: String(SAMPLE_MS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  type Sample = { t: number; rss: number; heapUsed: number; gc: boolean }
  const memory: Sample[] = []
  let partial = ''
  server.stdout.on('data', (d: Buffer) => { log += d.toString() })
  server.stderr.on('data', (d: Buffer) => {
    partial += d.toString()
    const lines = partial.split('\n')
    partial = lines.pop() ?? ''
    for (const l of lines) {
      if (l.startsWith('memlog ')) memory.push(JSON.parse(l.slice(7)) as Sample)
      else log += `${l}\n`
    }
  })
  const exited = new Promise<void>((r) => server.once('exit', () => r()))
  try {
    const base = `http://127.0.0.1:${port}`
    for (let i = 0; ; i++) {
      try { if ((await fetch(`${base}/healthz`)).ok) break } catch { /* not up yet */ }
      if (server.exitCode !== null || i > 1200) throw new Error(`server did not start: ${log.slice(-3000)}`)
      await sleep(100)
    }
    // The facility index and heatmap columns load after listen: wait for /healthz to say the index is in.
    for (let i = 0; i < 600; i++) {
      const h = await (await fetch(`${base}/healthz`)).text()
      if (!h.includes('building')) break
      await sleep(200)
    }

    const rnd = createRandom(20261126)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd.next() * xs.length)]
    const jitter = (): number => (rnd.next() - 0.5) * 0.0004
    const tile = (lon: number, lat: number, z: number): string => {
      const n = 2 ** z
      const x = Math.floor((lon + 180) / 360 * n)
      const r = lat * Math.PI / 180
      const y = Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * n)
      return `${z}/${x}/${y}`
    }
    const leader = { authorization: `Bearer ${demoToken('leader')}` }
    const supervisor = demoToken('supervisor')
    type Route = { name: string; rate: number; connections: number; request: () => { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string } }
    // Requests per second by route: a command centre's day — map browsing (tiles) and geocoding dominate,
    // dispatchers look up components, supervisors report cases, leaders open rankings now and then.
    const routes: Route[] = [
      { name: 'GET /api/geocode', rate: 120, connections: 4, request: () => { const p = pick(cellPoints); return { method: 'GET', path: `/api/geocode?lon=${(p.lon + jitter()).toFixed(6)}&lat=${(p.lat + jitter()).toFixed(6)}`, headers: leader } } },
      { name: 'GET /tiles/cells/{z}/{x}/{y}.mvt', rate: 60, connections: 4, request: () => { const p = pick(tileCells); return { method: 'GET', path: `/tiles/cells/${tile(p.lon, p.lat, pick([12, 13, 14, 15, 16]))}.mvt`, headers: leader } } },
      { name: 'GET /tiles/facilities/{z}/{x}/{y}.mvt', rate: 30, connections: 3, request: () => { const p = pick(tileFacilities); return { method: 'GET', path: `/tiles/facilities/${tile(p.lon, p.lat, pick([15, 16, 17]))}.mvt`, headers: leader } } },
      { name: 'GET /api/facilities/nearest', rate: 40, connections: 3, request: () => { const p = pick(facilityPoints); return { method: 'GET', path: `/api/facilities/nearest?lon=${(p.lon + jitter() / 4).toFixed(6)}&lat=${(p.lat + jitter() / 4).toFixed(6)}&k=5`, headers: leader } } },
      { name: 'GET /api/facilities/owner-at', rate: 25, connections: 2, request: () => { const p = pick(facilityPoints); return { method: 'GET', path: `/api/facilities/owner-at?lon=${(p.lon + jitter() / 8).toFixed(6)}&lat=${(p.lat + jitter() / 8).toFixed(6)}`, headers: leader } } },
      { name: 'POST /api/cases', rate: 10, connections: 2, request: () => { const p = pick(cellPoints); return { method: 'POST', path: '/api/cases', headers: { 'content-type': 'application/json', authorization: `Bearer ${supervisor}`, 'idempotency-key': `load-${randomUUID()}` }, body: JSON.stringify({ matter: '11010506010', description: '压力测试 井盖缺失', point: { lon: p.lon + jitter(), lat: p.lat + jitter() } }) } } },
      { name: 'GET /api/analysis/scores?level=subdistrict', rate: 2, connections: 1, request: () => ({ method: 'GET', path: '/api/analysis/scores?level=subdistrict', headers: leader }) },
    ]
    console.log(`load: ${SECONDS} s, ${routes.reduce((a, r) => a + r.rate, 0)} req/s offered over ${routes.length} routes`)
    const tLoad = Date.now()
    // Forced collections: at the end of the warm-up (a fifth of the run), then evenly up to 97 % of it.
    const gcAt = Array.from({ length: GC_SAMPLES }, (_, i) => SECONDS * 1000 * (0.2 + (0.77 * i) / Math.max(1, GC_SAMPLES - 1)))
    const gcTimers = gcAt.map((ms) => setTimeout(() => server.kill('SIGUSR2'), ms))
    const results = await Promise.all(routes.map((r) => autocannon({
      url: base, connections: r.connections, overallRate: r.rate, duration: SECONDS, timeout: 30,
      requests: [{ setupRequest: (req) => ({ ...req, ...r.request() }) }],
    })))
    const load = loadavg()
    const wall = (Date.now() - tLoad) / 1000
    for (const t of gcTimers) clearTimeout(t)
    await sleep(300) // the last memlog lines

    console.log('\n| route | offered req/s | done req/s | requests | p50 ms | p99 ms | max ms | statuses | errors / timeouts |\n|---|---|---|---|---|---|---|---|---|')
    let fivexx = 0
    let broken = 0
    for (const [i, r] of results.entries()) {
      const statuses = Object.entries(r.statusCodeStats ?? {}).map(([code, v]) => [code, (v as { count: number }).count] as const)
      fivexx += statuses.filter(([c]) => c.startsWith('5')).reduce((a, [, n]) => a + n, 0)
      broken += r.errors + r.timeouts
      const done = statuses.reduce((a, [, n]) => a + n, 0)
      console.log(`| \`${routes[i].name}\` | ${routes[i].rate} | ${(done / r.duration).toFixed(1)} | ${done.toLocaleString('en')} | ${r.latency.p50} | ${r.latency.p99} | ${r.latency.max} | ${statuses.map(([c, n]) => `${c}: ${n}`).join(', ')} | ${r.errors} / ${r.timeouts} |`)
    }
    const total = results.reduce((a, r) => a + Object.values(r.statusCodeStats ?? {}).reduce((s, v) => s + (v as { count: number }).count, 0), 0)
    console.log(`\nall routes: ${total.toLocaleString('en')} requests in ${wall.toFixed(0)} s (${(total / wall).toFixed(0)} req/s); load average at the end ${load.map((x) => x.toFixed(2)).join(' ')}`)

    // Memory. The periodic samples show the range; the check uses the forced-collection samples: the live
    // heap and RSS at the end of the warm-up against the end of the run.
    const during = memory.filter((m) => m.t >= tLoad && m.t <= tLoad + wall * 1000)
    const periodic = during.filter((m) => !m.gc)
    const collected = during.filter((m) => m.gc)
    const mb = (b: number): string => (b / 2 ** 20).toFixed(1)
    const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`
    let memoryHeld = false
    if (periodic.length > 0) {
      console.log(`\nmemory of the server process, ${periodic.length} samples every ${SAMPLE_MS / 1000} s: RSS ${mb(Math.min(...periodic.map((m) => m.rss)))}–${mb(Math.max(...periodic.map((m) => m.rss)))} MB, heap used ${mb(Math.min(...periodic.map((m) => m.heapUsed)))}–${mb(Math.max(...periodic.map((m) => m.heapUsed)))} MB (garbage included)`)
    }
    if (collected.length >= 3) {
      const first = collected[0]
      const last = collected[collected.length - 1]
      const heapGrowth = (last.heapUsed - first.heapUsed) / 2 ** 20
      const rssGrowth = (last.rss - first.rss) / 2 ** 20
      memoryHeld = heapGrowth <= HEAP_BOUND_MB && rssGrowth <= RSS_BOUND_MB
      console.log(`live heap after a full collection, ${collected.length} times from the end of the warm-up to the end (s: heap MB / RSS MB): ${collected.map((m) => `${Math.round((m.t - tLoad) / 1000)}: ${mb(m.heapUsed)}/${mb(m.rss)}`).join(', ')}`)
      console.log(`growth from the end of the warm-up to the end: live heap ${signed(heapGrowth)} MB (bound +${HEAP_BOUND_MB}), RSS ${signed(rssGrowth)} MB (bound +${RSS_BOUND_MB}): ${memoryHeld ? 'held' : 'EXCEEDED'}`)
    } else {
      console.log(`memory: only ${collected.length} forced-collection samples (the server needs --expose-gc; LOAD_GC_SAMPLES ≥ 3)`)
    }
    const logged = log.split('\n').filter((l) => /"level":(50|60)/.test(l))
    const checks: [string, boolean, string][] = [
      ['no 5xx answers', fivexx === 0, `${fivexx} answers with 5xx`],
      ['no connection errors or timeouts', broken === 0, `${broken} connection errors or timeouts`],
      ['memory within the bound', memoryHeld, 'memory grew past the bound (or too few forced-collection samples)'],
      ['no errors in the server log', logged.length === 0, `server logged errors:\n${logged.slice(0, 5).join('\n')}`],
    ]
    for (const [name, ok, why] of checks) {
      console.log(`${ok ? 'ok' : 'not ok'} - ${name}`)
      if (!ok) { console.error(`FAIL: ${why}`); exitCode = 1 }
    }
    // The line .ci/run counts.
    console.log(`${checks.filter((c) => c[1]).length} passed, ${checks.filter((c) => !c[1]).length} failed`)
  } finally {
    server.kill('SIGTERM')
    await exited
  }
} finally {
  await scratch.drop()
}
process.exit(exitCode)
