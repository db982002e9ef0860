/**
 * PostgreSQL restarts in the middle of a load of case intakes.
 *
 * The server runs as its own process on a copy of the chaoyang template;
 * CLIENTS clients report cases, each with an Idempotency-Key, retrying the same
 * key on a network error or 5xx until they get an answer (what the phone app
 * does). PostgreSQL is restarted while they do. Afterwards: every acknowledged
 * report is stored exactly once, with its case, its first event and nothing
 * half-written; the pool reconnected by itself; /healthz said 503 during the
 * outage and 200 after. PostgreSQL only (DATABASE_URL); restarts the local
 * cluster (pg_ctlcluster), so it is not part of `npm test`.
 */
import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { randomUUID } from 'node:crypto'
import { testDatabase } from '../helpers/db.ts'
import { demoToken } from '../../fixtures/users.ts'

const URL_BASE = process.env.DATABASE_URL
if (!URL_BASE) {
  t.comment('PostgreSQL only: set DATABASE_URL')
  process.exit(0)
}
const CLIENTS = Number(process.env.FAULT_CLIENTS ?? 8)
const SECONDS = Number(process.env.FAULT_SECONDS ?? 12)
const CLUSTER = process.env.FAULT_PG_CLUSTER ?? '15 main'
const DOWN_MS = Number(process.env.FAULT_DOWN_MS ?? 4000)

const freePort = (): Promise<number> => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
})
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

const { db, cleanup } = await testDatabase('chaoyang')
t.teardown(cleanup)
const dbName = (await db.query<{ d: string }>('SELECT current_database() AS d')).rows[0].d
const url = new URL(URL_BASE)
url.pathname = `/${dbName}`
const port = await freePort()
const server = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
  env: { ...process.env, DATABASE_URL: url.toString(), PORT: String(port), WANGGE_SEED_FIXTURE: 'false', LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'pipe'],
})
let serverLog = ''
server.stderr.on('data', (d: Buffer) => { serverLog += d.toString() })
t.teardown(() => { server.kill('SIGTERM') })
const base = `http://127.0.0.1:${port}`
for (let i = 0; ; i++) {
  try { if ((await fetch(`${base}/healthz`)).ok) break } catch { /* not up yet */ }
  if (i > 600) throw new Error(`server did not start: ${serverLog.slice(-2000)}`)
  await sleep(100)
}

const points = (await db.query<{ lon: number; lat: number }>(`SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT ST_PointOnSurface(geom) AS p FROM cells ORDER BY code) x`)).rows
const token = demoToken('supervisor')
const supervisorId = (await db.query<{ id: number }>('SELECT id FROM users WHERE token_hash = sha256($1::bytea)', [Buffer.from(token)])).rows[0].id
const t0 = Date.now()
const acknowledged = new Map<string, number>()
let attempts = 0
let retried = 0
let running = true
/** Answers other than 200/201 the clients got, by status (0: no answer). */
const statuses = new Map<number, number>()
const health: { at: number; status: number }[] = []

async function client(n: number): Promise<void> {
  let i = 0
  while (running) {
    const key = `fault-${n}-${i}-${randomUUID()}`
    const p = points[(n * 7919 + i * 104729) % points.length]
    const body = JSON.stringify({ matter: '11010506010', description: `故障测试 ${n}-${i}`, point: { lon: p.lon, lat: p.lat } })
    for (let attempt = 0; ; attempt++) {
      attempts++
      try {
        const r = await fetch(`${base}/api/cases`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': key }, signal: AbortSignal.timeout(20_000) })
        if (r.status === 200 || r.status === 201) {
          const j = await r.json() as { case: { id: number } }
          acknowledged.set(key, j.case.id)
          break
        }
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
        if (r.status < 500) throw new Error(`intake refused: ${r.status} ${await r.text()}`)
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('intake refused')) throw err
        if (!(err instanceof Error && /^5/.test(err.message))) statuses.set(0, (statuses.get(0) ?? 0) + 1)
      }
      retried++
      if (attempt > 300) throw new Error(`gave up on ${key}`)
      await sleep(200)
    }
    i++
  }
}

async function poll(): Promise<void> {
  while (running) {
    try { health.push({ at: Date.now() - t0, status: (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) })).status }) } catch { health.push({ at: Date.now() - t0, status: 0 }) }
    await sleep(100)
  }
}

