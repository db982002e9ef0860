/**
 * Load: the server (server/main.ts, its own process) on a scratch PostGIS
 * database loaded with the fixtures, and autocannon on loopback sending a
 * mix at fixed rates for LOAD_SECONDS (default 300): geocoding, case intake
 * (supervisor, unique Idempotency-Keys), facility lookups (nearest, owner-at),
 * vector tiles (cells, facilities) and rankings (leader). Per route:
 * throughput, p50/p99, status counts. Memory of the server process (RSS and
 * heap, sampled every LOAD_SAMPLE_MS) against a stated bound. Exits 1 on any
 * 5xx or connection error, or when memory grows past the bound.
 *
 * Full run: `npm run bench -- load` (or `npx tsx tests/bench/load.ts`), 300 s.
 * Short run (CI, .ci/run): `npx tsx tests/bench/load.ts --seconds 30` — the same
 * mix and checks, memory sampled every second; ends with "N passed, N failed".
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
/** Growth allowed after warm-up (a fifth of the run), first third of the samples to the last: heap floor and mean RSS. */
const HEAP_BOUND_MB = Number(process.env.LOAD_HEAP_BOUND_MB ?? 64)
const RSS_BOUND_MB = Number(process.env.LOAD_RSS_BOUND_MB ?? 128)
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
  console.log(`fixtures loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${cellPoints.length} cells, ${facilityPoints.length} facility points sampled`)

  const port = await freePort()
  const server = spawn(process.execPath, ['--import', 'tsx', '--import', './tests/bench/_memlog.ts', 'server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: scratch.url, WANGGE_DATA_DIR: '', PORT: String(port), HOST: '127.0.0.1', WANGGE_SEED_FIXTURE: 'false', LOG_LEVEL: 'warn', WANGGE_MEMLOG_MS: String(SAMPLE_MS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  const memory: { t: number; rss: number; heapUsed: number }[] = []
  let partial = ''
  server.stdout.on('data', (d: Buffer) => { log += d.toString() })
  server.stderr.on('data', (d: Buffer) => {
    partial += d.toString()
    const lines = partial.split('\n')
    partial = lines.pop() ?? ''
    for (const l of lines) {
      if (l.startsWith('memlog ')) memory.push(JSON.parse(l.slice(7)) as { t: number; rss: number; heapUsed: number })
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
      { name: 'GET /tiles/cells/{z}/{x}/{y}.mvt', rate: 60, connections: 4, request: () => { const p = pick(cellPoints); return { method: 'GET', path: `/tiles/cells/${tile(p.lon, p.lat, pick([12, 13, 14, 15, 16]))}.mvt`, headers: leader } } },
      { name: 'GET /tiles/facilities/{z}/{x}/{y}.mvt', rate: 30, connections: 3, request: () => { const p = pick(facilityPoints); return { method: 'GET', path: `/tiles/facilities/${tile(p.lon, p.lat, pick([15, 16, 17]))}.mvt`, headers: leader } } },
      { name: 'GET /api/facilities/nearest', rate: 40, connections: 3, request: () => { const p = pick(facilityPoints); return { method: 'GET', path: `/api/facilities/nearest?lon=${(p.lon + jitter() / 4).toFixed(6)}&lat=${(p.lat + jitter() / 4).toFixed(6)}&k=5`, headers: leader } } },
      { name: 'GET /api/facilities/owner-at', rate: 25, connections: 2, request: () => { const p = pick(facilityPoints); return { method: 'GET', path: `/api/facilities/owner-at?lon=${(p.lon + jitter() / 8).toFixed(6)}&lat=${(p.lat + jitter() / 8).toFixed(6)}`, headers: leader } } },
      { name: 'POST /api/cases', rate: 10, connections: 2, request: () => { const p = pick(cellPoints); return { method: 'POST', path: '/api/cases', headers: { 'content-type': 'application/json', authorization: `Bearer ${supervisor}`, 'idempotency-key': `load-${randomUUID()}` }, body: JSON.stringify({ matter: '11010506010', description: '压力测试 井盖缺失', point: { lon: p.lon + jitter(), lat: p.lat + jitter() } }) } } },
      { name: 'GET /api/analysis/scores?level=subdistrict', rate: 2, connections: 1, request: () => ({ method: 'GET', path: '/api/analysis/scores?level=subdistrict', headers: leader }) },
    ]
    console.log(`load: ${SECONDS} s, ${routes.reduce((a, r) => a + r.rate, 0)} req/s offered over ${routes.length} routes`)
    const tLoad = Date.now()
    const results = await Promise.all(routes.map((r) => autocannon({
      url: base, connections: r.connections, overallRate: r.rate, duration: SECONDS, timeout: 30,
      requests: [{ setupRequest: (req) => ({ ...req, ...r.request() }) }],
    })))
    const load = loadavg()
    const wall = (Date.now() - tLoad) / 1000

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

    // Memory: the heap swings with garbage collection, so compare floors: after warm-up (a fifth of the
    // run), the first third of the samples against the last third — the lowest heap and the mean RSS of each.
    const during = memory.filter((m) => m.t >= tLoad && m.t <= tLoad + wall * 1000)
    const warm = during.filter((m) => m.t >= tLoad + wall * 200)
    const mb = (b: number): string => (b / 2 ** 20).toFixed(1)
    let memoryHeld = false
    if (warm.length >= 6) {
      const third = Math.floor(warm.length / 3)
      const head = warm.slice(0, third)
      const tail = warm.slice(-third)
      const floor = (xs: typeof warm): number => Math.min(...xs.map((m) => m.heapUsed))
      const meanRss = (xs: typeof warm): number => xs.reduce((a, m) => a + m.rss, 0) / xs.length
      const heapGrowth = (floor(tail) - floor(head)) / 2 ** 20
      const rssGrowth = (meanRss(tail) - meanRss(head)) / 2 ** 20
      memoryHeld = heapGrowth <= HEAP_BOUND_MB && rssGrowth <= RSS_BOUND_MB
      console.log(`\nmemory of the server process, ${during.length} samples every ${SAMPLE_MS / 1000} s: RSS ${mb(Math.min(...during.map((m) => m.rss)))}–${mb(Math.max(...during.map((m) => m.rss)))} MB, heap used ${mb(Math.min(...during.map((m) => m.heapUsed)))}–${mb(Math.max(...during.map((m) => m.heapUsed)))} MB`)
      console.log(`after warm-up, first third → last third of the samples: heap floor ${mb(floor(head) * 1)} → ${mb(floor(tail))} MB (${heapGrowth >= 0 ? '+' : ''}${heapGrowth.toFixed(1)}, bound +${HEAP_BOUND_MB}), mean RSS ${mb(meanRss(head))} → ${mb(meanRss(tail))} MB (${rssGrowth >= 0 ? '+' : ''}${rssGrowth.toFixed(1)}, bound +${RSS_BOUND_MB}): ${memoryHeld ? 'held' : 'EXCEEDED'}`)
      console.log(`samples (s: RSS MB / heap MB): ${during.map((m) => `${Math.round((m.t - tLoad) / 1000)}: ${mb(m.rss)}/${mb(m.heapUsed)}`).join(', ')}`)
    } else {
      console.log(`memory: only ${warm.length} samples after warm-up; run longer (LOAD_SECONDS) or sample more often (LOAD_SAMPLE_MS)`)
    }
    const logged = log.split('\n').filter((l) => /"level":(50|60)/.test(l))
    const checks: [string, boolean, string][] = [
      ['no 5xx answers', fivexx === 0, `${fivexx} answers with 5xx`],
      ['no connection errors or timeouts', broken === 0, `${broken} connection errors or timeouts`],
      ['memory within the bound', memoryHeld, 'memory grew past the bound (or too few samples)'],
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
