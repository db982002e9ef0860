/**
 * The public's evaluation (外部评价): a reporter rates the result of a closed
 * case — satisfied (满意), basically (基本满意) or not (不满意) — once, with a
 * comment, through the API (the case's page) or Open311. An unsatisfied rating
 * reopens the case for review (复核重办) when evaluation_settings says so: the
 * case goes back to handled and a supervisor verifies the result again.
 */
import type { Database } from '../db/types.ts'
import { AppError } from '../errors.ts'
import type { CaseConfig } from '../cases/config.ts'
import type { Actor } from '../cases/roles.ts'
import { applyAction } from '../cases/transition.ts'
import { stateOf } from '../cases/service.ts'
import { applyEffect, lockCase } from '../repositories/case-transitions.ts'

export const RATINGS = ['satisfied', 'basic', 'unsatisfied'] as const
export type Rating = (typeof RATINGS)[number]
export const RATING_NAMES: Record<Rating, string> = { satisfied: '满意', basic: '基本满意', unsatisfied: '不满意' }

/** Who reopens a case after an unsatisfied rating. */
export const EVALUATION_ACTOR: Actor = { userId: null, name: '市民评价', role: 'system', org: null }

export interface RatingInput { rating: Rating; comment?: string | null; channel: 'web' | 'open311' }

export interface RatingResult {
  id: number
  case_id: number
  rating: Rating
  rating_name: string
  comment: string | null
  channel: string
  created_at: string
  /** The case was reopened for review because of this rating. */
  reopened: boolean
  case_status: string
}

const fail = (status: number, code: string, message: string, details?: unknown): AppError => new AppError(status, code, message, details)
const DAY = 86_400_000

/**
 * Takes a rating. Refusals: 403 not_reporter, 404 unknown case, 409 case_not_closed,
 * already_rated or rating_period_over.
 */
export async function rateCase(deps: { db: Database; config: CaseConfig; now: Date }, actor: Actor, caseId: number, input: RatingInput): Promise<RatingResult> {
  if (actor.userId === null) throw fail(403, 'not_reporter', 'only the person who reported a case may rate it')
  const comment = input.comment?.trim() || null
  return deps.db.transaction(async (tx) => {
    const row = await lockCase(tx, caseId)
    if (!row) throw fail(404, 'not_found', `case ${caseId} not found`)
    const reporter = (await tx.query('SELECT 1 FROM case_reports WHERE case_id = $1 AND reporter_id = $2 LIMIT 1', [caseId, actor.userId])).rows.length > 0
    if (!reporter) throw fail(403, 'not_reporter', 'only the person who reported a case may rate it', { case_id: caseId })
    const earlier = (await tx.query<{ id: number }>('SELECT id::int AS id FROM case_ratings WHERE case_id = $1 AND user_id = $2', [caseId, actor.userId])).rows[0]
    if (earlier) throw fail(409, 'already_rated', 'you have rated this case already; a case is rated once', { rating_id: earlier.id })
    if (row.status !== 'closed' || !row.closed_at) throw fail(409, 'case_not_closed', `the case is ${row.status}; it can be rated once it is closed`, { status: row.status })
    const settings = (await tx.query<{ rate_within_days: number; reopen_unsatisfied: boolean }>('SELECT rate_within_days, reopen_unsatisfied FROM evaluation_settings')).rows[0]
    const closedAt = new Date(row.closed_at)
    if (deps.now.getTime() - closedAt.getTime() > settings.rate_within_days * DAY) {
      throw fail(409, 'rating_period_over', `a case can be rated within ${settings.rate_within_days} days of its close`, { closed_at: closedAt.toISOString() })
    }
    const reopen = input.rating === 'unsatisfied' && settings.reopen_unsatisfied
    const inserted = (await tx.query<{ id: number }>(`INSERT INTO case_ratings (case_id, user_id, rating, comment, channel, reopened, created_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id::int AS id`, [caseId, actor.userId, input.rating, comment, input.channel, reopen, deps.now])).rows[0]
    let status = row.status
    if (reopen) {
      const note = `市民评价不满意，复核重办${comment ? `：${comment}` : ''}`
      const effect = applyAction(stateOf(row), 'reopen', { note }, { now: deps.now, actor: EVALUATION_ACTOR, config: deps.config })
      const event = effect.events[0]
      event.data = { ...(event.data ?? {}), rating_id: inserted.id, rating: input.rating }
      await applyEffect(tx, caseId, effect.patch, effect.events, effect.assignments, deps.now)
      status = effect.next.status
    }
    return {
      id: inserted.id, case_id: caseId, rating: input.rating, rating_name: RATING_NAMES[input.rating], comment, channel: input.channel,
      created_at: deps.now.toISOString(), reopened: reopen, case_status: status,
    }
  })
}

export async function ratingsOfCase(db: Database, caseId: number): Promise<RatingResult[]> {
  const rows = (await db.query<{ id: number; rating: Rating; comment: string | null; channel: string; created_at: Date; reopened: boolean; status: string }>(
    `SELECT r.id::int AS id, r.rating, r.comment, r.channel, r.created_at, r.reopened, c.status FROM case_ratings r JOIN cases c ON c.id = r.case_id
     WHERE r.case_id = $1 ORDER BY r.id`, [caseId])).rows
  return rows.map((r) => ({
    id: r.id, case_id: caseId, rating: r.rating, rating_name: RATING_NAMES[r.rating], comment: r.comment, channel: r.channel,
    created_at: new Date(r.created_at).toISOString(), reopened: r.reopened, case_status: r.status,
  }))
}
