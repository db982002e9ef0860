/**
 * `npm run cli -- cases`: loads the seeded year of cases (≈ 500,000) into the
 * configured database, with progress; the reference data and demo users first
 * when missing. Refuses when there are cases already unless --append.
 *   npm run cli -- cases [--count 500000] [--days 365] [--end 2026-11-01T00:00:00+08:00] [--seed N] [--append]
 */
import { parseArgs } from 'node:util'
import type { Database } from '../db/types.ts'

export async function casesCommand(db: Database, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { count: { type: 'string' }, days: { type: 'string' }, end: { type: 'string' }, seed: { type: 'string' }, append: { type: 'boolean' } } })
  const { YEAR_CASES, HISTORY_SEED, loadHistoryWithProgress } = await import('../../fixtures/cases.ts')
  const { ensureCaseReference } = await import('../../fixtures/case-reference.ts')
  const { ensureDemoUsers } = await import('../../fixtures/users.ts')
  const count = values.count ? Number(values.count) : YEAR_CASES
  const days = values.days ? Number(values.days) : 365
  const end = values.end ? new Date(values.end) : startOfToday()
  const seed = values.seed ? Number(values.seed) : HISTORY_SEED
  if (!(Number.isInteger(count) && count > 0 && Number.isInteger(days) && days > 0 && Number.isInteger(seed) && !Number.isNaN(end.getTime()))) {
    console.error('--count and --days are whole numbers > 0, --end an ISO date-time')
    return 2
  }
  if ((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cells')).rows[0].n === 0) {
    console.error('no grid: start the server once (or npm run cli -- import) before loading cases')
    return 1
  }
  const existing = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cases')).rows[0].n
  if (existing > 0 && !values.append) {
    console.error(`there are ${existing.toLocaleString('en')} cases already; add --append to add a history anyway`)
    return 1
  }
  await ensureCaseReference(db, { log: (m) => console.error(m) })
  await ensureDemoUsers(db)
  const r = await loadHistoryWithProgress(db, { count, days, end, seed })
  console.log(`loaded ${r.cases.toLocaleString('en')} cases (${r.reports.toLocaleString('en')} reports, ${r.events.toLocaleString('en')} events) in ${(r.ms / 1000).toFixed(1)} s — ${Math.round(r.cases / (r.ms / 1000)).toLocaleString('en')} cases/s`)
  return 0
}

/** Midnight today, Beijing time. */
export function startOfToday(now = new Date()): Date {
  const day = Math.floor((now.getTime() + 8 * 3_600_000) / 86_400_000)
  return new Date(day * 86_400_000 - 8 * 3_600_000)
}
