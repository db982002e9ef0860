/**
 * The daily indicator snapshot, kept current by the running service: the screen
 * shows today's values and the trend of the days before. After start it fills
 * the last `backfillDays` days that have no snapshot (their end-of-day values),
 * then retakes today's every `everyMinutes`; the first run after midnight also
 * takes yesterday's at its end, so each day keeps its closing values.
 * `npm run cli -- indicators-snapshot` does the same by hand or from cron.
 */
import type { Database } from '../db/types.ts'
import { beijingDay, takeSnapshot } from './indicators.ts'

export interface SnapshotSchedule {
  stop(): void
  /** Resolves when the start-up work (backfill and today's first snapshot) is done. */
  ready: Promise<void>
}

const DAY_MS = 86_400_000

/** What the schedule says (Fastify's logger fits). */
export interface SnapshotLog {
  info(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export function scheduleSnapshots(db: Database, log: SnapshotLog, opts: { everyMinutes: number; backfillDays: number; now?: () => Date }): SnapshotSchedule {
  const now = opts.now ?? (() => new Date())
  let lastDay = beijingDay(now())
  let stopped = false
  const take = async (day: string): Promise<void> => {
    const s = await takeSnapshot(db, { day, now: now() })
    log.info({ day, rows: s.subjects.reduce((n, x) => n + x.rows, 0), ms: s.ms }, 'indicator snapshot taken')
  }
  const ready = (async () => {
    const today = beijingDay(now())
    const since = beijingDay(new Date(now().getTime() - opts.backfillDays * DAY_MS))
    const have = new Set((await db.query<{ day: string }>("SELECT DISTINCT to_char(day, 'YYYY-MM-DD') AS day FROM indicator_snapshots WHERE day >= $1::date", [since])).rows.map((r) => r.day))
    for (let d = opts.backfillDays; d >= 1 && !stopped; d--) {
      const day = beijingDay(new Date(now().getTime() - d * DAY_MS))
      if (!have.has(day)) await take(day)
    }
    if (!stopped) await take(today)
  })().catch((err: unknown) => log.error({ err }, 'indicator snapshot failed at start'))
  const timer = setInterval(() => {
    const today = beijingDay(now())
    const run = async (): Promise<void> => {
      if (today !== lastDay) await take(lastDay)
      lastDay = today
      await take(today)
    }
    run().catch((err: unknown) => log.error({ err }, 'indicator snapshot failed'))
  }, opts.everyMinutes * 60_000)
  timer.unref()
  return { stop: () => { stopped = true; clearInterval(timer) }, ready: ready.then(() => undefined) }
}
