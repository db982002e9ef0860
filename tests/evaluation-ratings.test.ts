/**
 * The public's ratings: accepted once and only from the reporter, only of a
 * closed case and within the period; an unsatisfied rating reopens the case
 * for review (复核重办) and the loop goes on from there; the Open311 extension;
 * satisfaction in the composite scores with its weight.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { auth, component, testClock, upload } from './helpers/cases.ts'
import { DEMO_SUBDISTRICT, createUser, demoToken } from '../fixtures/users.ts'
import { SATISFACTION } from '../server/analysis/indicators.ts'

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { app, db } = ctx
// Monday 2026-03-16, 10:00 Beijing time.
const clock = testClock(app, new Date('2026-03-16T10:00:00+08:00'))

const act = (key: string, id: number, action: string, body: Record<string, unknown> = {}) =>
  app.inject({ method: 'POST', url: `/api/cases/${id}/${action}`, headers: auth(key), payload: body })
const rate = (headers: Record<string, string>, id: number, payload: Record<string, unknown>) =>
  app.inject({ method: 'POST', url: `/api/cases/${id}/rating`, headers, payload })

let cover = 0
/** A power-cover case reported by the demo resident (web), driven to closed by the roles whose steps they are. */
async function closedCase(close = true): Promise<number> {
  const c = await component(db, '01005', DEMO_SUBDISTRICT, cover++)
  const r = await app.inject({ method: 'POST', url: '/api/cases', headers: auth('resident'), payload: { matter: '11010501005002', description: '井盖坏了', point: { lon: c.lon, lat: c.lat } } })
  if (r.statusCode !== 201) throw new Error(r.body)
  const id = r.json().case.id as number
  const [photo] = await upload(app, 'power')
  const steps: [string, string, Record<string, unknown>][] = [['operator', 'accept', {}], ['power', 'start', {}], ['power', 'handle', { photos: [photo] }], ['supervisor2', 'verify', { photos: [photo] }]]
  if (close) steps.push(['operator', 'close', {}])
  for (const [key, action, body] of steps) {
    clock.advance(30)
    const s = await act(key, id, action, body)
    if (s.statusCode !== 200) throw new Error(`${action}: ${s.body}`)
  }
  return id
}

t.test('a rating is accepted once, and only from the reporter of a closed case', async (t) => {
  const open = await closedCase(false)
  let r = await rate(auth('resident'), open, { rating: 'satisfied' })
  t.equal(r.statusCode, 409)
  t.equal(r.json().error.code, 'case_not_closed', 'not before it is closed')
  const id = await closedCase()
  r = await rate(auth('supervisor'), id, { rating: 'satisfied' })
  t.equal(r.statusCode, 403, 'a supervisor did not report it')
  t.equal(r.json().error.code, 'not_reporter')
  const other = await createUser(db, 'resident', { name: '另一位市民' })
  r = await rate({ authorization: `Bearer ${other.token}` }, id, { rating: 'satisfied' })
  t.equal(r.statusCode, 403, 'nor did another resident')
  t.equal(r.json().error.code, 'not_reporter')
  t.equal((await rate({}, id, { rating: 'satisfied' })).statusCode, 401, 'signed in only')
  t.equal((await rate(auth('resident'), id, { rating: 'great' })).statusCode, 400, 'satisfied, basic or unsatisfied')
  r = await rate(auth('resident'), id, { rating: 'basic', comment: '修得还行，就是慢了点' })
  t.equal(r.statusCode, 201, r.body.slice(0, 200))
  t.match(r.json(), { case_id: id, rating: 'basic', rating_name: '基本满意', comment: '修得还行，就是慢了点', channel: 'web', reopened: false, case_status: 'closed' })
  r = await rate(auth('resident'), id, { rating: 'satisfied' })
  t.equal(r.statusCode, 409, 'once')
  t.equal(r.json().error.code, 'already_rated')
  const all = (await app.inject({ url: `/api/cases/${id}/ratings`, headers: auth('resident') })).json() as { rating: string }[]
  t.same(all.map((x) => x.rating), ['basic'], 'one rating stored')
  t.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM case_ratings WHERE case_id = $1', [id])).rows[0].n, 1)
  t.equal((await app.inject({ url: '/api/cases/999999999/ratings', headers: auth('leader') })).statusCode, 404)
})

t.test('after the rating period no rating is taken', async (t) => {
  const id = await closedCase()
  const days = (await db.query<{ d: number }>('SELECT rate_within_days AS d FROM evaluation_settings')).rows[0].d
  const back = clock.now
  clock.set(new Date(back.getTime() + (days + 1) * 86_400_000))
  const r = await rate(auth('resident'), id, { rating: 'satisfied' })
  t.equal(r.statusCode, 409)
  t.equal(r.json().error.code, 'rating_period_over')
  clock.set(back)
})

