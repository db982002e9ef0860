/**
 * The loop's state machine through the API: every illegal transition is 409
 * with the allowed ones; rework, return and manual dispatch, extension,
 * deferral; time limits in working time, the status light and overdue lists.
 */
import t, { type Test } from 'tap'
import { testApp } from './helpers/app.ts'
import { auth, component, testClock, upload } from './helpers/cases.ts'
import { ACTIONS, MACHINE, STATUSES, allowedFrom, type Action, type Status } from '../server/cases/machine.ts'
import { DEMO_SUBDISTRICT } from '../fixtures/users.ts'
import { fixtureOrganisations } from '../fixtures/organisations.ts'

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { app, db } = ctx
// Monday 2026-03-16, 10:00 Beijing time.
const clock = testClock(app, new Date('2026-03-16T10:00:00+08:00'))
const ORG = fixtureOrganisations([]).role

const act = (key: string, id: number, action: string, body: Record<string, unknown> = {}) =>
  app.inject({ method: 'POST', url: `/api/cases/${id}/${action}`, headers: auth(key), payload: body })

let coverIndex = 0
/** A new power-cover case (the power utility is its lead unit), reported by `supervisor`. */
async function newCase(): Promise<number> {
  const cover = await component(db, '01005', DEMO_SUBDISTRICT, coverIndex++)
  const r = await app.inject({ method: 'POST', url: '/api/cases', headers: auth('supervisor'), payload: { matter: '11010501005002', description: '井盖破损', point: { lon: cover.lon, lat: cover.lat } } })
  if (r.statusCode !== 201) throw new Error(r.body)
  return r.json().case.id
}

async function expectOk(t: Test, r: Awaited<ReturnType<typeof act>>, status: Status): Promise<void> {
  t.equal(r.statusCode, 200, r.body.slice(0, 300))
  t.equal(r.json().status, status)
}

/** A case driven to `status` by the roles whose job each step is. */
async function caseIn(t: Test, status: Status): Promise<number> {
  const id = await newCase()
  const [photo] = await upload(app, 'power')
  const path: Record<Status, [string, Action, Record<string, unknown>][]> = {
    reported: [],
    accepted: [['operator', 'accept', {}], ['power', 'return', { note: '不是我们的井盖' }]],
    voided: [['operator', 'void', { note: '重复上报' }]],
    dispatched: [['operator', 'accept', {}]],
    in_progress: [['operator', 'accept', {}], ['power', 'start', {}]],
    handled: [['operator', 'accept', {}], ['power', 'start', {}], ['power', 'handle', { photos: [photo] }]],
    verified: [['operator', 'accept', {}], ['power', 'start', {}], ['power', 'handle', { photos: [photo] }], ['supervisor2', 'verify', { photos: [photo] }]],
    closed: [['operator', 'accept', {}], ['power', 'start', {}], ['power', 'handle', { photos: [photo] }], ['supervisor2', 'verify', { photos: [photo] }], ['operator', 'close', {}]],
    deferred: [['operator', 'accept', {}], ['operator', 'defer', { note: '待资金' }]],
  }
  for (const [key, action, body] of path[status]) {
    const r = await act(key, id, action, body)
    if (r.statusCode !== 200) throw new Error(`${action}: ${r.body}`)
  }
  const now = (await app.inject({ url: `/api/cases/${id}`, headers: auth('leader') })).json().status
  t.equal(now, status, `a case in ${status}`)
  return id
}

const KEY: Record<string, string> = { command_centre: 'operator', dispatcher: 'dispatcher', handler: 'power', supervisor: 'supervisor2' }

