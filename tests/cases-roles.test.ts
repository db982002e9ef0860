/**
 * Every route × every role: 401 without a token, 403 for a role that may not,
 * anything else for one that may. Steps of the loop: every action × every role
 * it is not for is 403 forbidden_role before anything else is looked at.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { auth, component, upload } from './helpers/cases.ts'
import { ACTIONS, MACHINE } from '../server/cases/machine.ts'
import { ROLES, type Role } from '../server/cases/roles.ts'
import { DEMO_SUBDISTRICT, createUser } from '../fixtures/users.ts'
import { fixtureOrganisations } from '../fixtures/organisations.ts'

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { app, db } = ctx

const KEY: Record<Role, string> = {
  resident: 'resident', supervisor: 'supervisor', command_centre: 'operator', dispatcher: 'dispatcher',
  handler: 'power', planner: 'planner', leader: 'leader', admin: 'admin',
}
const ALL = [...ROLES]
const STAFF: Role[] = ['supervisor', 'command_centre', 'dispatcher', 'handler', 'planner', 'leader', 'admin']
const REPORTERS: Role[] = ['resident', 'supervisor', 'command_centre', 'handler']

interface Probe {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  url: string | (() => Promise<string>)
  body?: unknown | (() => Promise<unknown>)
  roles: Role[] | 'public'
  headers?: Record<string, string>
}

const bin = await component(db, '03005', DEMO_SUBDISTRICT, 2)
const someCase = (await db.query<{ id: number }>('SELECT id::int AS id FROM cases ORDER BY id LIMIT 1')).rows[0].id
const [photo] = await upload(app, 'supervisor')
// Users whose token the admin probes rotate (not a demo user the other probes sign in as).
const victim = await createUser(db, 'leader')
let matterSeq = 100
let day = 1
let ruleId = 0

const probes: Probe[] = [
  { method: 'POST', url: '/api/cases', roles: REPORTERS, body: async () => ({ matter: '11010506010', description: '暴露垃圾', point: { lon: bin.lon, lat: bin.lat } }) },
  { method: 'GET', url: '/api/cases', roles: ALL },
  { method: 'GET', url: '/api/cases/overdue', roles: ALL },
  { method: 'GET', url: `/api/cases/${someCase}`, roles: ALL },
  { method: 'GET', url: `/api/cases/${someCase}/events`, roles: ALL },
  { method: 'POST', url: '/api/photos', roles: ['resident', 'supervisor', 'command_centre', 'dispatcher', 'handler', 'admin'] },
  { method: 'GET', url: `/api/photos/${photo}`, roles: ALL },
  { method: 'GET', url: '/api/me', roles: ALL },
  { method: 'GET', url: '/api/users', roles: ['admin'] },
  { method: 'POST', url: '/api/users', roles: ['admin'], body: { name: '新用户', role: 'supervisor' } },
  { method: 'POST', url: `/api/users/${victim.id}/token`, roles: ['admin'] },
  { method: 'PATCH', url: `/api/users/${victim.id}`, roles: ['admin'], body: { active: true } },
  { method: 'GET', url: '/api/matter-types', roles: 'public' },
  { method: 'POST', url: '/api/matter-types', roles: ['admin'], body: async () => ({ code: `11010506010${String(matterSeq++).padStart(3, '0')}`, name: '细类' }) },
  { method: 'PATCH', url: '/api/matter-types/11010506010', roles: ['admin'], body: { keywords: '垃圾' } },
  { method: 'GET', url: '/api/time-limits', roles: STAFF },
  { method: 'PUT', url: '/api/time-limits', roles: ['admin'], body: { matter_code: '11010506011', stage: 'handle', minutes: 840, basis: 'working', note: null } },
  { method: 'DELETE', url: '/api/time-limits?matter_code=11010506011&stage=handle', roles: ['admin'] },
  { method: 'GET', url: '/api/dispatch-rules', roles: ['command_centre', 'dispatcher', 'leader', 'admin'] },
  {
    method: 'POST', url: '/api/dispatch-rules', roles: ['admin'],
    body: { name: '测试', priority: 5000, role: 'assist', matter_prefixes: ['11010510'], subdistricts: [], channels: [], target: 'command_centre', org: null, active: true, note: null },
  },
  {
    method: 'PUT', url: async () => `/api/dispatch-rules/${ruleId || (ruleId = (await db.query<{ id: number }>('SELECT max(id) AS id FROM dispatch_rules')).rows[0].id)}`, roles: ['admin'],
    body: { name: '测试2', priority: 5000, role: 'assist', matter_prefixes: ['11010510'], subdistricts: [], channels: [], target: 'command_centre', org: null, active: false, note: null },
  },
  { method: 'DELETE', url: async () => `/api/dispatch-rules/${(await db.query<{ id: number }>('SELECT max(id) AS id FROM dispatch_rules')).rows[0].id}`, roles: ['admin'] },
  { method: 'GET', url: '/api/calendar', roles: STAFF },
  { method: 'PUT', url: async () => `/api/calendar/days/2027-03-${String(day++).padStart(2, '0')}`, roles: ['admin'], body: { working: false, name: '测试' } },
  { method: 'DELETE', url: '/api/calendar/days/2026-01-01', roles: ['admin'] },
  { method: 'PUT', url: '/api/calendar/week', roles: ['admin'], body: { week: [[], [[540, 720], [810, 1050]], [[540, 720], [810, 1050]], [[540, 720], [810, 1050]], [[540, 720], [810, 1050]], [[540, 720], [810, 1050]], []] } },
  { method: 'GET', url: '/api/case-settings', roles: STAFF },
  { method: 'PATCH', url: '/api/case-settings', roles: ['admin'], body: { duplicate_radius_m: 50 } },
  { method: 'POST', url: '/api/grids/import', roles: ['planner', 'admin'], body: { type: 'FeatureCollection', features: [] } },
  { method: 'GET', url: '/api/cells?limit=1', roles: 'public' },
  { method: 'GET', url: '/open311/v2/services.json', roles: 'public' },
]

t.test('every route × every role', async (t) => {
  for (const p of probes) {
    const label = `${p.method} ${typeof p.url === 'string' ? p.url : '(…)'}`
    for (const role of [null, ...ALL] as (Role | null)[]) {
      const url = typeof p.url === 'string' ? p.url : await p.url()
      const body = typeof p.body === 'function' ? await (p.body as () => Promise<unknown>)() : p.body
      const headers = { ...(role ? auth(KEY[role]) : {}), ...(p.headers ?? {}) }
      const r = url === '/api/photos'
        ? await app.inject({ method: 'POST', url, headers: { ...headers, 'content-type': 'multipart/form-data; boundary=x' }, payload: '--x\r\nContent-Disposition: form-data; name="f"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0abc\r\n--x--\r\n' })
        : await app.inject({ method: p.method, url, headers, ...(body === undefined ? {} : { payload: body as Record<string, unknown> }) })
      const allowed = p.roles === 'public' || (role !== null && p.roles.includes(role))
      if (p.roles === 'public') t.notOk([401, 403].includes(r.statusCode), `${label} is public: ${role ?? 'anonymous'} got ${r.statusCode}`)
      else if (role === null) t.equal(r.statusCode, 401, `${label} without a token`)
      else if (allowed) t.notOk([401, 403].includes(r.statusCode), `${label} as ${role}: ${r.statusCode} ${r.body.slice(0, 150)}`)
      else {
        t.equal(r.statusCode, 403, `${label} as ${role}: ${r.body.slice(0, 150)}`)
        t.equal(r.json().error.code, role === 'dispatcher' && url === '/api/cases' ? 'forbidden_role' : r.json().error.code)
      }
    }
  }
})

t.test('every step × every role it is not for: 403 before anything else', async (t) => {
  for (const action of ACTIONS) {
    for (const role of ROLES) {
      if (MACHINE[action].roles.includes(role)) continue
      const r = await app.inject({ method: 'POST', url: `/api/cases/${someCase}/${action}`, headers: auth(KEY[role]), payload: { note: 'x' } })
      t.equal(r.statusCode, 403, `${action} as ${role}`)
      t.equal(r.json().error.code, 'forbidden_role')
      t.same(r.json().error.details.allowed_roles, MACHINE[action].roles)
    }
    const anon = await app.inject({ method: 'POST', url: `/api/cases/${someCase}/${action}`, payload: {} })
    t.equal(anon.statusCode, 401, `${action} without a token`)
  }
})

t.test('handlers see their own organisation\'s cases only; residents their own reports', async (t) => {
  const power = fixtureOrganisations([]).role.power
  const items = (await app.inject({ url: '/api/cases?limit=1000', headers: auth('power') })).json().items
  t.ok(items.length > 0, 'the power utility has cases in the history')
  t.ok(items.every((c: { units: { org: string; state: string }[] }) => c.units.some((u) => u.org === power && u.state !== 'planned')), 'all of them went to it')
  const other = (await db.query<{ id: number }>(`SELECT c.id::int AS id FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_assignments a WHERE a.case_id = c.id AND a.org = $1) LIMIT 1`, [power])).rows[0].id
  t.equal((await app.inject({ url: `/api/cases/${other}`, headers: auth('power') })).statusCode, 404)
  t.equal((await app.inject({ method: 'POST', url: `/api/cases/${other}/start`, headers: auth('power'), payload: {} })).statusCode, 404, 'nor act on them')
  t.equal((await app.inject({ url: `/api/cases/${other}`, headers: auth('resident') })).statusCode, 404)
  t.same((await app.inject({ url: '/api/cases', headers: auth('open311') })).json().items, [], 'a resident who reported nothing sees nothing')
  t.equal((await app.inject({ url: `/api/cases/${other}`, headers: auth('leader') })).statusCode, 200, 'leaders read everything')
  // A revoked token stops working.
  const made = await app.inject({ method: 'POST', url: '/api/users', headers: auth('admin'), payload: { name: '临时', role: 'leader' } })
  const token = made.json().token
  t.equal((await app.inject({ url: '/api/me', headers: { authorization: `Bearer ${token}` } })).json().role, 'leader')
  t.equal((await db.query('SELECT count(*)::int AS n FROM users WHERE token_hash = sha256($1::bytea)', [Buffer.from(token)])).rows[0].n, 1, 'only the hash is stored')
  await app.inject({ method: 'PATCH', url: `/api/users/${made.json().user.id}`, headers: auth('admin'), payload: { active: false } })
  t.equal((await app.inject({ url: '/api/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 401)
  const handlerWithoutOrg = await app.inject({ method: 'POST', url: '/api/users', headers: auth('admin'), payload: { name: 'x', role: 'handler' } })
  t.equal(handlerWithoutOrg.statusCode, 400)
})