const work = [...Array.from({ length: CLIENTS }, (_, n) => client(n)), poll()]
await sleep(2500)
const before = acknowledged.size
const tRestart = Date.now() - t0
// Stop, stay down a few seconds (a restart alone can be shorter than one request), start.
execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', ...CLUSTER.split(' '), 'stop', '-m', 'fast'], { stdio: 'inherit' })
await sleep(DOWN_MS)
execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', ...CLUSTER.split(' '), 'start'], { stdio: 'inherit' })
const tBack = Date.now() - t0
await sleep(Math.max(0, SECONDS * 1000 - (Date.now() - t0)))
running = false
await Promise.all(work)
const last = await fetch(`${base}/healthz`)

// The test's own connection died with the restart: open a fresh one.
const check = (await import('pg')).default
const c = new check.Client({ connectionString: url.toString() })
await c.connect()
t.teardown(() => c.end())
const keys = [...acknowledged.keys()]
const stored = (await c.query<{ idempotency_key: string; n: number; case_id: string }>(
  'SELECT idempotency_key, count(*)::int AS n, min(case_id)::text AS case_id FROM case_reports WHERE reporter_id = $1 AND idempotency_key = ANY($2::text[]) GROUP BY idempotency_key', [supervisorId, keys])).rows
const byKey = new Map(stored.map((r) => [r.idempotency_key, r]))
let lost = 0
let duplicated = 0
let wrongCase = 0
for (const [k, id] of acknowledged) {
  const r = byKey.get(k)
  if (!r) lost++
  else {
    if (r.n !== 1) duplicated++
    if (Number(r.case_id) !== id) wrongCase++
  }
}
const halfWritten = (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM cases c
  WHERE c.reported_at >= now() - interval '10 minutes'
    AND (NOT EXISTS (SELECT 1 FROM case_reports r WHERE r.case_id = c.id) OR NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id))`)).rows[0].n
const strays = (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM case_reports WHERE reporter_id = $1 AND idempotency_key LIKE 'fault-%' AND NOT (idempotency_key = ANY($2::text[]))`, [supervisorId, keys])).rows[0].n
const outage = health.filter((h) => h.status !== 200)
const summary = { acknowledged: acknowledged.size, before_restart: before, stored: stored.length, duplicated, lost, wrong_case: wrongCase, half_written: halfWritten,
  unacknowledged_but_stored: strays, attempts, retries: retried, client_errors: Object.fromEntries(statuses), restart_ms: [tRestart, tBack], health_non_200: outage.length, health_statuses: [...new Set(outage.map((h) => h.status))] }
// Everything awaited is in before the assertions: tap ends a test that has a teardown on its own
// once it sits idle for two timer ticks after an assertion, so an await between assertions races it.
// The change listener (server/plugins/cluster.ts) lost its LISTEN connection with the restart and makes it again,
// backing off 0.5 s doubling to 30 s while PostgreSQL is down: within that bound after it is back.
let listener: { listener: string; reconnects: number } | undefined
for (let i = 0; i < 350; i++) {
  listener = ((await (await fetch(`${base}/healthz`)).json()) as { cluster?: { listener: string; reconnects: number } }).cluster
  if (listener?.listener === 'listening' && listener.reconnects > 0) break
  await sleep(100)
}

t.comment(JSON.stringify(summary))
t.ok(acknowledged.size > before, `intakes went on after the restart (${before} → ${acknowledged.size})`)
t.equal(lost, 0, 'no acknowledged report lost')
t.equal(duplicated, 0, 'none stored twice')
t.equal(wrongCase, 0, 'each under the case it was acknowledged with')
t.equal(halfWritten, 0, 'no case without its report and first event')
t.ok(outage.some((h) => h.status === 503), `/healthz answered 503 during the outage (${summary.health_statuses.join(',')})`)
t.equal(last.status, 200, '/healthz is 200 again: the pool reconnected by itself')
t.ok(retried > 0 && (statuses.get(503) ?? 0) > 0, 'clients saw the outage as 503 and retried')
t.notOk(statuses.has(500), 'no 500 during the outage')
t.notMatch(serverLog, /"level":(50|60).*unhandled error/, 'no unhandled errors in the server log')

t.match(listener, { listener: 'listening' }, 'the change listener is listening again after the restart')
t.ok((listener?.reconnects ?? 0) >= 1, `it connected again by itself (${listener?.reconnects} reconnect(s))`)
