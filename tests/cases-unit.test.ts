/** The pure parts of the loop: work calendar, clock, state machine, dispatch rules, photo sniffing, matter codes, lock keys. */
import t from 'tap'
import { WorkCalendar, light, standardWeek } from '../server/cases/calendar.ts'
import * as clock from '../server/cases/clock.ts'
import { ACTIONS, MACHINE, STATUSES, allowedFrom, check, nextStatus } from '../server/cases/machine.ts'
import { route, ordered, type DispatchRule, type RouteContext } from '../server/cases/dispatch.ts'
import { sniffImage } from '../server/cases/photo-type.ts'
import { componentSubclassOf, levelOf, malformedMatter, standardCode } from '../server/cases/matters.ts'
import { duplicateLockKeys, lockKey } from '../server/cases/service.ts'
import { toXml, beijingTime } from '../server/cases/open311.ts'

const cal = new WorkCalendar({ utcOffsetMinutes: 480, week: standardWeek(), days: new Map([['2026-05-01', false], ['2026-05-09', true]]) })
const bj = (s: string): Date => new Date(`${s}+08:00`)

t.test('work calendar', async (t) => {
  t.equal(cal.minutesPerWorkingDay, 420)
  t.same(cal.addWorking(bj('2026-03-20T16:00:00'), 300), bj('2026-03-23T14:00:00'), 'Friday 16:00 + 5 working hours')
  t.same(cal.addWorking(bj('2026-03-20T16:00:00'), 90), bj('2026-03-20T17:30:00'), 'ends at the end of a period, not the next start')
  t.same(cal.addWorking(bj('2026-03-21T03:00:00'), 1), bj('2026-03-23T09:01:00'), 'from a weekend night')
  t.same(cal.addWorking(bj('2026-03-23T12:10:00'), 10), bj('2026-03-23T13:40:00'), 'over lunch')
  t.same(cal.addWorking(bj('2026-04-30T17:00:00'), 60), bj('2026-05-04T09:30:00'), 'over a holiday (05-01)')
  t.same(cal.addWorking(bj('2026-05-08T17:00:00'), 60), bj('2026-05-09T09:30:00'), 'a make-up Saturday works')
  t.equal(cal.workingBetween(bj('2026-03-20T16:00:00'), bj('2026-03-23T14:00:00')), 300)
  t.equal(cal.workingBetween(bj('2026-03-23T14:00:00'), bj('2026-03-20T16:00:00')), 0)
  t.equal(cal.workingBetween(bj('2026-03-16T00:00:00'), bj('2026-03-23T00:00:00')), 5 * 420, 'a week')
  t.equal(cal.between(bj('2026-03-21T00:00:00'), bj('2026-03-21T06:00:00'), 'natural'), 360)
  // Round trips on a grid of starts and lengths.
  for (let h = 0; h < 24 * 7; h += 5) {
    for (const m of [1, 29, 300, 420, 6300]) {
      const s = new Date(bj('2026-03-16T00:00:00').getTime() + h * 3_600_000)
      t.equal(Math.round(cal.workingBetween(s, cal.addWorking(s, m)) * 1000) / 1000, m)
    }
  }
  t.throws(() => new WorkCalendar({ utcOffsetMinutes: 480, week: [[], [[600, 540]], [], [], [], [], []], days: new Map() }))
  const never = new WorkCalendar({ utcOffsetMinutes: 480, week: [[], [], [], [], [], [], []], days: new Map() })
  t.throws(() => never.addWorking(new Date(), 1), /no working time/)
  t.equal(light(0.79), 'green')
  t.equal(light(0.8), 'yellow')
  t.equal(light(1), 'yellow')
  t.equal(light(1.01), 'red')
})