t.test('every illegal transition is 409 with the allowed ones listed', async (t) => {
  const [photo] = await upload(app, 'supervisor2')
  for (const status of STATUSES) {
    const id = await caseIn(t, status)
    const visibleToPower = (await app.inject({ url: `/api/cases/${id}`, headers: auth('power') })).statusCode === 200
    for (const action of ACTIONS) {
      if (allowedFrom(status).includes(action)) continue
      const role = MACHINE[action].roles[0]
      const body: Record<string, unknown> = { note: '说明' }
      if (MACHINE[action].photos !== 'none') body.photos = [photo]
      if (action === 'request_extension' || action === 'grant_extension') body.minutes = 60
      const r = await act(KEY[role], id, action, body)
      if (role === 'handler' && !visibleToPower) {
        t.equal(r.statusCode, 404, `${action} from ${status}: the unit does not see a case not dispatched to it`)
        continue
      }
      t.equal(r.statusCode, 409, `${action} from ${status}: ${r.body.slice(0, 200)}`)
      t.equal(r.json().error.code, 'illegal_transition')
      t.same(r.json().error.details.allowed, allowedFrom(status), `${action} from ${status} lists what is allowed`)
    }
  }
  // Extension decisions need a request first.
  const id = await caseIn(t, 'in_progress')
  const r = await act('dispatcher', id, 'grant_extension', { minutes: 30 })
  t.equal(r.statusCode, 409)
  t.equal(r.json().error.code, 'no_pending_extension')
})

t.test('rework, return and manual dispatch, extension and deferral', async (t) => {
  const id = await newCase()
  await expectOk(t, await act('operator', id, 'accept'), 'dispatched')
  // The utility sends it back; the dispatcher sends it to the gas company by hand.
  await expectOk(t, await act('power', id, 'return', { note: '经查为燃气井盖' }), 'accepted')
  const superDispatch = await act('supervisor', id, 'dispatch', { units: [{ org: ORG.gas, role: 'lead' }] })
  t.equal(superDispatch.statusCode, 403, 'a supervisor cannot dispatch')
  t.equal(superDispatch.json().error.code, 'forbidden_role')
  const twoLeads = await act('dispatcher', id, 'dispatch', { units: [{ org: ORG.gas, role: 'lead' }, { org: ORG.water, role: 'lead' }] })
  t.equal(twoLeads.statusCode, 400)
  const unknownUnit = await act('dispatcher', id, 'dispatch', { units: [{ org: '91110105MA00000000', role: 'lead' }] })
  t.equal(unknownUnit.statusCode, 422)
  const manual = await act('dispatcher', id, 'dispatch', { units: [{ org: ORG.gas, role: 'lead' }], note: '改派燃气集团' })
  await expectOk(t, manual, 'dispatched')
  t.equal(manual.json().lead_unit.org, ORG.gas)
  t.match(manual.json().units.find((u: { org: string }) => u.org === ORG.gas), { rule_id: null, state: 'active' }, 'chosen by hand: no rule')
  t.equal(manual.json().return_count, 1)
  const stale = await act('power', id, 'start')
  t.equal(stale.statusCode, 403, 'the utility sees the case it returned, but may no longer act on it')
  t.equal(stale.json().error.code, 'not_your_unit')
  // Handled, then the supervisor finds it not done: rework, with the full handling time again.
  const gas = await app.inject({ method: 'POST', url: '/api/users', headers: auth('admin'), payload: { name: '燃气集团 抢修', role: 'handler', org: ORG.gas } })
  t.equal(gas.statusCode, 201)
  const gasAuth = { authorization: `Bearer ${gas.json().token}` }
  const gasAct = (action: string, body: Record<string, unknown> = {}) => app.inject({ method: 'POST', url: `/api/cases/${id}/${action}`, headers: gasAuth, payload: body })
  await expectOk(t, await gasAct('start'), 'in_progress')
  // Ask for more time: 2 hours more, granted.
  const ask = await gasAct('request_extension', { note: '需调配新井盖', minutes: 120 })
  await expectOk(t, ask, 'in_progress')
  t.equal(ask.json().pending_extension.minutes, 120)
  t.equal((await gasAct('request_extension', { note: '再要', minutes: 60 })).json().error.code, 'extension_pending')
  const dueBefore = Date.parse(ask.json().clock.due_at)
  const grant = await act('dispatcher', id, 'grant_extension', {})
  await expectOk(t, grant, 'in_progress')
  t.equal(Date.parse(grant.json().clock.due_at) - dueBefore, 120 * 60_000, 'the deadline moved by 2 hours (natural time)')
  t.equal(grant.json().extension_minutes, 120)
  t.equal(grant.json().pending_extension, null)
  const [gasPhoto] = await upload(app, 'supervisor')
  clock.advance(60)
  await expectOk(t, await gasAct('handle', { photos: [gasPhoto] }), 'handled')
  clock.advance(30)
  t.equal((await act('supervisor', id, 'rework', { note: '未整改' })).json().error.code, 'reporter_cannot_verify')
  const rework = await act('supervisor2', id, 'rework', { note: '井盖仍松动' })
  await expectOk(t, rework, 'in_progress')
  t.equal(rework.json().rework_count, 1)
  t.equal(rework.json().clock.stage, 'handle')
  t.equal(rework.json().clock.used_minutes, 0, 'the handling clock starts again')
  // Deferred (挂账) for two days: the clock stops and starts again where it was.
  clock.advance(30)
  const deferred = await act('operator', id, 'defer', { note: '需更换井座，待审批' })
  await expectOk(t, deferred, 'deferred')
  t.equal(deferred.json().clock.running, false)
  t.equal(deferred.json().clock.used_minutes, 30)
  clock.advance(2 * 24 * 60)
  const resumed = await act('dispatcher', id, 'resume')
  await expectOk(t, resumed, 'in_progress')
  t.equal(resumed.json().clock.used_minutes, 30, 'two days deferred do not count')
  t.equal(resumed.json().clock.limit_minutes, 36 * 60, '井盖破损: 36 hours')
  t.equal(Date.parse(resumed.json().clock.due_at) - clock.now.getTime(), (36 * 60 - 30) * 60_000)
  await expectOk(t, await gasAct('handle', { photos: [gasPhoto] }), 'handled')
  await expectOk(t, await act('supervisor2', id, 'verify', { photos: [gasPhoto] }), 'verified')
  const closed = await act('operator', id, 'close')
  await expectOk(t, closed, 'closed')
  const events = (await app.inject({ url: `/api/cases/${id}/events`, headers: auth('leader') })).json()
  t.same(events.map((e: { action: string }) => e.action), ['report', 'accept', 'dispatch', 'return', 'dispatch', 'start', 'request_extension', 'grant_extension', 'handle', 'rework', 'defer', 'resume', 'handle', 'verify', 'close'])
  t.same(events.map((e: { seq: number }) => e.seq), events.map((_: unknown, i: number) => i + 1), 'events are numbered without gaps')
})

