/**
 * The running service keeps the daily indicator snapshot (server/base/schedule.ts):
 * missing days of the last week filled at start, today's taken, nothing redone.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { scheduleSnapshots } from '../server/base/schedule.ts'

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { db } = ctx

const days = async (): Promise<string[]> => (await db.query<{ day: string }>("SELECT DISTINCT to_char(day, 'YYYY-MM-DD') AS day FROM indicator_snapshots ORDER BY 1")).rows.map((r) => r.day)

t.test('missing days are filled, today is taken, present days are left alone', async (t) => {
  const now = (): Date => new Date('2025-10-20T10:00:00+08:00')
  const lines: string[] = []
  const log = { info: (_o: object, msg: string) => { lines.push(msg) }, error: (o: object, msg: string) => { lines.push(`error: ${msg} ${JSON.stringify(o)}`) } }
  await db.query("DELETE FROM indicator_snapshots WHERE day >= '2025-10-17'")
  const first = scheduleSnapshots(db, log, { everyMinutes: 600, backfillDays: 2, now })
  await first.ready
  first.stop()
  const have = await days()
  for (const d of ['2025-10-18', '2025-10-19', '2025-10-20']) t.ok(have.includes(d), `snapshot of ${d}`)
  t.notOk(have.includes('2025-10-17'), 'nothing before the backfill window')
  const taken = lines.filter((l) => l.includes('indicator snapshot taken')).length
  t.equal(taken, 3, 'two missing days and today')
  const rows = (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM indicator_scores WHERE day = '2025-10-20'")).rows[0].n
  t.ok(rows > 0, `today's ranking has ${rows} rows`)

  lines.length = 0
  const second = scheduleSnapshots(db, log, { everyMinutes: 600, backfillDays: 2, now })
  await second.ready
  second.stop()
  t.equal(lines.filter((l) => l.includes('indicator snapshot taken')).length, 1, 'a restart takes only today again')
})