t.test('clock: start, pause, resume, extend', async (t) => {
  const c0 = clock.startClock('handle', { minutes: 300, basis: 'working' }, bj('2026-03-20T16:00:00'), cal)
  t.same(c0.dueAt, bj('2026-03-23T14:00:00'))
  t.same(c0.warnAt, cal.addWorking(bj('2026-03-20T16:00:00'), 240))
  const p = clock.pause(c0, bj('2026-03-20T17:00:00'), cal)
  t.equal(p.usedMinutes, 60)
  t.equal(p.dueAt, null)
  const r = clock.resume(p, bj('2026-03-25T09:00:00'), cal)
  t.same(r.dueAt, cal.addWorking(bj('2026-03-25T09:00:00'), 240))
  const e = clock.extend(r, 60, cal)
  t.same(e.dueAt, cal.addWorking(bj('2026-03-25T09:00:00'), 300))
  t.equal(clock.onTime(e, e.dueAt as Date, cal), true)
  t.equal(clock.onTime(e, new Date((e.dueAt as Date).getTime() + 60_000), cal), false)
  const v = clock.view(e, bj('2026-03-25T12:00:00'), cal)
  t.match(v, { stage: 'handle', used_minutes: 240, limit_minutes: 360, light: 'green', running: true })
})

t.test('state machine', async (t) => {
  for (const s of STATUSES) for (const a of allowedFrom(s)) t.ok(MACHINE[a].from.includes(s))
  t.same(allowedFrom('closed'), ['reopen'], 'closed: only a review (复核重办) after an unsatisfied rating')
  t.same(allowedFrom('voided'), [])
  t.same(allowedFrom('reported'), ['accept', 'void', 'progress'])
  t.equal(nextStatus('resume', 'deferred', 'in_progress'), 'in_progress')
  t.equal(nextStatus('rework', 'handled', null), 'in_progress')
  const base = { status: 'handled' as const, actorOrg: null, leadUnit: 'A', assignedUnits: ['A', 'B'], actorIsReporter: false, hasPendingExtension: false }
  t.equal(check({ ...base, action: 'verify', role: 'supervisor' }), null)
  t.match(check({ ...base, action: 'verify', role: 'supervisor', actorIsReporter: true }), { code: 'reporter_cannot_verify', status: 403 })
  t.match(check({ ...base, action: 'verify', role: 'handler' }), { code: 'forbidden_role' })
  t.match(check({ ...base, action: 'close', role: 'handler' }), { code: 'forbidden_role' })
  t.match(check({ ...base, action: 'dispatch', role: 'supervisor' }), { code: 'forbidden_role' })
  t.match(check({ ...base, action: 'close', role: 'command_centre' }), { code: 'illegal_transition', status: 409, allowed: ['verify', 'rework', 'progress'] })
  t.match(check({ ...base, status: 'in_progress', action: 'handle', role: 'handler', actorOrg: 'B' }), { code: 'not_your_unit' })
  t.equal(check({ ...base, status: 'in_progress', action: 'progress', role: 'handler', actorOrg: 'B' }), null, 'an assisting unit reports progress')
  t.match(check({ ...base, status: 'in_progress', action: 'progress', role: 'handler', actorOrg: 'C' }), { code: 'not_your_unit' })
  // Nobody but the listed roles can take any step.
  for (const a of ACTIONS) for (const r of ['leader', 'planner', 'admin', 'resident'] as const) t.match(check({ ...base, status: MACHINE[a].from[0], action: a, role: r }), { code: 'forbidden_role' })
})

