/**
 * Intake's two ways of running intake_case() (migration 013) write the same case:
 * on its own as the whole transaction (the component from the in-memory index),
 * and inside a transaction that first finds the component — the one the reporter
 * named, or the nearest by SQL while the facility index is not built — or that
 * accepts the case at once for an auto-accepted channel.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { auth, component, east, testClock, upload } from './helpers/cases.ts'
import { CaseService } from '../server/cases/service.ts'
import type { Actor } from '../server/cases/roles.ts'
import { DEMO_SUBDISTRICT } from '../fixtures/users.ts'

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { app, db } = ctx
const clock = testClock(app, new Date('2026-03-10T09:12:00+08:00'))

const rows = async (): Promise<Record<string, number>> => (await db.query<Record<string, number>>(`SELECT (SELECT count(*) FROM cases)::int AS cases,
  (SELECT count(*) FROM case_reports)::int AS reports, (SELECT count(*) FROM case_events)::int AS events,
  (SELECT count(*) FROM case_assignments)::int AS units, (SELECT count(*) FROM case_frontage)::int AS frontage`)).rows[0]

/** What the database holds for a case, without ids and times that differ by construction. */
async function stored(id: number): Promise<unknown> {
  const c = (await db.query(`SELECT status, channel, cell_code, community_code, subdistrict_code, facility_owner, facility_maintainer,
      round(facility_distance_m::numeric, 1)::float8 AS facility_distance_m, stage, clock_limit_minutes, clock_basis, event_count, report_count
    FROM cases WHERE id = $1`, [id])).rows[0]
  const units = (await db.query('SELECT org, role, state, rule_name FROM case_assignments WHERE case_id = $1 ORDER BY role, org', [id])).rows
  const events = (await db.query(`SELECT seq, action, from_status, to_status, actor_role, data - 'facility' - 'cell' AS data,
      (data->'facility'->>'owner') AS owner FROM case_events WHERE case_id = $1 ORDER BY seq`, [id])).rows
  const reports = (await db.query('SELECT created_case, channel, input_crs FROM case_reports WHERE case_id = $1', [id])).rows
  const frontage = (await db.query('SELECT rule_name, source FROM case_frontage WHERE case_id = $1', [id])).rows
  return { c, units, events, reports, frontage }
}

const supervisor = async (): Promise<Actor> => {
  const u = (await db.query<{ id: number; name: string }>("SELECT id, name FROM users WHERE role = 'supervisor' ORDER BY id LIMIT 1")).rows[0]
  return { userId: u.id, name: u.name, role: 'supervisor', org: null }
}

t.test('the same report writes the same case on each path', async (t) => {
  const covers = []
  const cases: number[] = []
  const before = await rows()
  // 1. No component named: the in-memory index finds it, intake_case is the whole transaction.
  covers.push(await component(db, '01005', DEMO_SUBDISTRICT))
  const a = await app.inject({ method: 'POST', url: '/api/cases', headers: auth('supervisor'),
    payload: { matter: '11010501005001', description: '电力井盖丢失', point: { lon: covers[0].lon + east(4), lat: covers[0].lat } } })
  t.equal(a.statusCode, 201, a.body.slice(0, 300))
  cases.push(a.json().case.id)
  // 2. The component named by the reporter: looked up in the transaction, then intake_case.
  clock.advance(1)
  covers.push(await component(db, '01005', DEMO_SUBDISTRICT))
  const b = await app.inject({ method: 'POST', url: '/api/cases', headers: auth('supervisor'),
    payload: { matter: '11010501005001', description: '电力井盖丢失', point: { lon: covers[1].lon + east(4), lat: covers[1].lat }, facility_id: covers[1].id } })
  t.equal(b.statusCode, 201, b.body.slice(0, 300))
  t.equal(b.json().case.facility.id, covers[1].id)
  cases.push(b.json().case.id)
  // 3. No facility index (a process still building it): the nearest component by SQL in the transaction.
  clock.advance(1)
  covers.push(await component(db, '01005', DEMO_SUBDISTRICT))
  const noIndex = new CaseService({ db, geocoder: () => app.geocoder.current(), config: () => app.caseConfig.current(), facilities: () => null, now: () => clock.now })
  const c = await noIndex.intake(await supervisor(), { matter: '11010501005001', description: '电力井盖丢失', point: { lon: covers[2].lon + east(4), lat: covers[2].lat } }, null)
  t.equal(c.status, 201)
  t.equal(c.case.facility?.id, covers[2].id, 'the SQL look-up finds the same cover the index would')
  cases.push(c.case.id)

  t.equal(new Set(cases).size, 3)
  const after = await rows()
  t.same({ cases: after.cases - before.cases, reports: after.reports - before.reports, events: after.events - before.events, units: after.units - before.units },
    { cases: 3, reports: 3, events: 3, units: 6 }, 'one case, report and event and two routed units each')
  const [s0, s1, s2] = await Promise.all(cases.map(stored))
  // The covers lie in different cells; the rest of the rows must agree.
  const norm = (s: unknown): unknown => { const o = structuredClone(s) as { c: Record<string, unknown> }; delete o.c.cell_code; delete o.c.community_code; return o }
  t.same(norm(s1), norm(s0), 'named component: the same rows as the indexed path')
  t.same(norm(s2), norm(s0), 'component found by SQL: the same rows as the indexed path')
  t.match(s0, { c: { status: 'reported', facility_distance_m: 4, stage: 'accept', event_count: 1 }, units: [{ role: 'assist' }, { role: 'lead', org: covers[0].owner }] })
})

