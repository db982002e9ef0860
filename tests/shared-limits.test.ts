/**
 * Two server processes on one database (two apps here, each with its own
 * memory, sharing the database as two processes would) enforce one set of
 * public limits and one set of used human-check questions (migration 014):
 * a limit of N an hour is N across both, and a question asked at one can be
 * answered at the other once, not once at each.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { buildApp } from '../server/app.ts'
import { loadConfig } from '../server/config.ts'

const env = { WANGGE_GUESTS_PER_HOUR: '4', WANGGE_RESIDENT_REPORTS_PER_HOUR: '3', WANGGE_SECRET: 'one key for every process of the test' }
const ctx = await testApp('chaoyang', env)
const a = ctx.app
const b = await buildApp({ config: loadConfig({ ...env, WANGGE_SEED_FIXTURE: 'false' }), db: ctx.db })
await b.ready()
t.teardown(async () => { await b.close(); await ctx.close() })

type App = typeof a
interface Challenge { challenge: string; question: string }
const ask = async (app: App): Promise<Challenge> => (await app.inject({ url: '/api/public/challenge' })).json<Challenge>()
const solve = (q: string): number => {
  const m = /^(\d+) ([+−]) (\d+) = \?$/.exec(q)
  if (!m) throw new Error(`unexpected question ${q}`)
  return m[2] === '+' ? Number(m[1]) + Number(m[3]) : Number(m[1]) - Number(m[3])
}
const guest = (app: App, challenge: string, answer: number) => app.inject({ method: 'POST', url: '/api/public/guest', payload: { challenge, answer } })
const code = (r: { json: <T>() => T }): string => r.json<{ error: { code: string } }>().error.code

let guestToken = ''
t.test('a question asked at one process is answered at the other, once', async (t) => {
  const c = await ask(a)
  const atB = await guest(b, c.challenge, solve(c.question))
  guestToken = atB.json<{ token?: string }>().token ?? ''
  const againAtA = await guest(a, c.challenge, solve(c.question))
  const againAtB = await guest(b, c.challenge, solve(c.question))
  t.equal(atB.statusCode, 201, atB.body)
  t.equal(againAtA.statusCode, 422)
  t.equal(code(againAtA), 'challenge_used', 'the other process knows it was used')
  t.equal(code(againAtB), 'challenge_used')
})

t.test('guest accounts per address: one limit across both processes', async (t) => {
  // Three attempts above; the limit is 4 an hour per address, counted wherever they arrive.
  const statuses: number[] = []
  for (const app of [a, b]) {
    const c = await ask(app)
    statuses.push((await guest(app, c.challenge, solve(c.question))).statusCode)
  }
  t.same(statuses, [201, 429], 'the fifth attempt is refused although the second process saw only two')
})

t.test('a resident\'s reports per hour: one limit across both processes', async (t) => {
  const point = (await ctx.db.query<{ lon: number; lat: number }>('SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT ST_PointOnSurface(geom) AS p FROM cells ORDER BY code LIMIT 1) x')).rows[0]
  const statuses: number[] = []
  for (const [i, app] of [a, b, a, b].entries()) {
    const r = await app.inject({
      method: 'POST', url: '/api/cases', headers: { authorization: `Bearer ${guestToken}` },
      payload: { matter: '11010506010', description: `暴露垃圾 ${i}`, point: { lon: point.lon + i * 0.003, lat: point.lat } },
    })
    statuses.push(r.statusCode)
  }
  t.ok(guestToken.length > 0, 'a guest account to report with')
  t.same(statuses, [201, 201, 201, 429], 'the fourth report is refused at the process that saw one')
})