t.test('working time: limits, the light and overdue lists', async (t) => {
  // 道路不洁 (06012): 5 working hours. Friday 16:00 → due Monday 14:00 (90 min Friday, 9:00–12:00, 13:30–14:00).
  clock.set(new Date('2026-03-20T15:30:00+08:00'))
  const bin = await component(db, '03005', DEMO_SUBDISTRICT, 11)
  const r = await app.inject({ method: 'POST', url: '/api/cases', headers: auth('supervisor'), payload: { matter: '11010506012', description: '路面油污', point: { lon: bin.lon, lat: bin.lat } } })
  const id = r.json().case.id
  t.equal(r.json().case.clock.basis, 'working')
  t.equal(r.json().case.stages.accept.due_at, '2026-03-20T08:00:00.000Z', 'accept within 30 working minutes: 16:00')
  clock.set(new Date('2026-03-20T16:00:00+08:00'))
  const accepted = (await act('operator', id, 'accept')).json()
  t.equal(accepted.lead_unit.org, ORG.sanitation, 'dirty road → the sanitation centre (rule by matter)')
  t.equal(accepted.stages.handle.due_at, '2026-03-23T06:00:00.000Z', 'due Monday 14:00')
  // Saturday noon: nothing used since Friday 17:30 → 90 of 300 minutes, green.
  clock.set(new Date('2026-03-21T12:00:00+08:00'))
  const sat = (await app.inject({ url: `/api/cases/${id}`, headers: auth('sanitation') })).json()
  t.equal(sat.clock.used_minutes, 90)
  t.equal(sat.clock.light, 'green')
  // Monday 12:30 (lunch): 270 / 300 = 90 %, yellow; Monday 15:00: red and in the overdue list.
  clock.set(new Date('2026-03-23T12:30:00+08:00'))
  t.equal((await app.inject({ url: `/api/cases/${id}`, headers: auth('sanitation') })).json().clock.light, 'yellow')
  const yellow = (await app.inject({ url: '/api/cases?light=yellow&limit=1000', headers: auth('sanitation') })).json().items
  t.ok(yellow.some((c: { id: number }) => c.id === id), 'light=yellow finds it')
  clock.set(new Date('2026-03-23T15:00:00+08:00'))
  const late = (await app.inject({ url: `/api/cases/${id}`, headers: auth('sanitation') })).json()
  t.equal(late.clock.light, 'red')
  t.equal(late.overdue, true)
  const overdue = (await app.inject({ url: '/api/cases/overdue?limit=1000', headers: auth('dispatcher') })).json().items
  t.ok(overdue.some((c: { id: number }) => c.id === id))
  t.ok(overdue.every((c: { overdue: boolean }) => c.overdue), 'every case in the list is overdue')
  const dues = overdue.map((c: { clock: { due_at: string } }) => Date.parse(c.clock.due_at))
  t.same(dues, [...dues].sort((a: number, b: number) => a - b), 'most overdue first')
  // A public holiday does not count: 2026-05-01…05 (劳动节), 2026-05-09 (Saturday) is worked.
  const { calendar } = app.caseConfig.current()
  t.equal(calendar.workingBetween(new Date('2026-04-30T17:00:00+08:00'), new Date('2026-05-06T09:30:00+08:00')), 60)
  t.equal(calendar.workingBetween(new Date('2026-05-09T00:00:00+08:00'), new Date('2026-05-10T00:00:00+08:00')), 420, '调休 Saturday is a working day')
})

