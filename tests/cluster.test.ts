/**
 * Two server processes on one PostGIS stay consistent when the data changes
 * (server/plugins/cluster.ts, migration 012). Processes A and B are real servers
 * (server/main.ts) on one copy of the chaoyang template. A change set splitting a
 * cell is committed through A; B then geocodes points of the old cell to the new
 * cells, draws them in its tiles, gives the new cells in its facility lookups and
 * puts a new case in the new cell — within a bound. A dispatch rule added through
 * A routes B's next intake. Then B's LISTEN connection is killed
 * (pg_terminate_backend, found by its application_name) and, while it is deaf,
 * A commits another split and changes the rule: once B has connected again it
 * compares versions and catches both up.
 *
 * PostgreSQL only: two processes cannot share an embedded (PGlite) data directory
 * — it is locked to one process — so on the embedded database there is nothing to test.
 */
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { backend, testDatabase } from './helpers/db.ts'
import { demoToken } from '../fixtures/users.ts'
import { tileAt } from '../server/tiles/tile-math.ts'

if (backend !== 'postgres') {
  t.plan(0, 'two processes need a shared PostgreSQL: the embedded database is one process only (its data directory is locked); run with DATABASE_URL (npm run test:postgis)')
  process.exit(0)
}

/** How long B may take to hear of a change and refresh (it is told at commit; this is slack for a busy machine). */
const BOUND_MS = 15_000
/** B's first retry after its listener drops: long enough that A's changes surely land while B is deaf. */
const B_RETRY_MS = 6000

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const freePort = (): Promise<number> => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
})

const { db, cleanup } = await testDatabase('chaoyang')
t.teardown(cleanup)
const dbName = (await db.query<{ d: string }>('SELECT current_database() AS d')).rows[0].d
const dbUrl = new URL(process.env.DATABASE_URL as string)
dbUrl.pathname = `/${dbName}`

interface Health {
  grid_version: number | null
  facility_index: string
  cluster: { mode: string; listener: string; application_name: string | null; reconnects: number; notices: number; refreshes: number;
    last_refresh: { reason: string; changed: string[] } | null; versions: { grid: number | null; facilities: number; config: number } }
}
interface Server { name: string; base: string; proc: ChildProcess; log: () => string; health(): Promise<Health> }

async function startServer(name: string, env: Record<string, string>): Promise<Server> {
  const port = await freePort()
  const proc = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: {
      ...process.env, DATABASE_URL: dbUrl.toString(), PORT: String(port), WANGGE_SEED_FIXTURE: 'false', LOG_LEVEL: 'info',
      // The safety-net poll off: what is tested is the notices and the reconnect.
      WANGGE_CHANGES_POLL_S: '0', WANGGE_SNAPSHOT_MINUTES: '0', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  proc.stdout?.on('data', (d: Buffer) => { log += d.toString() })
  proc.stderr?.on('data', (d: Buffer) => { log += d.toString() })
  const exited = new Promise<void>((r) => proc.once('exit', () => r()))
  t.teardown(async () => { proc.kill('SIGTERM'); await exited })
  const base = `http://127.0.0.1:${port}`
  const health = async (): Promise<Health> => (await fetch(`${base}/healthz`)).json() as Promise<Health>
  return { name, base, proc, log: () => log, health }
}

/** Waits until the server answers with its indexes in and its listener listening. */
async function ready(s: Server): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      const h = await s.health()
      if (h.facility_index === 'ready' && h.cluster.listener === 'listening') return
    } catch { /* not up yet */ }
    if (s.proc.exitCode !== null || i > 900) throw new Error(`${s.name} did not start: ${s.log().slice(-3000)}`)
    await sleep(100)
  }
}

/** Polls `probe` until it holds; the milliseconds it took. */
async function within(what: string, probe: () => Promise<boolean>, boundMs = BOUND_MS): Promise<number> {
  const t0 = Date.now()
  for (;;) {
    if (await probe()) return Date.now() - t0
    if (Date.now() - t0 > boundMs) throw new Error(`${what}: not within ${boundMs} ms`)
    await sleep(50)
  }
}

const A = await startServer('A', {})
const B = await startServer('B', { WANGGE_LISTEN_RETRY_MS: String(B_RETRY_MS) })
await Promise.all([ready(A), ready(B)])