t.test('dispatch rules', async (t) => {
  const rule = (id: number, priority: number, role: 'lead' | 'assist', target: DispatchRule['target'], prefixes: string[] = [], org: string | null = null): DispatchRule =>
    ({ id, name: `r${id}`, priority, role, matterPrefixes: prefixes, subdistricts: [], channels: [], target, org, active: true })
  const rules = ordered([
    rule(5, 1000, 'lead', 'cell_unit'),
    rule(1, 10, 'lead', 'facility_maintainer', ['11010501']),
    rule(2, 20, 'lead', 'facility_owner', ['11010501']),
    rule(3, 30, 'assist', 'command_centre', ['11010501005']),
    rule(4, 100, 'lead', 'organisation', ['11010506012'], 'SANITATION'),
  ])
  const ctx: RouteContext = { matterCode: '11010501005001', subdistrictCode: '110105001', channel: 'supervisor', cellUnit: 'CELL', commandCentre: 'CC', subdistrictOffice: 'OFFICE', facility: { owner: 'POWER', maintainer: 'POWER-MAINT' } }
  t.match(route(rules, ctx), { lead: { org: 'POWER-MAINT', ruleId: 1 }, assists: [{ org: 'CC', ruleId: 3 }] })
  t.match(route(rules, { ...ctx, facility: { owner: 'POWER', maintainer: null } }).lead, { org: 'POWER', ruleId: 2 }, 'no maintainer: the owner')
  t.match(route(rules, { ...ctx, facility: null }).lead, { org: 'CELL', ruleId: 5 }, 'no component found: the cell\'s unit')
  t.match(route(rules, { ...ctx, matterCode: '11010506012' }), { lead: { org: 'SANITATION', ruleId: 4 }, assists: [] })
  t.same(route(rules.filter((r) => r.id !== 5), { ...ctx, matterCode: '11010509006' }).lead, null, 'nothing matches: no lead, a dispatcher decides')
  t.same(route([{ ...rules[0], active: false }, ...rules.slice(1)], ctx).lead?.ruleId, 2, 'inactive rules are skipped')
  t.same(route(rules, { ...ctx, commandCentre: 'POWER-MAINT' }).assists, [], 'a unit is not its own assistant')
})

t.test('photos are judged by their bytes', async (t) => {
  t.equal(sniffImage(Buffer.from([0xff, 0xd8, 0xff, 0xdb, 0])), 'image/jpeg')
  t.equal(sniffImage(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0])), 'image/png')
  t.equal(sniffImage(Buffer.from('RIFF\x00\x00\x00\x00WEBPVP8 ', 'latin1')), 'image/webp')
  t.equal(sniffImage(Buffer.from('RIFF\x00\x00\x00\x00WAVEfmt ', 'latin1')), null, 'a WAV is RIFF too')
  t.equal(sniffImage(Buffer.from('GIF89a')), null)
  t.equal(sniffImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')), null)
  t.equal(sniffImage(Buffer.from([0xff, 0xd8])), null, 'too short')
})

t.test('matter codes', async (t) => {
  t.equal(malformedMatter('11010501005'), null)
  t.equal(malformedMatter('11010501005001'), null)
  t.ok(malformedMatter('110105010050'))
  t.ok(malformedMatter('1101050100'))
  t.ok(malformedMatter('11010501005a'))
  t.equal(levelOf('11010501'), 1)
  t.equal(levelOf('11010501005'), 2)
  t.equal(levelOf('11010501005001'), 3)
  t.equal(standardCode('11010501005001'), '11010501005')
  t.equal(componentSubclassOf('11010501005001'), '01005')
  t.equal(componentSubclassOf('11010506012'), null)
})

t.test('duplicate locks cover every square a duplicate could be in', async (t) => {
  t.equal(lockKey('a'), lockKey('a'))
  t.not(lockKey('a'), lockKey('b'))
  t.ok(Number(lockKey('x')) < 2 ** 53)
  // Two points 40 m apart across a square's edge share a lock.
  const a = duplicateLockKeys('11010501005', 116.4999, 39.92, 50)
  const b = duplicateLockKeys('11010501005', 116.50035, 39.92, 50)
  t.ok(a.some((k) => b.includes(k)))
  t.ok(a.length <= 4)
})

t.test('open311 xml and times', async (t) => {
  t.equal(toXml('services', [{ service_code: '1', keywords: 'a & b', metadata: true, none: null }]),
    '<?xml version="1.0" encoding="utf-8"?>\n<services><service><service_code>1</service_code><keywords>a &amp; b</keywords><metadata>true</metadata><none/></service></services>\n')
  t.equal(beijingTime(new Date('2026-03-10T06:10:00Z')), '2026-03-10T14:10:00+08:00')
})