t.test('the history fixture can be measured in SQL', async (t) => {
  const r = (await db.query<{ opened: number; on_time_accept: number; voided: number; due_close: number; closed: number; closed_on_time: number; reworked: number }>(`SELECT
    count(*) FILTER (WHERE accepted_at IS NOT NULL OR voided_at IS NOT NULL)::int AS opened,
    count(*) FILTER (WHERE accept_on_time)::int AS on_time_accept,
    count(*) FILTER (WHERE voided_at IS NOT NULL)::int AS voided,
    count(*) FILTER (WHERE handled_at IS NOT NULL OR (status IN ('dispatched', 'in_progress') AND due_at < now()))::int AS due_close,
    count(*) FILTER (WHERE closed_at IS NOT NULL)::int AS closed,
    count(*) FILTER (WHERE close_on_time AND accept_on_time AND dispatch_on_time AND handle_on_time AND verify_on_time)::int AS closed_on_time,
    count(*) FILTER (WHERE rework_count > 0)::int AS reworked
    FROM cases WHERE reported_at < '2025-11-01'`)).rows[0]
  t.ok(r.opened > 2500, `opened ${r.opened}`)
  const rate = (a: number, b: number): number => a / b
  t.ok(rate(r.on_time_accept, r.opened) > 0.85 && rate(r.on_time_accept, r.opened) < 0.99, `按时立案率 ${rate(r.on_time_accept, r.opened)}`)
  t.ok(rate(r.voided, r.opened) > 0.02 && rate(r.voided, r.opened) < 0.1, '准确立案率 in the 90s')
  t.ok(rate(r.closed_on_time, r.closed) > 0.6 && rate(r.closed_on_time, r.closed) < 0.95, `按时结案率 ${rate(r.closed_on_time, r.closed)}`)
  t.ok(rate(r.reworked, r.due_close) > 0.01 && rate(r.reworked, r.due_close) < 0.1, `返工率 ${rate(r.reworked, r.due_close)}`)
  const units = (await db.query<{ n: number }>(`SELECT count(DISTINCT org)::int AS n FROM case_assignments WHERE state = 'done' AND role = 'lead'`)).rows[0].n
  t.ok(units > 20, `${units} units closed cases`)
})