t.test('a named component reported again nearby is linked; a retry replays; a missing photo writes nothing', async (t) => {
  const cover = await component(db, '01005', DEMO_SUBDISTRICT, 1)
  const body = { matter: '11010501005001', description: '井盖没了', point: { lon: cover.lon, lat: cover.lat }, facility_id: cover.id }
  const first = await app.inject({ method: 'POST', url: '/api/cases', headers: { ...auth('supervisor'), 'idempotency-key': 'paths-1' }, payload: body })
  t.equal(first.statusCode, 201, first.body.slice(0, 300))
  const id = first.json().case.id
  const before = await rows()
  clock.advance(3)
  const again = await app.inject({ method: 'POST', url: '/api/cases', headers: auth('resident'),
    payload: { ...body, point: { lon: cover.lon + east(10), lat: cover.lat }, description: '井口没盖' } })
  const retry = await app.inject({ method: 'POST', url: '/api/cases', headers: { ...auth('supervisor'), 'idempotency-key': 'paths-1' }, payload: body })
  const [photo] = await upload(app, 'supervisor')
  const mid = await rows()
  const missing = await app.inject({ method: 'POST', url: '/api/cases', headers: auth('supervisor'),
    payload: { ...body, photos: [photo, 'f'.repeat(64)] } })
  const end = await rows()

  t.equal(again.statusCode, 200, again.body.slice(0, 300))
  t.equal(again.json().duplicate_of, id)
  t.ok(again.json().distance_m > 9 && again.json().distance_m < 11)
  t.equal(retry.statusCode, 201)
  t.equal(retry.json().replayed, true)
  t.equal(retry.json().case.id, id)
  t.same({ cases: mid.cases - before.cases, reports: mid.reports - before.reports, events: mid.events - before.events }, { cases: 0, reports: 1, events: 1 },
    'the link adds a report and an event; the retry adds nothing')
  t.equal(missing.statusCode, 422)
  t.equal(missing.json().error.code, 'unknown_photo')
  t.same(end, mid, 'nothing written for the missing photo')
})

t.test('an auto-accepted channel: intake_case, then 立案 and dispatch in the same transaction', async (t) => {
  const set = (channels: string[]) => app.inject({ method: 'PATCH', url: '/api/case-settings', headers: auth('admin'), payload: { auto_accept_channels: channels } })
  const on = await set(['camera'])
  const cover = await component(db, '01005', DEMO_SUBDISTRICT, 2)
  clock.advance(2)
  const body = { matter: '11010501005001', description: '视频发现井盖缺失', point: { lon: cover.lon, lat: cover.lat }, channel: 'camera' }
  const r = await app.inject({ method: 'POST', url: '/api/cases', headers: { ...auth('operator'), 'idempotency-key': 'cam-1' }, payload: body })
  const before = await rows()
  const retry = await app.inject({ method: 'POST', url: '/api/cases', headers: { ...auth('operator'), 'idempotency-key': 'cam-1' }, payload: body })
  const after = await rows()
  const off = await set([])

  t.equal(on.statusCode, 200, on.body.slice(0, 300))
  t.equal(off.statusCode, 200)
  t.equal(r.statusCode, 201, r.body.slice(0, 300))
  const id = r.json().case.id
  t.equal(r.json().case.status, 'dispatched', 'accepted and dispatched at once')
  t.equal(r.json().case.facility.id, cover.id)
  const s = await stored(id) as { events: { action: string; actor_role: string }[]; units: { role: string; state: string; org: string }[] }
  t.same(s.events.map((e) => [e.action, e.actor_role]), [['report', 'command_centre'], ['accept', 'system'], ['dispatch', 'system']])
  // Dispatch makes the planned units active: the planned rows end as cancelled, the active ones are new.
  t.same(s.units.map((u) => [u.role, u.state]).sort(), [['assist', 'active'], ['assist', 'cancelled'], ['lead', 'active'], ['lead', 'cancelled']])
  t.equal(s.units.find((u) => u.role === 'lead' && u.state === 'active')?.org, cover.owner)
  t.equal(retry.statusCode, 201)
  t.equal(retry.json().replayed, true)
  t.same(after, before, 'the retry writes nothing')
})