t.test('an unsatisfied rating reopens the case for review; the loop goes on', async (t) => {
  const id = await closedCase()
  const r = await rate(auth('resident'), id, { rating: 'unsatisfied', comment: '井盖还是松的' })
  t.equal(r.statusCode, 201)
  t.match(r.json(), { reopened: true, case_status: 'handled' })
  const c = (await app.inject({ url: `/api/cases/${id}`, headers: auth('leader') })).json() as { status: string; stages: Record<string, { done_at: string | null; due_at: string | null }>; events: { action: string; actor: { role: string }; note: string; data: { rating?: string } | null }[] }
  t.equal(c.status, 'handled', 'back to verification')
  t.equal(c.stages.close.done_at, null, 'no longer closed (the first close is in the events)')
  t.equal(c.stages.verify.done_at, null, 'to be verified again')
  t.ok(c.stages.verify.due_at, 'with a new verification deadline')
  t.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cases WHERE id = $1 AND closed_at IS NULL', [id])).rows[0].n, 1,
    'closed_at cleared: scores that count closed cases do not count it until it closes again')
  const reopen = c.events.find((e) => e.action === 'reopen')
  t.match(reopen, { actor: { role: 'system' }, note: /井盖还是松的/, data: { rating: 'unsatisfied' } }, 'an event records why')
  // A supervisor checks again and sends it to rework; the utility redoes it; it closes again.
  const [photo] = await upload(app, 'power')
  for (const [key, action, body] of [['supervisor2', 'rework', { note: '确实松动' }], ['power', 'handle', { photos: [photo] }], ['supervisor2', 'verify', { photos: [photo] }], ['operator', 'close', {}]] as const) {
    clock.advance(20)
    const s = await act(key, id, action, body)
    t.equal(s.statusCode, 200, `${action}: ${s.body.slice(0, 200)}`)
  }
  t.equal((await rate(auth('resident'), id, { rating: 'satisfied' })).json().error.code, 'already_rated', 'still rated once')
  // The command centre may reopen by hand too; nobody else may.
  t.equal((await act('supervisor', id, 'reopen', { note: '复查' })).statusCode, 403)
  const byHand = await act('operator', id, 'reopen', { note: '回访不满意' })
  t.equal(byHand.statusCode, 200)
  t.equal(byHand.json().status, 'handled')
  t.equal((await act('operator', id, 'reopen', { note: '再次' })).json().error.code, 'illegal_transition', 'only a closed case')
})

t.test('when the setting is off an unsatisfied rating is only recorded', async (t) => {
  await db.query('UPDATE evaluation_settings SET reopen_unsatisfied = false')
  const id = await closedCase()
  const r = await rate(auth('resident'), id, { rating: 'unsatisfied' })
  t.match(r.json(), { reopened: false, case_status: 'closed' })
  await db.query('UPDATE evaluation_settings SET reopen_unsatisfied = true')
})

t.test('Open311 extension: the reporter rates with the api_key', async (t) => {
  const id = await closedCase()
  const url = `/open311/v2/requests/${id}/rating.json`
  let r = await app.inject({ method: 'POST', url, payload: `api_key=${demoToken('supervisor')}&rating=满意`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(r.statusCode, 403)
  t.match(r.json(), [{ code: 403, description: /not_reporter/ }], 'the spec\'s error shape')
  r = await app.inject({ method: 'POST', url, payload: `api_key=${demoToken('resident')}&rating=maybe`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(r.statusCode, 400)
  r = await app.inject({ method: 'POST', url, payload: `api_key=${demoToken('resident')}&rating=满意&comment=很快`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(r.statusCode, 201, r.body)
  t.same(r.json(), [{ service_request_id: String(id), rating: 'satisfied', reopened: false, status: 'closed' }])
  const stored = (await db.query<{ channel: string; comment: string }>('SELECT channel, comment FROM case_ratings WHERE case_id = $1', [id])).rows
  t.same(stored, [{ channel: 'open311', comment: '很快' }])
  r = await app.inject({ method: 'POST', url: `/open311/v2/requests/${id}/rating.xml`, payload: { api_key: demoToken('resident'), rating: 'basic' } })
  t.equal(r.statusCode, 409)
  t.match(r.body, /<errors>/, 'xml errors too')
})

t.test('satisfaction enters the composite with its weight', async (t) => {
  t.ok(SATISFACTION.weight > 0 && SATISFACTION.weight < 1, 'a weight is configured')
  // The power utility led every case above; score the unit level over the test's window, a minute after the last rating.
  clock.advance(1)
  const q = 'level=unit&from=2026-03-01T00:00:00%2B08:00&to=2026-04-01T00:00:00%2B08:00'
  const res = await app.inject({ url: `/api/analysis/scores?${q}&limit=1000`, headers: auth('leader') })
  t.equal(res.statusCode, 200, res.body.slice(0, 200))
  const body = res.json() as { items: { code: string; composite: { score: number | null; terms: { term: string; weight: number; score: number | null }[] } }[] }
  const power = (await db.query<{ org: string }>(`SELECT DISTINCT lead_unit AS org FROM cases c JOIN case_ratings r ON r.case_id = c.id`)).rows.map((r) => r.org.trim())
  t.equal(power.length, 1, 'one unit was rated')
  const unit = body.items.find((i) => i.code === power[0])
  t.ok(unit, 'the rated unit is scored')
  const sat = unit?.composite.terms.find((x) => x.term === 'satisfaction')
  // Ratings of its cases: basic, unsatisfied, unsatisfied (setting off), satisfied → (60 + 0 + 0 + 100) / 4 = 40.
  const counts = (await db.query<{ rating: string; n: number }>('SELECT rating, count(*)::int AS n FROM case_ratings GROUP BY 1 ORDER BY 1')).rows
  t.same(counts, [{ rating: 'basic', n: 1 }, { rating: 'satisfied', n: 1 }, { rating: 'unsatisfied', n: 2 }])
  t.match(sat, { weight: SATISFACTION.weight, score: 40 })
  const rest = (unit?.composite.terms ?? []).filter((x) => x.term !== 'satisfaction')
  const formula = rest.reduce((s, x) => s + (x.score ?? 0) * x.weight, 0)
  t.ok(Math.abs((unit?.composite.score ?? 0) - (formula + SATISFACTION.weight * 40)) < 0.05, 'composite = (1 − w) × formula + w × satisfaction')
  t.ok(Math.abs(rest.reduce((s, x) => s + x.weight, 0) - (1 - SATISFACTION.weight)) < 1e-3, 'the formula\'s terms keep their proportions')
})
