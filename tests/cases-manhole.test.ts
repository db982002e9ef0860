/**
 * The canonical case (Chaoyang, 2011) through the HTTP API with the demo
 * users' tokens: a supervisor photographs a missing power cover → the case is
 * in the right cell, the cover is found in the facility registry and belongs to
 * the power utility → on 立案 it goes to the utility and to the subdistrict's
 * command centre at once → the centre puts up warning signs → the utility
 * replaces the cover within 5 hours → a different supervisor verifies it with a
 * photo → the centre closes it, on time at every stage.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { auth, component, east, testClock, upload } from './helpers/cases.ts'
import { fromWgs84 } from '../geocoder/crs.ts'
import { commandCentreUscc } from '../server/repositories/grid-import.ts'
import { fixtureOrganisations } from '../fixtures/organisations.ts'
import { DEMO_SUBDISTRICT } from '../fixtures/users.ts'

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { app, db } = ctx

const POWER = fixtureOrganisations([]).role.power
const CENTRE = commandCentreUscc(DEMO_SUBDISTRICT)
// A Tuesday morning, Beijing time.
const clock = testClock(app, new Date('2026-03-10T09:12:00+08:00'))

t.test('a missing power cover, from report to closure', async (t) => {
  const cover = await component(db, '01005', DEMO_SUBDISTRICT)
  t.equal(cover.owner, POWER, 'the fixture\'s power covers belong to the power utility')

  // The supervisor's phone reports GCJ-02 (AMap), 4 m east of the cover.
  const [gx, gy] = fromWgs84(cover.lon + east(4), cover.lat, 'gcj02')
  const [photo1] = await upload(app, 'supervisor')
  const report = await app.inject({
    method: 'POST', url: '/api/cases', headers: auth('supervisor'),
    payload: { matter: '11010501005001', description: '电力井盖丢失，井口敞开', point: { lon: gx, lat: gy, crs: 'gcj02' }, photos: [photo1] },
  })
  t.equal(report.statusCode, 201, report.body)
  const created = report.json()
  const id = created.case.id as number
  t.equal(created.linked, false)
  t.equal(created.case.status, 'reported')
  t.equal(created.case.channel, 'supervisor', 'a supervisor reports through the supervisor channel by default')
  t.equal(created.case.location.cell, cover.cell, 'the case is in the cover\'s cell')
  t.equal(created.case.location.subdistrict.code, DEMO_SUBDISTRICT)
  t.ok(Math.abs(created.case.location.lon - (cover.lon + east(4))) < 1e-6, 'GCJ-02 was turned back into WGS84')
  t.equal(created.case.facility.id, cover.id, 'the missing cover is found in the facility registry')
  t.equal(created.case.facility.owner, POWER)
  t.ok(created.case.facility.distance_m > 3 && created.case.facility.distance_m < 5, `4 m from the cover, got ${created.case.facility.distance_m}`)
  t.match(created.case.units, [
    { org: POWER, role: 'lead', state: 'planned', rule_name: '部件异常 → 部件养护单位' },
    { org: CENTRE, role: 'assist', state: 'planned', rule_name: '井盖异常 → 街道网格中心设置警示' },
  ], 'routed to the utility and the subdistrict command centre, each with its rule')
  t.equal(created.case.clock.stage, 'accept')
  t.equal(created.case.clock.basis, 'natural', 'an open manhole is timed around the clock')
  t.equal(created.case.clock.limit_minutes, 15)

  // The centre confirms the location and opens the case: it goes to both units at once.
  clock.advance(5)
  const accepted = await app.inject({ method: 'POST', url: `/api/cases/${id}/accept`, headers: auth('operator'), payload: { note: '位置核实无误' } })
  t.equal(accepted.statusCode, 200, accepted.body)
  t.equal(accepted.json().status, 'dispatched', '立案 dispatches automatically (自动分拣)')
  t.match(accepted.json().units, [{ org: POWER, role: 'lead', state: 'active' }, { org: CENTRE, role: 'assist', state: 'active' }])
  t.equal(accepted.json().lead_unit.org, POWER)
  t.equal(accepted.json().stages.accept.on_time, true)
  t.equal(accepted.json().clock.stage, 'handle')
  t.equal(accepted.json().clock.limit_minutes, 360, 'replace a cover within 6 hours')

  // Each unit sees it in its own queue; the sanitation centre does not.
  for (const [key, n] of [['power', 1], ['centre', 1], ['sanitation', 0]] as const) {
    const q = await app.inject({ url: `/api/cases?status=open&matter=11010501005`, headers: auth(key) })
    t.equal(q.json().items.filter((c: { id: number }) => c.id === id).length, n, `${key} sees ${n}`)
  }

  clock.advance(15)
  const started = await app.inject({ method: 'POST', url: `/api/cases/${id}/start`, headers: auth('power') })
  t.equal(started.json().status, 'in_progress', started.body)
  const notLead = await app.inject({ method: 'POST', url: `/api/cases/${id}/handle`, headers: auth('centre'), payload: { photos: [photo1] } })
  t.equal(notLead.statusCode, 403, 'the assisting unit cannot report the handling')
  t.equal(notLead.json().error.code, 'not_your_unit')

  // The subdistrict puts up warning signs.
  clock.advance(10)
  const [signs] = await upload(app, 'centre')
  const onsite = await app.inject({ method: 'POST', url: `/api/cases/${id}/progress`, headers: auth('centre'), payload: { note: '已设置警示标志和围挡', photos: [signs] } })
  t.equal(onsite.statusCode, 200, onsite.body)
  t.equal(onsite.json().status, 'in_progress', 'a progress note leaves the status')

  // 4 h 35 min after dispatch: 76 % used, green; at 4 h 50 min: 81 %, yellow.
  clock.set(new Date('2026-03-10T13:52:00+08:00'))
  t.equal((await app.inject({ url: `/api/cases/${id}`, headers: auth('dispatcher') })).json().clock.light, 'green')
  clock.set(new Date('2026-03-10T14:07:00+08:00'))
  const yellow = (await app.inject({ url: `/api/cases/${id}`, headers: auth('dispatcher') })).json()
  t.equal(yellow.clock.light, 'yellow')
  t.ok(yellow.clock.used_fraction >= 0.8 && yellow.clock.used_fraction <= 1)

  // The utility replaces the cover within 5 hours of the report.
  clock.set(new Date('2026-03-10T14:10:00+08:00'))
  const [fixed] = await upload(app, 'power')
  const noPhoto = await app.inject({ method: 'POST', url: `/api/cases/${id}/handle`, headers: auth('power'), payload: { note: '已更换' } })
  t.equal(noPhoto.statusCode, 400)
  t.equal(noPhoto.json().error.code, 'photo_required')
  const handled = await app.inject({ method: 'POST', url: `/api/cases/${id}/handle`, headers: auth('power'), payload: { note: '已更换新井盖', photos: [fixed] } })
  t.equal(handled.statusCode, 200, handled.body)
  t.equal(handled.json().status, 'handled')
  t.equal(handled.json().stages.handle.on_time, true)

  // The reporter may not verify their own case; another supervisor does.
  clock.advance(30)
  const own = await app.inject({ method: 'POST', url: `/api/cases/${id}/verify`, headers: auth('supervisor'), payload: { photos: [fixed] } })
  t.equal(own.statusCode, 403)
  t.equal(own.json().error.code, 'reporter_cannot_verify')
  const byHandler = await app.inject({ method: 'POST', url: `/api/cases/${id}/verify`, headers: auth('power'), payload: { photos: [fixed] } })
  t.equal(byHandler.statusCode, 403, 'a handler cannot verify')
  const [check] = await upload(app, 'supervisor2')
  const verified = await app.inject({ method: 'POST', url: `/api/cases/${id}/verify`, headers: auth('supervisor2'), payload: { note: '现场核查已恢复', photos: [check] } })
  t.equal(verified.statusCode, 200, verified.body)
  t.equal(verified.json().status, 'verified')

  const handlerClose = await app.inject({ method: 'POST', url: `/api/cases/${id}/close`, headers: auth('power') })
  t.equal(handlerClose.statusCode, 403, 'a handler cannot close')
  clock.advance(10)
  const closed = await app.inject({ method: 'POST', url: `/api/cases/${id}/close`, headers: auth('operator') })
  t.equal(closed.statusCode, 200, closed.body)
  const done = closed.json()
  t.equal(done.status, 'closed')
  t.equal(done.clock, null)
  t.equal(done.closed_on_time, true, 'closed on time')
  for (const s of ['accept', 'dispatch', 'handle', 'verify', 'close']) t.equal(done.stages[s].on_time, true, `${s} on time`)
  t.same(done.actions, ['reopen'], 'nothing more to do but a review (复核重办) should the reporter be unsatisfied')

  // Every event, in order, with its actor and photos.
  const detail = (await app.inject({ url: `/api/cases/${id}`, headers: auth('leader') })).json()
  t.same(detail.events.map((e: { action: string }) => e.action), ['report', 'accept', 'dispatch', 'start', 'progress', 'handle', 'verify', 'close'])
  const ev = Object.fromEntries(detail.events.map((e: { action: string }) => [e.action, e]))
  t.match(ev.report, { from_status: null, to_status: 'reported', actor: { role: 'supervisor', name: '监督员 李明' }, photos: [photo1] })
  t.match(ev.accept, { from_status: 'reported', to_status: 'accepted', actor: { role: 'command_centre' }, note: '位置核实无误' })
  t.match(ev.dispatch, { from_status: 'accepted', to_status: 'dispatched', actor: { role: 'system' }, data: { automatic: true } })
  t.same(ev.dispatch.data.units.map((u: { org: string; rule_id: number }) => u.org), [POWER, CENTRE])
  t.ok(ev.dispatch.data.units.every((u: { rule_id: number | null }) => typeof u.rule_id === 'number'), 'each dispatch records the rule that fired')
  t.match(ev.progress, { actor: { role: 'handler', org: CENTRE }, photos: [signs] })
  t.match(ev.handle, { from_status: 'in_progress', to_status: 'handled', actor: { role: 'handler', org: POWER }, photos: [fixed] })
  t.match(ev.verify, { actor: { role: 'supervisor', name: '监督员 王芳' }, photos: [check] })
  t.match(ev.close, { to_status: 'closed', actor: { role: 'command_centre' } })
  t.equal(ev.handle.at, '2026-03-10T06:10:00.000Z', 'replaced 4 h 58 min after the report')
  t.equal(detail.reports.length, 1)

  // The photos go to those who may see the case, not to others.
  t.equal((await app.inject({ url: `/api/photos/${fixed}`, headers: auth('supervisor2') })).statusCode, 200)
  const img = await app.inject({ url: `/api/photos/${photo1}`, headers: auth('power') })
  t.equal(img.statusCode, 200)
  t.equal(img.headers['content-type'], 'image/jpeg')
  t.equal((await app.inject({ url: `/api/photos/${photo1}`, headers: auth('resident') })).statusCode, 404, 'a resident who did not report it')
  t.equal((await app.inject({ url: `/api/photos/${photo1}`, headers: auth('sanitation') })).statusCode, 404, 'a unit it did not go to')

  // The event log is append-only, in the database itself.
  await t.rejects(db.query('UPDATE case_events SET note = $2 WHERE case_id = $1', [id, 'rewritten']), /append-only/)
  await t.rejects(db.query('DELETE FROM case_events WHERE case_id = $1', [id]), /append-only/)
})
