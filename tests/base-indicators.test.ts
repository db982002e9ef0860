/**
 * Monitoring indicators on hand-built data: every value of the snapshot is
 * the one worked out by hand below from a few cases, ratings, a survey,
 * components, base records and frontage units; scores against targets,
 * composites, ranks, the ranking and trend API; formulas are data, checked
 * when they are written; the formula language on its own.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { createUser } from '../fixtures/users.ts'
import { makeUscc } from '../grids/uscc.ts'
import { takeSnapshot } from '../server/base/indicators.ts'
import { FormulaError, evaluate, parseFormula } from '../server/base/formula.ts'
import { composite, ranks, score } from '../server/base/measures.ts'

const ctx = await testApp('empty')
t.teardown(() => ctx.close())
const { app, db } = ctx

const A = '110105001'
const B = '110105002'
const DEPT = makeUscc('1', '1', '110105', 91)
const UTIL = makeUscc('9', '1', '110105', 92)
const DAY = '2026-03-31'
// After the day: the snapshot reads states at its end (2026-04-01 00:00 Beijing).
const NOW = new Date('2026-04-05T12:00:00+08:00')
const h = (iso: string): Date => new Date(`${iso}+08:00`)

await db.exec(`
  INSERT INTO districts (code, name) VALUES ('110105', '朝阳区');
  INSERT INTO subdistricts (code, district_code, name, area_m2) VALUES ('${A}', '110105', '甲街道', 2e6), ('${B}', '110105', '乙街道', 5e6);
  INSERT INTO organisations (uscc, name, kind) VALUES ('${DEPT}', '区环卫中心', 'department'), ('${UTIL}', '供电公司', 'utility');
  INSERT INTO matter_types (code, level, name, district_code, major) VALUES ('11010506', 1, '市容环境', '110105', '06');
  INSERT INTO matter_types (code, parent_code, level, name, district_code, major) VALUES ('11010506012', '11010506', 2, '道路不洁', '110105', '06');
`)
const reporter = await createUser(db, 'resident', { name: '市民甲' })
const admin = await createUser(db, 'admin')
const leader = await createUser(db, 'leader')
const bearer = (u: { token: string }) => ({ authorization: `Bearer ${u.token}` })

interface C { sd: string; channel: string; status: string; reported: string; lead?: string; accepted?: string; voided?: string; handleDue?: string; handled?: string; handleOnTime?: boolean; closed?: string; onTime?: boolean; rework?: number; returns?: number; due?: string }
async function addCase(c: C): Promise<number> {
  return (await db.query<{ id: number }>(`INSERT INTO cases (matter_code, matter_std, status, channel, description, geom, cell_code, community_code, subdistrict_code, district_code,
      reported_at, last_reported_at, updated_at, accepted_at, voided_at, dispatched_at, handle_due_at, handled_at, handle_on_time, verify_on_time, closed_at, close_on_time,
      rework_count, return_count, due_at, lead_unit, reporter_id)
    VALUES ('11010506012', '11010506012', $1, $2, '测试', ST_SetSRID(ST_MakePoint(116.45, 39.92), 4326), $3 || '001001', $3 || '001', $3, '110105',
      $4, $4, $4, $5, $6, $5, $7, $8, $9, $10, $11, $10, $12, $13, $14, $15, $16) RETURNING id::int AS id`,
  [c.status, c.channel, c.sd, h(c.reported), c.accepted ? h(c.accepted) : null, c.voided ? h(c.voided) : null, c.handleDue ? h(c.handleDue) : null,
    c.handled ? h(c.handled) : null, c.handleOnTime ?? null, c.onTime ?? null, c.closed ? h(c.closed) : null, c.rework ?? 0, c.returns ?? 0,
    c.due ? h(c.due) : null, c.lead ?? null, reporter.id])).rows[0].id
}

// Subdistrict A, five cases in the window and one before it.
const c1 = await addCase({ sd: A, channel: 'supervisor', status: 'closed', reported: '2026-03-10T09:00:00', lead: DEPT, accepted: '2026-03-10T09:30:00', handleDue: '2026-03-10T17:00:00', handled: '2026-03-10T15:00:00', handleOnTime: true, closed: '2026-03-10T19:00:00', onTime: true })
const c2 = await addCase({ sd: A, channel: 'hotline', status: 'closed', reported: '2026-03-11T09:00:00', lead: DEPT, accepted: '2026-03-11T10:00:00', handleDue: '2026-03-11T17:00:00', handled: '2026-03-12T10:00:00', handleOnTime: false, closed: '2026-03-12T15:00:00', onTime: true })
await addCase({ sd: A, channel: 'web', status: 'handled', reported: '2026-03-20T09:00:00', lead: UTIL, accepted: '2026-03-20T09:10:00', handleDue: '2026-03-21T17:00:00', handled: '2026-03-21T12:00:00', handleOnTime: true, rework: 1, due: '2026-04-10T17:00:00' })
await addCase({ sd: A, channel: 'supervisor', status: 'dispatched', reported: '2026-03-25T09:00:00', lead: UTIL, accepted: '2026-03-25T09:10:00', handleDue: '2026-03-26T17:00:00', returns: 1, due: '2026-03-26T17:00:00' })
const c5 = await addCase({ sd: A, channel: 'web', status: 'voided', reported: '2026-03-27T09:00:00', voided: '2026-03-27T10:00:00' })
await addCase({ sd: A, channel: 'supervisor', status: 'closed', reported: '2026-02-01T09:00:00', lead: DEPT, accepted: '2026-02-01T09:10:00', handled: '2026-02-01T12:00:00', handleOnTime: true, closed: '2026-02-01T15:00:00', onTime: true })

await db.query(`INSERT INTO case_ratings (case_id, user_id, rating, channel, created_at) VALUES ($1, $3, 'satisfied', 'web', $4), ($2, $3, 'unsatisfied', 'web', $4)`, [c1, c2, reporter.id, h('2026-03-13T10:00:00')])
await db.exec(`
  INSERT INTO survey_imports (id, source, rows) VALUES (1, 'test', 2);
  INSERT INTO survey_results (subdistrict_code, period_start, period_end, respondents, satisfied, basic, unsatisfied, import_id) VALUES
    ('${A}', '2026-03-01', '2026-03-31', 200, 120, 50, 30, 1), ('${A}', '2026-02-01', '2026-02-28', 100, 10, 10, 80, 1);
  INSERT INTO base_records (id, kind, name, geom, cell_code, community_code, subdistrict_code, use, floors, households, pop_registered, pop_resident) VALUES
    ('b1', 'building', '1号楼', ST_SetSRID(ST_MakePoint(116.45, 39.92), 4326), '${A}001001', '${A}001', '${A}', 'residential', 6, 300, 500, 800),
    ('b2', 'building', '2号楼', ST_SetSRID(ST_MakePoint(116.45, 39.92), 4326), '${A}001001', '${A}001', '${A}', 'residential', 18, 500, 700, 1200);
  INSERT INTO facilities (id, subclass, geom, owner, status, cell_code) VALUES
    ('11010501005000001', '01005', ST_SetSRID(ST_MakePoint(116.45, 39.92), 4326), '${UTIL}', 'intact', '${A}001001'),
    ('11010501005000002', '01005', ST_SetSRID(ST_MakePoint(116.45, 39.92), 4326), '${UTIL}', 'intact', '${A}001001'),
    ('11010501005000003', '01005', ST_SetSRID(ST_MakePoint(116.45, 39.92), 4326), '${UTIL}', 'intact', '${A}001001'),
    ('11010501005000004', '01005', ST_SetSRID(ST_MakePoint(116.45, 39.92), 4326), '${UTIL}', 'missing', '${A}001001');
  INSERT INTO frontage_units (id, name, kind, frontage, length_m, cell_code, community_code, subdistrict_code) VALUES
    ('F1', '甲便利店', 'shop', ST_SetSRID(ST_GeomFromText('LINESTRING(116.45 39.92, 116.4506 39.92)'), 4326), 50, '${A}001001', '${A}001', '${A}'),
    ('F2', '乙餐厅', 'restaurant', ST_SetSRID(ST_GeomFromText('LINESTRING(116.46 39.92, 116.4606 39.92)'), 4326), 50, '${B}001001', '${B}001', '${B}');
`)
await db.query(`INSERT INTO case_frontage (case_id, unit_id, rule_name, distance_m, source, assigned_at) SELECT x, 'F1', '门前三包', 1, 'intake', now() FROM unnest($1::bigint[]) x`, [[c1, c2, c5]])

type Snap = Record<string, { value: number | null; score: number | null }>
async function values(unit: string, day = DAY): Promise<Snap> {
  const rows = (await db.query<{ indicator: string; value: number | null; score: number | null }>('SELECT indicator, value, score FROM indicator_snapshots WHERE day = $1 AND unit_key = $2', [day, unit])).rows
  return Object.fromEntries(rows.map((r) => [r.indicator, { value: r.value, score: r.score }]))
}
async function unitScore(subject: string, unit: string): Promise<{ score: number | null; rank: number | null }> {
  return (await db.query<{ score: number | null; rank: number | null }>('SELECT score, rank FROM indicator_scores WHERE day = $1 AND subject = $2 AND unit_key = $3', [DAY, subject, unit])).rows[0]
}

const summary = await takeSnapshot(db, { day: DAY, now: NOW })

t.test('the snapshot covers every subject and at least 20 indicators', async (t) => {
  t.equal(summary.at, '2026-03-31T16:00:00.000Z', 'states read at the end of the Beijing day')
  t.same(summary.subjects.map((s) => [s.subject, s.units]), [['department', 1], ['utility', 1], ['subdistrict', 2], ['frontage_unit', 2]])
  t.ok(summary.subjects.reduce((n, s) => n + s.indicators, 0) >= 20, 'at least 20 indicators')
})

t.test('subdistrict values worked out by hand', async (t) => {
  const v = await values(A)
  // In the window: 5 reported, 4 opened, 1 voided; due to close = handled 3 + overdue unhandled 1 = 4; closed 2, 1 with every stage on time.
  t.same(v.SD01, { value: 50, score: 52.63 }, '结案率 2/4; score 100·50/95')
  t.same(v.SD02, { value: 25, score: 29.41 }, '按时结案率 1/4; target 85')
  t.same(v.SD03, { value: 50, score: 55.56 }, '按时处置率 2/4 (cases 1 and 3)')
  t.same(v.SD04, { value: 25, score: 12 }, '返工率 1/4; lower is better: 100·3/25')
  t.same(v.SD05, { value: 80, score: 84.21 }, '准确立案率 4/(4+1)')
  t.same(v.SD06, { value: 50, score: 20 }, '漏报率: hotline and web of 4 opened')
  t.same(v.SD07, { value: 1, score: 100 }, '超期未结 1 ≤ 5')
  t.same(v.SD08, { value: 20, score: 100 }, '万人案件数 4·10000/2000 residents')
  t.same(v.SD09, { value: 50, score: 55.56 }, '公众满意率: one satisfied, one not')
  t.same(v.SD10, { value: 85, score: 100 }, '第三方调查 (120+50)/200; the February survey is outside the window')
  t.same(v.SD11, { value: 75, score: 76.53 }, '部件完好率 3/4')
  t.same(v.SD12, { value: 2, score: 100 }, '4 cases / 2 km²')
  const expected = Math.round((0.15 * 52.63 + 0.15 * 29.41 + 0.1 * 55.56 + 0.1 * 12 + 0.05 * 84.21 + 0.1 * 20 + 0.05 * 100 + 0.05 * 100 + 0.1 * 55.56 + 0.1 * 100 + 0.05 * 76.53) * 100) / 100
  t.same(await unitScore('subdistrict', A), { score: expected, rank: 2 })
  const b = await values(B)
  t.same(b.SD01, { value: null, score: null }, 'no cases due: no data, not 0')
  t.same(b.SD08, { value: null, score: null }, 'no residents: no data')
  t.same(b.SD07, { value: 0, score: 100 })
  t.same(await unitScore('subdistrict', B), { score: 100, rank: 1 }, 'only indicators with data are weighed')
})

t.test('departments, utilities and frontage units', async (t) => {
  const d = await values(DEPT)
  t.same(d.DP01, { value: 100, score: 100 }, '结案率 2/2')
  t.same(d.DP04, { value: 0, score: 100 }, '退回率 0/2')
  t.same(d.DP05, { value: 50, score: 55.56 })
  t.same(d.DP06, { value: 20, score: 100 }, 'mean hours to close: (10 + 30) / 2')
  const u = await values(UTIL)
  t.same(u.UT01, { value: 0, score: 0 }, '结案率 0/2: one handled, one overdue')
  t.same(u.UT03, { value: 75, score: 76.53 })
  t.same(u.UT04, { value: 1, score: 50 }, 'one missing, target 0: 100/(1+1)')
  t.same(u.UT05, { value: null, score: null }, 'no ratings')
  const f = await values('F1')
  t.same(f.FU01, { value: 2, score: 50 }, 'two opened on the frontage (the voided one is not)')
  t.same(f.FU02, { value: 4, score: 50 }, '2 per 50 m = 4 per 100 m')
  t.same(f.FU03, { value: 100, score: 100 })
  t.same(f.FU04, { value: 50, score: 55.56 })
  t.same(await unitScore('frontage_unit', 'F1'), { score: Math.round((0.4 * 50 + 0.3 * 50 + 0.2 * 100 + 0.1 * 55.56) * 100) / 100, rank: 2 })
  t.same(await unitScore('frontage_unit', 'F2'), { score: 100, rank: 1 })
})

t.test('ranking and trend through the API; a snapshot replaces its day', async (t) => {
  await takeSnapshot(db, { day: '2026-03-30', now: NOW })
  await takeSnapshot(db, { day: DAY, now: NOW })
  const n = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM indicator_snapshots WHERE day = $1', [DAY])).rows[0].n
  t.equal(n, 12 * 2 + 6 + 5 + 4 * 2, 'one row per indicator and unit, not two')
  const r = await app.inject({ url: `/api/indicators/ranking?subject=frontage_unit&day=${DAY}`, headers: bearer(leader) })
  t.equal(r.statusCode, 200, r.body.slice(0, 200))
  t.match(r.json(), { subject: 'frontage_unit', total: 2, items: [{ unit_key: 'F2', name: '乙餐厅', rank: 1, previous_rank: 1 }, { unit_key: 'F1', rank: 2, values: { FU01: { value: 2, score: 50 } } }] })
  const worst = (await app.inject({ url: `/api/frontage-units/ranking?day=${DAY}`, headers: bearer(leader) })).json() as { items: { unit_key: string }[] }
  t.same(worst.items.map((i) => i.unit_key), ['F1', 'F2'], 'the frontage ranking lists the worst first')
  const bySd = (await app.inject({ url: `/api/indicators/ranking?subject=subdistrict&day=${DAY}&subdistrict=${A}`, headers: bearer(leader) })).json() as { items: { unit_key: string }[] }
  t.same(bySd.items.map((i) => i.unit_key), [A])
  const tr = await app.inject({ url: `/api/indicators/trend?subject=subdistrict&unit=${A}&from=2026-03-01&to=${DAY}`, headers: bearer(leader) })
  t.same((tr.json() as { days: { day: string }[] }).days.map((d) => d.day), ['2026-03-30', DAY])
  t.equal((await app.inject({ url: `/api/indicators/ranking?subject=nobody`, headers: bearer(leader) })).statusCode, 400)
})

t.test('definitions are data: a bad formula is refused, a new one is computed', async (t) => {
  const defs = (await app.inject({ url: '/api/indicators', headers: bearer(leader) })).json() as { items: { code: string }[]; subjects: Record<string, { measures: string[] }> }
  t.ok(defs.items.length >= 20)
  t.ok(defs.subjects.frontage_unit.measures.includes('frontage_m'))
  const body = { name: '作废率', subject: 'subdistrict', formula: 'voided / reported * 100', unit: '%', better: 'lower', target: 5, weight: 0, window_days: 30, active: true, description: null }
  let r = await app.inject({ method: 'PUT', url: '/api/indicators/SD90', headers: bearer(admin), payload: { ...body, formula: 'voided / nonsense' } })
  t.equal(r.statusCode, 422)
  t.match(r.json().error, { code: 'invalid_formula', details: { field: 'body.formula' } })
  r = await app.inject({ method: 'PUT', url: '/api/indicators/SD90', headers: bearer(admin), payload: { ...body, formula: 'frontage_m' } })
  t.equal(r.json().error.code, 'invalid_formula', 'a frontage measure is not a subdistrict\'s')
  t.equal((await app.inject({ method: 'PUT', url: '/api/indicators/SD90', headers: bearer(leader), payload: body })).statusCode, 403)
  r = await app.inject({ method: 'PUT', url: '/api/indicators/SD90', headers: bearer(admin), payload: body })
  t.equal(r.statusCode, 200)
  const s = await app.inject({ method: 'POST', url: '/api/indicators/snapshot', headers: bearer(admin), payload: { day: DAY, subjects: ['subdistrict'] } })
  t.equal(s.statusCode, 200, s.body.slice(0, 200))
  t.same((await values(A)).SD90, { value: 20, score: 25 }, '1 voided of 5 reported')
})

t.test('the formula language', async (t) => {
  const names = new Set(['a', 'b', 'c'])
  const m = { a: 6, b: 3, c: 0 }
  t.equal(evaluate(parseFormula('a + b * 2', names), m), 12, 'precedence')
  t.equal(evaluate(parseFormula('(a + b) * 2', names), m), 18)
  t.equal(evaluate(parseFormula('-a / b - -1', names), m), -1)
  t.equal(evaluate(parseFormula('a / c', names), m), null, 'division by zero: no data')
  t.equal(evaluate(parseFormula('a / c + 1', names), m), null, 'and whatever follows')
  t.equal(evaluate(parseFormula('100 * a / b', names), m), 200)
  for (const bad of ['', 'a +', '(a', 'a b', 'a; drop table cases', 'd', 'a ^ 2', '1..2']) t.throws(() => parseFormula(bad, names), FormulaError, `refused: "${bad}"`)
  t.equal(score(90, 'higher', 95), 94.74)
  t.equal(score(120, 'higher', 95), 100, 'at most 100')
  t.equal(score(2, 'lower', 0), 33.33, 'target 0: 100/(1+2)')
  t.equal(score(null, 'lower', 3), null)
  t.equal(composite([{ score: 100, weight: 0.4 }, { score: 50, weight: 0.6 }, { score: null, weight: 1 }, { score: 0, weight: 0 }]), 70)
  t.same(ranks([90, null, 95, 90, 10]), [2, null, 1, 2, 4], 'competition ranks; no score, no rank')
})
