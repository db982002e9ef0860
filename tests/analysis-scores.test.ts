/**
 * Scores and rankings on hand-built case histories with answers worked out by
 * hand: the published worked example (972 due to close, 911 closed, 737 on
 * time), every indicator of one cell, supervisors' verifications, the ranking
 * order and rank change against the previous window, and the 4xx answers.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { after, bearer, buildDistrict, closedCase, insertCases, MATTERS, ORG, SUB_EAST, SUB_WEST, cellCode, type CaseInput } from './helpers/analysis.ts'

const { app, db, close } = await testApp('empty')
t.teardown(close)
const users = await buildDistrict(db)
const leader = bearer(users.leader)

const FROM = new Date('2025-03-01T00:00:00+08:00')
const TO = new Date('2025-04-01T00:00:00+08:00')
const day = (d: number, h = 10): Date => new Date(FROM.getTime() + (d * 24 + h) * 3_600_000)
const window = `from=${encodeURIComponent(FROM.toISOString())}&to=${encodeURIComponent(TO.toISOString())}`

interface Item {
  code: string; name: string; counts: Record<string, number>; rank: number | null; rank_change: number | null
  indicators: Record<string, { value: number | null; numerator: number; denominator: number }>
  close_hours: { mean: number | null; p90: number | null }; case_count_score: number
  composite: { score: number | null; grade: string | null; formula: string }; previous: { rank: number | null; score: number | null }
}
async function scores(query: string, auth = leader): Promise<{ items: Item[]; ranked: number; total: number }> {
  const r = await app.inject({ method: 'GET', url: `/api/analysis/scores?${query}`, headers: auth })
  if (r.statusCode !== 200) throw new Error(`${r.statusCode} ${r.body}`)
  return r.json()
}

// The published worked example, in the west subdistrict: 972 due to close, 911 closed, 737 of them on time.
{
  const cases: CaseInput[] = []
  const at = (i: number) => ({ col: i % 5, row: i % 10 })
  for (let i = 0; i < 737; i++) cases.push(closedCase(day(i % 20), at(i)))
  for (let i = 0; i < 174; i++) cases.push(closedCase(day(i % 20), { ...at(i), handle_on_time: false }))
  // Handled, waiting for verification: due to close, not closed.
  for (let i = 0; i < 40; i++) {
    const r = day(i % 20)
    cases.push({ ...at(i), status: 'handled', reported_at: r, accepted_at: after(r, 1), accept_on_time: true, dispatch_due_at: after(r, 3), dispatched_at: after(r, 1), dispatch_on_time: true, handle_due_at: after(r, 10), handled_at: after(r, 5), handle_on_time: true, verify_due_at: after(r, 12) })
  }
  // Past the handling deadline, not handled: due to close.
  for (let i = 0; i < 21; i++) {
    const r = day(i % 20)
    cases.push({ ...at(i), status: 'in_progress', reported_at: r, accepted_at: after(r, 1), accept_on_time: true, dispatch_due_at: after(r, 3), dispatched_at: after(r, 1), dispatch_on_time: true, handle_due_at: after(r, 10) })
  }
  // Not due yet at the window's end: not counted.
  for (let i = 0; i < 30; i++) {
    const r = after(TO, -2)
    cases.push({ ...at(i), status: 'dispatched', reported_at: r, accepted_at: after(r, 0.5), accept_on_time: true, dispatch_due_at: after(r, 1), dispatched_at: after(r, 0.5), dispatch_on_time: true, handle_due_at: after(TO, 24) })
  }
  for (let i = 0; i < 10; i++) cases.push({ ...at(i), status: 'voided', reported_at: day(i), voided_at: after(day(i), 1), accept_on_time: true })
  // Outside the window (the previous one): not counted in this one.
  for (let i = 0; i < 7; i++) cases.push(closedCase(new Date(FROM.getTime() - 5 * 86_400_000), at(i)))
  await insertCases(db, cases)
}

t.test('the published worked example: 结案率 93.72 %, 按时结案率 75.82 %', async (t) => {
  const r = await scores(`level=subdistrict&code=${SUB_WEST}&${window}`)
  const s = r.items[0]
  t.equal(s.code, SUB_WEST)
  t.same(s.indicators.closure, { name: '结案率', value: 93.72, numerator: 911, denominator: 972 })
  t.same(s.indicators.on_time_closure, { name: '按时结案率', value: 75.82, numerator: 737, denominator: 972 })
  t.same(s.indicators.on_time_handling, { name: '按时处置率', value: 79.94, numerator: 777, denominator: 972 })
  t.equal(s.indicators.rework_rate.value, 0)
  t.equal(s.counts.reported, 972 + 30 + 10)
  t.equal(s.counts.opened, 1002)
  // 1,002 opened in 31 days = 969.7 a month → 40; 0.1·40 + 0.3·93.72 + 0.3·79.94 + 0.3·100 = 86.10.
  t.equal(s.case_count_score, 40)
  t.equal(s.composite.score, 86.1)
  t.equal(s.composite.grade, 'B')
  // The seven closed cases of the previous window score it.
  t.equal(s.previous.score, 100)
})

// Every indicator of one cell (7, 7), east subdistrict; the expected numbers are worked out in the comments.
const CELL = cellCode(7, 7)
{
  const at = { col: 7, row: 7 }
  const cases: CaseInput[] = []
  // A: 8 closed, every stage on time, closed after 1…8 h; two reported on the web.
  for (let i = 0; i < 8; i++) cases.push(closedCase(day(3 + i), { ...at, closeHours: i + 1, channel: i < 2 ? 'web' : 'supervisor' }))
  // B: 2 closed with handling late (9 h, 10 h); one reworked, one reported by hotline.
  cases.push(closedCase(day(12), { ...at, closeHours: 9, handle_on_time: false, rework_count: 1 }))
  cases.push(closedCase(day(13), { ...at, closeHours: 10, handle_on_time: false, channel: 'hotline' }))
  // C: 1 closed (11 h), opened late, dispatched late after a return, verified late.
  cases.push(closedCase(day(14), { ...at, closeHours: 11, accept_on_time: false, dispatch_on_time: false, return_count: 1, verify_on_time: false }))
  // D: 2 handled, waiting for verification: one overdue at the window's end, one handled late and not yet due.
  for (const [i, late] of [[0, false], [1, true]] as const) {
    const r = day(20 + i)
    cases.push({ ...at, status: 'handled', reported_at: r, accepted_at: after(r, 1), accept_on_time: true, dispatch_due_at: after(r, 2), dispatched_at: after(r, 1), dispatch_on_time: true,
      handle_due_at: after(r, 5), handled_at: after(r, 4), handle_on_time: !late, verify_due_at: late ? after(TO, 5) : after(r, 8) })
  }
  // E: in progress past its deadline; F: in progress, due after the window.
  for (const due of [after(day(22), 6), after(TO, 30)]) {
    const r = day(22)
    cases.push({ ...at, status: 'in_progress', reported_at: r, accepted_at: after(r, 1), accept_on_time: true, dispatch_due_at: after(r, 2), dispatched_at: after(r, 1), dispatch_on_time: true, handle_due_at: due })
  }
  // G: opened, never dispatched, past the dispatch deadline.
  cases.push({ ...at, status: 'accepted', reported_at: day(23), accepted_at: after(day(23), 1), accept_on_time: true, dispatch_due_at: after(day(23), 3) })
  // H: 3 voided, one of them late. I: 1 just reported.
  for (const ok of [true, true, false]) cases.push({ ...at, status: 'voided', reported_at: day(24), voided_at: after(day(24), 1), accept_on_time: ok })
  cases.push({ ...at, status: 'reported', reported_at: day(25) })
  await insertCases(db, cases)
}

t.test('every indicator of a hand-built cell, with numerator and denominator', async (t) => {
  const r = await scores(`level=cell&code=${CELL}&${window}`)
  t.equal(r.total, 1)
  const s = r.items[0]
  const v = (k: string) => [s.indicators[k].value, s.indicators[k].numerator, s.indicators[k].denominator]
  t.equal(s.counts.reported, 20)
  // Decided (立案 + 作废) 19, on time 17: A8 B2 D2 E F G H2.
  t.same(v('on_time_opening'), [89.47, 17, 19], '按时立案率')
  t.same(v('accurate_opening'), [84.21, 16, 19], '准确立案率: 19 decided, 3 voided')
  t.same(v('miss_rate'), [18.75, 3, 16], '漏报率: 2 web + 1 hotline of 16 opened')
  // Due for dispatch: 15 dispatched + G overdue; C late; C returned.
  t.same(v('on_time_dispatch'), [87.5, 14, 16], '按时派遣率')
  t.same(v('accurate_dispatch'), [93.75, 15, 16], '准确派遣率')
  // Due to close: 13 handled (A B C D) + E overdue = 14; F is not due.
  t.same(v('closure'), [78.57, 11, 14], '结案率')
  t.same(v('on_time_handling'), [71.43, 10, 14], '按时处置率: A8 C1 D1')
  t.same(v('on_time_closure'), [57.14, 8, 14], '按时结案率: A only')
  t.same(v('rework_rate'), [7.14, 1, 14], '返工率')
  // Verifications: 11 ended (A B C) + 1 overdue (D); on time A B.
  t.same(v('on_time_verification'), [83.33, 10, 12], '按时核实率')
  // Closed after 1…11 h: mean 6, p90 (continuous) = 10.
  t.same(s.close_hours, { mean: 6, p90: 10 })
  // 16 opened in 31 days → 100; 0.1·100 + 0.3·78.57 + 0.3·71.43 + 0.3·(100 − 7.14) = 82.86.
  t.equal(s.case_count_score, 100)
  t.equal(s.composite.score, 82.86)
  t.equal(s.composite.grade, 'B')

  const byMatter = await scores(`level=cell&code=${CELL}&${window}&matter=${MATTERS.street}`)
  t.equal(byMatter.items[0].counts.reported, 0, 'matter filter: none of these are 街面秩序')
  t.equal(byMatter.items[0].composite.score, null, 'no data: no score, no grade')
  t.equal(byMatter.items[0].rank, null)
  const parent = await scores(`level=cell&code=${CELL}&${window}&matter=${MATTERS.environment}`)
  t.equal(parent.items[0].counts.reported, 20, 'a major includes its finer matters')

  const shift = await scores(`level=cell&code=${CELL}&${window}&formula=shift_leader`)
  // 0.25·89.47 + 0.4·84.21 + 0.35·57.14 = 22.3675 + 33.684 + 19.999 = 76.05
  t.equal(shift.items[0].composite.score, 76.05)
  t.equal(shift.items[0].composite.formula, 'shift_leader')
})

t.test('cells rank over every cell of the grid; empty cells have no rank', async (t) => {
  const r = await scores(`level=cell&${window}&limit=200`)
  t.equal(r.total, 100)
  t.ok(r.ranked >= 2)
  t.equal(r.items.filter((i) => i.rank !== null).length, r.ranked)
  const ranks = r.items.filter((i) => i.rank !== null).map((i) => i.composite.score as number)
  t.same(ranks, [...ranks].sort((a, b) => b - a), 'best first')
  const east = await scores(`level=subdistrict&code=${SUB_EAST}&${window}`)
  t.equal(east.items[0].counts.reported, 20, 'the subdistrict adds up its cells')
})

t.test('supervisors: reports they made, verifications they did', async (t) => {
  const a = users.supervisorA.id
  const b = users.supervisorB.id
  const w0 = day(2)
  const ids = await insertCases(db, [
    closedCase(w0, { col: 2, row: 2, reporter_id: a }), closedCase(w0, { col: 2, row: 2, reporter_id: a }),
    closedCase(w0, { col: 2, row: 2, reporter_id: a }), { col: 2, row: 2, status: 'voided', reported_at: w0, voided_at: after(w0, 1), accept_on_time: true, reporter_id: a },
  ])
  const ev = (id: number, seq: number, actor: number, action: string, onTime: boolean) => db.query(
    `INSERT INTO case_events (case_id, seq, at, action, actor_id, actor_role, data) VALUES ($1, $2, $3, $4, $5, 'supervisor', $6::jsonb)`,
    [id, seq, after(w0, 5), action, actor, JSON.stringify({ stage_ended: { stage: 'verify', on_time: onTime } })])
  await ev(ids[0], 1, b, 'verify', true)
  await ev(ids[1], 1, b, 'rework', false)
  await ev(ids[1], 2, b, 'verify', true)
  await ev(ids[2], 1, a, 'verify', true)
  const r = await scores(`level=supervisor&${window}`)
  const sa = r.items.find((i) => i.code === String(a)) as Item
  const sb = r.items.find((i) => i.code === String(b)) as Item
  t.same([sa.indicators.accurate_opening.value, sa.indicators.accurate_opening.numerator, sa.indicators.accurate_opening.denominator], [75, 3, 4])
  t.same([sa.indicators.on_time_verification.value, sa.indicators.on_time_verification.denominator], [100, 1])
  t.equal(sa.indicators.miss_rate.value, null, '漏报率 has no meaning per supervisor')
  t.equal(sa.composite.score, 87.5, '0.5·75 + 0.5·100')
  t.same([sb.indicators.on_time_verification.value, sb.indicators.on_time_verification.numerator, sb.indicators.on_time_verification.denominator], [66.67, 2, 3])
  t.equal(sb.composite.score, null, 'no reports of their own: no 准确立案率, no composite')
  t.equal(sa.rank, 1)

  const own = await scores(`level=supervisor&${window}`, bearer(users.supervisorA.token))
  t.same(own.items.map((i) => i.code), [String(a)], 'a supervisor sees their own row')
})

t.test('units rank by the department formula, with the change against the previous window', async (t) => {
  const prev = new Date('2024-11-01T00:00:00+08:00')
  const cur = new Date('2024-12-01T00:00:00+08:00')
  const end = new Date('2024-12-31T00:00:00+08:00')
  const unitCases = (from: Date, unit: string, late: number) => Array.from({ length: 4 }, (_, i) =>
    closedCase(new Date(from.getTime() + (i + 1) * 86_400_000), { col: 1, row: 1, lead_unit: unit, handle_on_time: i >= late }))
  await insertCases(db, [
    // Now: power all on time (100), sanitation half (85), water none (70). Before: the other way round.
    ...unitCases(cur, ORG.power, 0), ...unitCases(cur, ORG.sanitation, 2), ...unitCases(cur, ORG.water, 4),
    ...unitCases(prev, ORG.power, 4), ...unitCases(prev, ORG.sanitation, 2), ...unitCases(prev, ORG.water, 0),
  ])
  const r = await scores(`level=unit&from=${encodeURIComponent(cur.toISOString())}&to=${encodeURIComponent(end.toISOString())}`)
  t.same(r.items.map((i) => [i.code, i.composite.score, i.composite.grade, i.rank, i.previous.rank, i.rank_change]), [
    [ORG.power, 100, 'A', 1, 3, 2],
    [ORG.sanitation, 85, 'B', 2, 2, 0],
    [ORG.water, 70, 'C', 3, 1, -2],
  ])
  const mine = await scores(`level=unit&from=${encodeURIComponent(cur.toISOString())}&to=${encodeURIComponent(end.toISOString())}`, bearer(users.handler))
  t.same(mine.items.map((i) => [i.code, i.rank]), [[ORG.power, 1]], 'a handler sees their own unit, ranked among all')
})

t.test('bad parameters get 4xx with a code and the field', async (t) => {
  const get = (q: string, auth = leader) => app.inject({ method: 'GET', url: `/api/analysis/scores?${q}`, headers: auth })
  let r = await get(`from=${encodeURIComponent(TO.toISOString())}&to=${encodeURIComponent(FROM.toISOString())}`)
  t.equal(r.statusCode, 400)
  t.equal(r.json().error.code, 'invalid_window')
  t.equal(r.json().error.details[0].field, 'querystring.from')
  r = await get(`${window}&matter=11010599999`)
  t.equal(r.statusCode, 400)
  t.equal(r.json().error.code, 'unknown_matter')
  t.equal(r.json().error.details[0].field, 'querystring.matter')
  r = await get(`${window}&matter=abc`)
  t.equal(r.statusCode, 400)
  t.equal(r.json().error.code, 'validation_failed')
  r = await get('level=street')
  t.equal(r.statusCode, 400)
  t.equal(r.json().error.code, 'validation_failed')
  t.match(r.json().error.details[0].field, /querystring\.level/)
  r = await get('formula=nobody')
  t.equal(r.statusCode, 400)
  r = await get(`from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`)
  t.equal(r.json().error.code, 'invalid_window', 'longer than five years')
  r = await get('level=cell', bearer(users.resident))
  t.equal(r.statusCode, 403)
  r = await get('level=cell', bearer(users.handler))
  t.equal(r.statusCode, 403, 'a handler may not read the cells')
  r = await app.inject({ method: 'GET', url: '/api/analysis/scores' })
  t.equal(r.statusCode, 401)
  const doc = await app.inject({ method: 'GET', url: '/api/analysis/indicators', headers: leader })
  t.equal(doc.statusCode, 200)
  t.equal(doc.json().ratios.closure.name, '结案率')
})
