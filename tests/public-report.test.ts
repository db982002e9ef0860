/**
 * Reporting without an account: the human check, guest accounts for phones,
 * and the limits on both (server/routes/public.ts; the resident limit on
 * POST /api/cases).
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { demoToken } from '../fixtures/users.ts'

const ctx = await testApp('chaoyang', { WANGGE_RESIDENT_REPORTS_PER_HOUR: '3', WANGGE_GUESTS_PER_HOUR: '8' })
t.teardown(() => ctx.close())
const { app, db } = ctx

interface Challenge { challenge: string; question: string; expires_at: string }
const ask = async (): Promise<Challenge> => (await app.inject({ url: '/api/public/challenge' })).json<Challenge>()
const solve = (q: string): number => {
  const m = /^(\d+) ([+−]) (\d+) = \?$/.exec(q)
  if (!m) throw new Error(`unexpected question ${q}`)
  return m[2] === '+' ? Number(m[1]) + Number(m[3]) : Number(m[1]) - Number(m[3])
}
const guest = (challenge: string, answer: number) => app.inject({ method: 'POST', url: '/api/public/guest', payload: { challenge, answer } })
const users = async (): Promise<number> => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM users')).rows[0].n

const point = (await db.query<{ lon: number; lat: number }>('SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT ST_PointOnSurface(geom) AS p FROM cells ORDER BY code LIMIT 1) x')).rows[0]

let token = ''
t.test('a wrong, changed or reused answer gets no account; the right one does', async (t) => {
  const before = await users()
  const c = await ask()
  t.match(c.question, /^\d+ [+−] \d+ = \?$/)
  const wrong = await guest(c.challenge, solve(c.question) + 1)
  t.equal(wrong.statusCode, 422)
  t.equal(wrong.json<{ error: { code: string; details: { field: string } } }>().error.code, 'human_check_failed')
  t.equal(wrong.json<{ error: { details: { field: string } } }>().error.details.field, 'body.answer')
  const reused = await guest(c.challenge, solve(c.question))
  t.equal(reused.json<{ error: { code: string } }>().error.code, 'challenge_used', 'a question is good once, right or wrong')

  const d = await ask()
  const [body, mac] = d.challenge.split('.')
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), exp: Date.now() + 1e9 })).toString('base64url')
  t.equal((await guest(`${forged}.${mac}`, solve(d.question))).json<{ error: { code: string } }>().error.code, 'invalid_challenge', 'a changed challenge is refused')
  t.equal((await guest('not-a-challenge-at-all', 3)).json<{ error: { code: string } }>().error.code, 'invalid_challenge')
  t.equal(await users(), before, 'no account was made')

  const ok = await guest(d.challenge, solve(d.question))
  t.equal(ok.statusCode, 201)
  token = ok.json<{ token: string }>().token
  const me = await app.inject({ url: '/api/me', headers: { authorization: `Bearer ${token}` } })
  t.equal(me.json<{ role: string; report_channels: string[] }>().role, 'resident', 'the phone is now a resident')
  t.ok(me.json<{ report_channels: string[] }>().report_channels.includes('web'))
})

t.test('a guest reports, follows its own case and nobody else\'s; its reports are limited, staff are not', async (t) => {
  const auth = { authorization: `Bearer ${token}` }
  const report = (i: number) => app.inject({
    method: 'POST', url: '/api/cases', headers: auth,
    payload: { matter: '11010506010', description: `暴露垃圾 ${i}`, point: { lon: point.lon + i * 0.003, lat: point.lat } },
  })
  const first = await report(0)
  t.equal(first.statusCode, 201, first.body)
  const id = first.json<{ case: { id: number; channel: string } }>().case.id
  t.equal(first.json<{ case: { channel: string } }>().case.channel, 'web', 'a resident reports through the web channel')
  t.equal((await app.inject({ url: `/api/cases/${id}`, headers: auth })).statusCode, 200, 'the guest sees its case')
  const other = (await db.query<{ id: number }>('SELECT id::int AS id FROM cases WHERE reporter_id IS DISTINCT FROM (SELECT reporter_id FROM cases WHERE id = $1) LIMIT 1', [id])).rows[0].id
  t.equal((await app.inject({ url: `/api/cases/${other}`, headers: auth })).statusCode, 404, 'and not another reporter\'s')
  t.equal((await report(1)).statusCode, 201)
  t.equal((await report(2)).statusCode, 201)
  const limited = await report(3)
  t.equal(limited.statusCode, 429, 'the fourth report in an hour is refused (limit 3)')
  t.equal(limited.json<{ error: { code: string } }>().error.code, 'rate_limited')
  t.ok(Number(limited.headers['retry-after']) > 0, 'with Retry-After')
  const staff = await app.inject({
    method: 'POST', url: '/api/cases', headers: { authorization: `Bearer ${demoToken('supervisor')}` },
    payload: { matter: '11010506010', description: '暴露垃圾', point: { lon: point.lon + 0.02, lat: point.lat } },
  })
  t.ok([200, 201].includes(staff.statusCode), 'a supervisor is not limited by the residents\' limit')
})

t.test('guest accounts are limited per address', async (t) => {
  // five attempts above (failed ones count: the limit is on trying); the limit is 8 per hour
  const codes: number[] = []
  for (let i = 0; i < 4; i++) {
    const c = await ask()
    codes.push((await guest(c.challenge, solve(c.question))).statusCode)
  }
  t.same(codes, [201, 201, 201, 429], 'the ninth attempt in an hour from one address is refused')
})