const auth = (key: string): Record<string, string> => ({ authorization: `Bearer ${demoToken(key)}` })
async function call<T>(s: Server, method: string, path: string, key: string | null, body?: unknown): Promise<{ status: number; body: T }> {
  const r = await fetch(`${s.base}${path}`, {
    method, headers: { ...(key ? auth(key) : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await r.text()
  return { status: r.status, body: (text ? JSON.parse(text) : null) as T }
}
const geocode = async (s: Server, p: { lon: number; lat: number }): Promise<string | null> =>
  (await call<{ cell?: string }>(s, 'GET', `/api/geocode?lon=${p.lon}&lat=${p.lat}`, 'leader')).body.cell ?? null
interface Hit { id: string; cell_code: string | null }
const nearestCell = async (s: Server, f: { id: string; lon: number; lat: number }): Promise<string | null> => {
  const r = await call<{ engine: string; facilities: Hit[] }>(s, 'GET', `/api/facilities/nearest?lon=${f.lon}&lat=${f.lat}&k=5`, 'leader')
  return r.body.facilities.find((h) => h.id === f.id)?.cell_code ?? null
}
async function tileCodes(s: Server, p: { lon: number; lat: number }): Promise<string[]> {
  const { z, x, y } = tileAt(p.lon, p.lat, 16)
  const r = await fetch(`${s.base}/tiles/cells/${z}/${x}/${y}.mvt`)
  if (r.status === 204) return []
  const layer = new VectorTile(new PbfReader(new Uint8Array(await r.arrayBuffer()))).layers.cells
  return Array.from({ length: layer?.length ?? 0 }, (_, i) => String(layer.feature(i).properties.code)).sort()
}
interface CaseOut { case: { id: number; location: { cell: string; grid_version: number | null }; units: { org: string; rule_id: number | null }[] } }
const intake = async (s: Server, p: { lon: number; lat: number }): Promise<CaseOut['case']> => {
  const r = await call<CaseOut>(s, 'POST', '/api/cases', 'supervisor', { matter: '11010506010', description: '集群测试 井盖缺失', point: { lon: p.lon, lat: p.lat } })
  if (r.status !== 201 && r.status !== 200) throw new Error(`intake on ${s.name}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body.case
}

/** A cell with point components on both sides of a north–south line, and the split of it along that line. */
async function pickSplit(skip: string[]): Promise<{ cell: string; line: { type: 'LineString'; coordinates: number[][] }; facilities: { id: string; lon: number; lat: number }[] }> {
  const cells = (await db.query<{ code: string; xmin: number; ymin: number; xmax: number; ymax: number; lons: number[] }>(`
    SELECT c.code, ST_XMin(c.geom) AS xmin, ST_YMin(c.geom) AS ymin, ST_XMax(c.geom) AS xmax, ST_YMax(c.geom) AS ymax,
      array_agg(ST_X(f.geom) ORDER BY ST_X(f.geom)) AS lons
    FROM cells c JOIN facilities f ON f.cell_code = c.code AND GeometryType(f.geom) = 'POINT'
    WHERE NOT (c.code = ANY($1::text[])) AND ST_NumGeometries(c.geom) = 1 AND ST_NumInteriorRings(ST_GeometryN(c.geom, 1)) = 0
    GROUP BY c.code, c.geom HAVING count(*) >= 4 ORDER BY count(*) DESC, c.code LIMIT 20`, [skip])).rows
  for (const c of cells) {
    // Between the two middle components, so both parts hold some.
    const mid = Math.floor(c.lons.length / 2)
    const x = (c.lons[mid - 1] + c.lons[mid]) / 2
    if (c.lons[mid] - c.lons[mid - 1] < 2e-6) continue
    const line = { type: 'LineString' as const, coordinates: [[x, c.ymax + 0.0005], [x, c.ymin - 0.0005]] }
    const facilities = (await db.query<{ id: string; lon: number; lat: number }>(
      `SELECT id::text, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM facilities WHERE cell_code = $1 AND GeometryType(geom) = 'POINT' ORDER BY id`, [c.code])).rows
    return { cell: c.code, line, facilities }
  }
  throw new Error('no cell to split')
}

async function commitSplit(via: Server, split: Awaited<ReturnType<typeof pickSplit>>, title: string): Promise<{ version: number; added: string[] }> {
  const cs = await call<{ id: number }>(via, 'POST', '/api/changesets', 'planner', { title, min_area_m2: 1, max_area_m2: 100_000_000 })
  if (cs.status !== 201) throw new Error(`changeset: ${JSON.stringify(cs.body)}`)
  const op = await call<unknown>(via, 'POST', `/api/changesets/${cs.body.id}/operations`, 'planner', { type: 'split', cell: split.cell, line: split.line })
  if (op.status !== 201) throw new Error(`split: ${JSON.stringify(op.body)}`)
  const c = await call<{ version: number; added: string[]; retired: string[] }>(via, 'POST', `/api/changesets/${cs.body.id}/commit`, 'planner', {})
  if (c.status !== 201) throw new Error(`commit: ${JSON.stringify(c.body)}`)
  return c.body
}

const first = await pickSplit([])
const probe = first.facilities

t.test('a change set committed through A reaches B: geocoding, tiles, facility lookups, intake', async (t) => {
  t.equal(await geocode(B, probe[0]), first.cell, 'before: B geocodes into the cell to be split')
  t.ok((await tileCodes(B, probe[0])).includes(first.cell), 'before: B\'s tile draws it')
  const before = await B.health()

  const committed = await commitSplit(A, first, '集群测试 拆分')
  const t0 = Date.now()
  t.equal(committed.added.length, 2, `split into ${committed.added.join(', ')}`)
  const expected = await Promise.all(probe.map((p) => geocode(A, p)))
  t.ok(expected.every((c) => c !== null && committed.added.includes(c)), 'A (which committed) puts every component\'s point in a new cell')
  t.equal(new Set(expected).size, 2, 'components on both sides of the line')

  const ms = await within('B geocodes into the new cells', async () => (await Promise.all(probe.map((p) => geocode(B, p)))).every((c, i) => c === expected[i]))
  t.comment(`B answered with the new cells ${ms} ms after A's commit returned (${Date.now() - t0} ms)`)
  t.ok(ms < BOUND_MS, `B geocodes every point as A does within ${BOUND_MS} ms (${ms} ms)`)

  const stored = new Map((await db.query<{ id: string; cell_code: string }>('SELECT id::text, cell_code FROM facilities WHERE id::text = ANY($1::text[])', [probe.map((f) => f.id)])).rows.map((r) => [r.id, r.cell_code]))
  t.ok(probe.every((f) => committed.added.includes(stored.get(f.id) ?? '')), 'the commit moved the components to the new cells')
  await within('B\'s facility lookups give the new cells', async () => (await Promise.all(probe.map((f) => nearestCell(B, f)))).every((c, i) => c === stored.get(probe[i].id)))
  t.pass('B\'s nearest-component lookups give each component\'s new cell')
  for (const code of committed.added) {
    const inCell = await call<{ engine: string; facilities: Hit[] }>(B, 'GET', `/api/facilities/in-cell/${code}`, 'leader')
    const want = probe.filter((f) => stored.get(f.id) === code).map((f) => f.id)
    t.same(inCell.body.facilities.map((h) => h.id).filter((id) => want.includes(id)).sort(), [...want].sort(), `B lists the components now in ${code} (${inCell.body.engine})`)
  }

  const codes = await tileCodes(B, probe[0])
  t.ok(committed.added.some((c) => codes.includes(c)) && !codes.includes(first.cell), 'B\'s cells tile draws the new cells, not the retired one')

  const c = await intake(B, probe[0])
  t.equal(c.location.cell, expected[0], 'a case reported through B goes to the new cell')
  t.equal(c.location.grid_version, committed.version, 'under the new grid version')

  const after = await B.health()
  t.equal(after.cluster.versions.grid, committed.version, 'B\'s /healthz holds the new grid version')
  t.ok(after.cluster.notices > before.cluster.notices, 'B heard A\'s notice')
  t.equal(after.cluster.last_refresh?.reason.startsWith('notice:'), true, `refreshed on a notice (${after.cluster.last_refresh?.reason})`)
  const a = await A.health()
  t.equal(a.cluster.refreshes, 0, 'A skipped the notice of its own commit (it refreshed when it committed)')
})

/** The bound on other processes' case and facility writes reaching a process's tiles: the tiles' data versions are read at most this long apart (server/tiles/service.ts). */
const TILE_VERSION_TTL_MS = 1000

t.test('a case reported through A is in B\'s cached case tile within the tiles\' version bound', async (t) => {
  const p = probe[2] ?? probe[0]
  const { z, x, y } = tileAt(p.lon, p.lat, 16)
  const caseIds = async (): Promise<number[]> => {
    const r = await fetch(`${B.base}/tiles/cases/${z}/${x}/${y}.mvt`, { headers: auth('leader') })
    if (r.status === 204) return []
    const layer = new VectorTile(new PbfReader(new Uint8Array(await r.arrayBuffer()))).layers.cases
    return Array.from({ length: layer?.length ?? 0 }, (_, i) => Number(layer.feature(i).properties.id))
  }
  await caseIds()
  await caseIds() // cached in B now
  // A different matter from the intakes above, so the duplicate check does not fold it into one of them.
  const r = await call<CaseOut>(A, 'POST', '/api/cases', 'supervisor', { matter: '11010506012', description: '集群测试 (tile)', point: { lon: p.lon, lat: p.lat } })
  t.ok(r.status === 201 || r.status === 200, `reported through A (${r.status})`)
  const id = r.body.case.id
  const ms = await within('B\'s tile shows the case', async () => (await caseIds()).includes(id), 10_000)
  t.comment(`B's case tile held case ${id} ${ms} ms after A answered (bound ${TILE_VERSION_TTL_MS} ms plus a render)`)
  t.ok(ms <= TILE_VERSION_TTL_MS + 2000, `within the bound and a render's slack (${ms} ms)`)
})

const orgs = (await db.query<{ uscc: string }>(`SELECT uscc FROM organisations WHERE kind <> 'command_centre' ORDER BY uscc LIMIT 2`)).rows.map((r) => r.uscc)
const rule = { name: '集群测试 协办', priority: 1, role: 'assist', matter_prefixes: ['11010506010'], subdistricts: [], channels: [], target: 'organisation', active: true, note: null }
let ruleId = 0

t.test('a dispatch rule added through A routes B\'s next intake', async (t) => {
  const r = await call<{ id: number }>(A, 'POST', '/api/dispatch-rules', 'admin', { ...rule, org: orgs[0] })
  t.equal(r.status, 201, JSON.stringify(r.body))
  ruleId = r.body.id
  const revision = (await db.query<{ r: string }>('SELECT revision AS r FROM case_settings')).rows[0].r
  const ms = await within('B holds the new configuration', async () => (await B.health()).cluster.versions.config === Number(revision))
  t.comment(`B reloaded the configuration ${ms} ms after A's answer`)
  const c = await intake(B, probe[1])
  t.ok(c.units.some((u) => u.org === orgs[0] && u.rule_id === ruleId), `B routes the case to ${orgs[0]} by rule ${ruleId}`)
})

t.test('B\'s listener killed: changes made while it is deaf are caught up once it connects again', async (t) => {
  const h0 = await B.health()
  const name = h0.cluster.application_name
  t.match(name, /^wangge-listen\//, `B's listener is named ${name}`)
  const killed = (await db.query<{ ok: boolean }>('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [name])).rows
  t.same(killed, [{ ok: true }], 'exactly one connection terminated')
  await within('B notices its listener is gone', async () => (await B.health()).cluster.listener !== 'listening', 5000)
  const deafAt = Date.now()

  // While B is deaf (it waits ≈ B_RETRY_MS before connecting again): another split, and the rule sends elsewhere.
  const second = await pickSplit([first.cell])
  const committed = await commitSplit(A, second, '集群测试 拆分 二')
  const put = await call<unknown>(A, 'PUT', `/api/dispatch-rules/${ruleId}`, 'admin', { ...rule, org: orgs[1] })
  t.equal(put.status, 200, JSON.stringify(put.body))
  const mid = await B.health()
  t.not(mid.cluster.listener, 'listening', `the changes were made while B was deaf (${Date.now() - deafAt} ms after the kill)`)
  t.equal(await geocode(B, second.facilities[0]), second.cell, 'B still answers with the old cell meanwhile')

  const expected = await geocode(A, second.facilities[0])
  // A refresh runs the grid's listeners one after another (the geocoder first): wait for the whole of it.
  const ms = await within('B catches up', async () => (await B.health()).cluster.refreshes > h0.cluster.refreshes, B_RETRY_MS * 1.25 + BOUND_MS)
  t.comment(`B caught up ${ms} ms after the changes (its listener waited ≈ ${B_RETRY_MS} ms before connecting again)`)
  t.equal(await geocode(B, second.facilities[0]), expected, 'B geocodes into the cell committed while it was deaf')
  const h = await B.health()
  t.equal(h.cluster.listener, 'listening', 'listening again')
  t.equal(h.cluster.reconnects, 1, 'after one reconnect')
  t.equal(h.cluster.last_refresh?.reason, 'reconnect', `the comparison after reconnecting did it (no notice was heard): ${JSON.stringify(h.cluster)}`)
  t.ok(['grid', 'config'].every((k) => h.cluster.last_refresh?.changed.includes(k)), `grid and configuration caught up (${h.cluster.last_refresh?.changed.join(', ')})`)
  t.equal(h.cluster.versions.grid, committed.version, 'B holds the second grid version')
  const c = await intake(B, second.facilities[0])
  t.equal(c.location.cell, expected, 'B\'s intake uses the grid committed while it was deaf')
  t.ok(c.units.some((u) => u.org === orgs[1] && u.rule_id === ruleId), 'and the rule changed while it was deaf')
  t.notOk(c.units.some((u) => u.org === orgs[0] && u.rule_id === ruleId), 'not the rule as it was')
})

t.test('no errors in either server\'s log', async (t) => {
  for (const s of [A, B]) {
    t.notMatch(s.log(), /"level":(50|60)/, `${s.name}: nothing logged at error level`)
    for (const l of s.log().split('\n').filter((x) => /"level":40/.test(x))) t.comment(`${s.name} warned: ${l.slice(0, 400)}`)
  }
})
