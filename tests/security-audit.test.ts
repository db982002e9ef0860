/**
 * The audit log: every POST/PUT/PATCH/DELETE that reached a route — done or
 * refused — is one row with who, role, route, target, status, time and the
 * request id the answer carried; admins query it with filters; nobody edits it.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { createUser } from '../fixtures/users.ts'
import { AuditRepository } from '../server/repositories/audit.ts'

const ctx = await testApp('empty')
t.teardown(() => ctx.close())
const { app, db } = ctx

const admin = await createUser(db, 'admin', { name: '审计管理员' })
const leader = await createUser(db, 'leader', { name: '领导' })
const as = (u: { token: string }): Record<string, string> => ({ authorization: `Bearer ${u.token}` })

interface Row { id: number; at: string; request_id: string; user_id: number | null; user_name: string | null; role: string | null; method: string; route: string; path: string; target: string | null; status: number; duration_ms: number }

/** The audit row of a request, waiting for the hook that writes it after the answer. */
async function rowOf(requestId: string): Promise<Row> {
  for (let i = 0; i < 100; i++) {
    const r = await db.query<Row>('SELECT id::int AS id, at, request_id, user_id, user_name, role, method, route, path, target, status::int AS status, duration_ms FROM audit_log WHERE request_id = $1', [requestId])
    if (r.rows.length) return r.rows[0]
    await new Promise((res) => setTimeout(res, 20))
  }
  throw new Error(`no audit row for ${requestId}`)
}

t.test('writes are audited, refusals too; reads are not', async (t) => {
  const before = Date.now()
  const made = await app.inject({ method: 'POST', url: '/api/users', headers: as(admin), payload: { name: '新监督员', role: 'supervisor' } })
  t.equal(made.statusCode, 201)
  const newId = String(made.json().user.id)
  const a = await rowOf(String(made.headers['x-request-id']))
  t.match(a, { user_id: admin.id, user_name: '审计管理员', role: 'admin', method: 'POST', route: 'POST /api/users', path: '/api/users', target: newId, status: 201 })
  t.ok(new Date(a.at).getTime() >= before - 1000, 'time of the request')

  const patched = await app.inject({ method: 'PATCH', url: `/api/users/${newId}`, headers: as(admin), payload: { active: false } })
  t.equal(patched.statusCode, 200)
  t.match(await rowOf(String(patched.headers['x-request-id'])), { route: 'PATCH /api/users/:id', target: newId, status: 200 })

  const refused = await app.inject({ method: 'POST', url: '/api/users', headers: as(leader), payload: { name: 'x', role: 'admin' } })
  t.equal(refused.statusCode, 403)
  t.match(await rowOf(String(refused.headers['x-request-id'])), { user_id: leader.id, role: 'leader', status: 403, target: null })

  const anon = await app.inject({ method: 'DELETE', url: '/api/dispatch-rules/7?api_key=secret-in-query' })
  t.equal(anon.statusCode, 401)
  const anonRow = await rowOf(String(anon.headers['x-request-id']))
  t.match(anonRow, { user_id: null, role: null, route: 'DELETE /api/dispatch-rules/:id', target: '7', status: 401 })
  t.equal(anonRow.path, '/api/dispatch-rules/7', 'the query string (Open311 api_key can travel there) is not kept')

  const read = await app.inject({ url: '/api/users', headers: as(admin) })
  t.equal(read.statusCode, 200)
  await new Promise((res) => setTimeout(res, 100))
  await app.audit.flush()
  t.equal((await db.query('SELECT count(*)::int AS n FROM audit_log WHERE request_id = $1', [String(read.headers['x-request-id'])])).rows[0].n, 0, 'reads are not audited')
  const nowhere = await app.inject({ method: 'POST', url: '/api/no-such-route', payload: {} })
  t.equal(nowhere.statusCode, 404)
  await new Promise((res) => setTimeout(res, 100))
  await app.audit.flush()
  t.equal((await db.query('SELECT count(*)::int AS n FROM audit_log WHERE request_id = $1', [String(nowhere.headers['x-request-id'])])).rows[0].n, 0, 'a path that is no route is not a mutating action')
})

t.test('admins query it with filters; no one else', async (t) => {
  const q = async (qs: string): Promise<Row[]> => {
    const r = await app.inject({ url: `/api/audit?${qs}`, headers: as(admin) })
    t.equal(r.statusCode, 200, `${qs}: ${r.body.slice(0, 200)}`)
    return (r.json() as { items: Row[] }).items
  }
  const all = await q('')
  t.ok(all.length >= 4)
  t.ok(all.every((r, i) => i === 0 || all[i - 1].id > r.id), 'newest first')
  t.ok((await q(`user=${leader.id}`)).every((r) => r.user_id === leader.id))
  t.equal((await q(`user=${leader.id}`)).length, 1)
  t.ok((await q('status_class=4')).every((r) => r.status >= 400 && r.status < 500))
  t.equal((await q('status=401&method=DELETE')).length, 1)
  const byRoute = await q(`route=${encodeURIComponent('PATCH /api/users/:id')}`)
  t.equal(byRoute.length, 1)
  t.equal((await q(`target=${byRoute[0].target}`)).length, 2, 'the user made, then patched')
  t.equal((await q('role=admin')).length, (await q(`user=${admin.id}`)).length)
  const page1 = await q('limit=2')
  const page2 = await q(`limit=2&before=${page1[1].id}`)
  t.ok(page2.every((r) => r.id < page1[1].id), 'pages by id')
  t.equal((await q(`from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`)).length, 0)
  t.equal((await app.inject({ url: '/api/audit', headers: as(leader) })).statusCode, 403)
  t.equal((await app.inject({ url: '/api/audit' })).statusCode, 401)
  t.equal((await app.inject({ url: '/api/audit?limit=100000', headers: as(admin) })).statusCode, 400)
  t.equal((await app.inject({ url: `/api/audit?route=${encodeURIComponent("x' OR 1=1 --")}`, headers: as(admin) })).json().items.length, 0, 'filters are parameters, not SQL')
})

t.test('rows are written in batches, in the order requests were answered, and wait while the database fails', async (t) => {
  const before = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log')).rows[0].n
  const ids: string[] = []
  for (let i = 0; i < 30; i++) {
    const r = await app.inject({ method: 'PATCH', url: '/api/users/999999', headers: as(leader), payload: { active: false } })
    ids.push(String(r.headers['x-request-id']))
  }
  await app.audit.flush()
  const rows = (await db.query<{ request_id: string }>('SELECT request_id FROM audit_log ORDER BY id DESC LIMIT 30')).rows.map((r) => r.request_id).reverse()
  t.same(rows, ids, 'every request once, in order')
  t.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log')).rows[0].n, before + 30)

  // A batch the database refuses is kept and written later, not lost.
  const failing = new AuditRepository({ query: async () => { throw new Error('connection refused') } })
  failing.write({ at: new Date(), requestId: 'r1', userId: null, userName: null, role: null, method: 'POST', route: 'POST /x', path: '/x', target: null, status: 200, ip: null, durationMs: 1 })
  await failing.flush()
  t.equal(failing.pending, 1, 'the failed row waits')
})

t.test('append-only', async (t) => {
  await t.rejects(db.query("UPDATE audit_log SET status = 200 WHERE status = 403"), /append-only/)
  await t.rejects(db.query('DELETE FROM audit_log'), /append-only/)
})
