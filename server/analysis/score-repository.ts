/**
 * The counts behind every indicator (indicators.ts says what each one means),
 * as one aggregation over the cases reported in a window: one scan, grouped
 * by the level's key. Levels map to key expressions from an allow-list; the
 * window, evaluation time and matter are parameters.
 *
 * Places share one scan: counts are sums, and a cell code begins with its
 * community's and subdistrict's codes, so communities and subdistricts are
 * rolled up from the cells' counts in memory — one aggregation, remembered
 * for a second, answers all three levels. The aggregation has no ordered-set
 * aggregate so PostgreSQL can run it as a parallel hash aggregate; the p90 of
 * the time to close (a sort per unit) is asked only for the units a page shows.
 */
import type { Queryable } from '../db/types.ts'
import { COUNT_KEYS, PUBLIC_CHANNELS, zeroCounts, type Counts, type Level, type SatisfactionCounts } from './indicators.ts'

/** The grouping key of each level (allow-list: never request text). */
const KEY: Record<Level, string> = {
  cell: 'c.cell_code',
  community: 'c.community_code',
  subdistrict: 'c.subdistrict_code',
  unit: 'c.lead_unit',
  supervisor: 'c.reporter_id::text',
}

/**
 * $1 from, $2 to, $3 T (evaluation time), $4 matter prefix or null, $5 public channels.
 * Each FILTER is the count of the same name in indicators.ts.
 */
export function countsSql(level: Level): string {
  const handled = 'c.handled_at < $3'
  const overdueUnhandled = "(c.handle_due_at < $3 AND (c.handled_at IS NULL OR c.handled_at >= $3) AND c.status <> 'deferred' AND c.voided_at IS NULL)"
  const dueClose = `(${handled} OR ${overdueUnhandled})`
  const dueDispatch = '(c.dispatched_at < $3 OR (c.dispatch_due_at < $3 AND (c.dispatched_at IS NULL OR c.dispatched_at >= $3) AND c.voided_at IS NULL))'
  const verifyEnded = '(c.verify_on_time IS NOT NULL AND c.handled_at < $3)'
  const verifyOverdue = "(c.verify_on_time IS NULL AND c.verify_due_at < $3 AND c.status = 'handled')"
  const closed = 'c.closed_at < $3'
  const hours = 'extract(epoch FROM c.closed_at - c.reported_at) / 3600'
  return `SELECT ${KEY[level]} AS key,
  count(*)::int AS reported,
  count(*) FILTER (WHERE c.accepted_at < $3 OR c.voided_at < $3)::int AS decided,
  count(*) FILTER (WHERE (c.accepted_at < $3 OR c.voided_at < $3) AND c.accept_on_time)::int AS decided_on_time,
  count(*) FILTER (WHERE c.accepted_at < $3)::int AS opened,
  count(*) FILTER (WHERE c.voided_at < $3)::int AS voided,
  count(*) FILTER (WHERE c.accepted_at < $3 AND c.channel = ANY($5::text[]))::int AS public_opened,
  count(*) FILTER (WHERE ${dueDispatch})::int AS due_dispatch,
  count(*) FILTER (WHERE c.dispatched_at < $3 AND c.dispatch_on_time)::int AS dispatched_on_time,
  count(*) FILTER (WHERE ${dueDispatch} AND c.return_count > 0)::int AS returned,
  count(*) FILTER (WHERE ${dueClose})::int AS due_close,
  count(*) FILTER (WHERE ${handled})::int AS handled,
  count(*) FILTER (WHERE ${handled} AND c.handle_on_time)::int AS handled_on_time,
  count(*) FILTER (WHERE ${closed})::int AS closed,
  count(*) FILTER (WHERE ${closed} AND c.handle_on_time AND c.verify_on_time AND c.close_on_time)::int AS closed_on_time,
  count(*) FILTER (WHERE ${dueClose} AND c.rework_count > 0)::int AS reworked,
  count(*) FILTER (WHERE ${verifyEnded} OR ${verifyOverdue})::int AS due_verify,
  count(*) FILTER (WHERE ${verifyEnded} AND c.verify_on_time)::int AS verified_on_time,
  coalesce(sum(${hours}) FILTER (WHERE ${closed}), 0)::float8 AS close_sum_h
FROM cases c
WHERE c.reported_at >= $1 AND c.reported_at < $2
  AND ($4::text IS NULL OR starts_with(c.matter_code, $4))
  AND ${KEY[level]} IS NOT NULL
GROUP BY 1`
}

/** The p90 of reported → closed hours, for some units ($5 keys, or null: all). */
function p90Sql(level: Level): string {
  return `SELECT ${KEY[level]} AS key,
  percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM c.closed_at - c.reported_at) / 3600)::float8 AS p90
FROM cases c
WHERE c.reported_at >= $1 AND c.reported_at < $2 AND c.closed_at < $3
  AND ($4::text IS NULL OR starts_with(c.matter_code, $4))
  AND ($5::text[] IS NULL OR ${KEY[level]} = ANY($5::text[]))
GROUP BY 1`
}

/**
 * Supervisors' own verifications: every 核查通过 / 返工 they made on cases of the
 * window before T, on time when the stage ended within its limit (the event records it).
 */
const SUPERVISOR_VERIFICATIONS = `SELECT e.actor_id::text AS key, count(*)::int AS due_verify,
  count(*) FILTER (WHERE (e.data -> 'stage_ended' ->> 'on_time')::boolean)::int AS verified_on_time
FROM cases c JOIN case_events e ON e.case_id = c.id
WHERE c.reported_at >= $1 AND c.reported_at < $2
  AND ($4::text IS NULL OR starts_with(c.matter_code, $4))
  AND e.action IN ('verify', 'rework') AND e.at < $3 AND e.actor_id IS NOT NULL
GROUP BY 1`

/**
 * The public's answers per unit (indicators.ts SATISFACTION): ratings before T of the
 * window's cases; for subdistricts also third-party surveys whose period ends in the
 * window (not when a matter is asked for: surveys have none). $1 from, $2 to, $3 T, $4 matter.
 */
export function satisfactionSql(level: Level): string {
  const ratings = `SELECT ${KEY[level]} AS key, r.rating, 1 AS n FROM case_ratings r JOIN cases c ON c.id = r.case_id
    WHERE c.reported_at >= $1 AND c.reported_at < $2 AND r.created_at < $3
      AND ($4::text IS NULL OR starts_with(c.matter_code, $4)) AND ${KEY[level]} IS NOT NULL`
  const surveys = level !== 'subdistrict' ? '' : `
    UNION ALL SELECT s.subdistrict_code, a.rating, a.n FROM survey_results s
      CROSS JOIN LATERAL (VALUES ('satisfied', s.satisfied), ('basic', s.basic), ('unsatisfied', s.unsatisfied)) AS a(rating, n)
    WHERE $4::text IS NULL AND s.period_end >= ($1::timestamptz AT TIME ZONE 'Asia/Shanghai')::date AND s.period_end < ($2::timestamptz AT TIME ZONE 'Asia/Shanghai')::date`
  return `SELECT key, coalesce(sum(n) FILTER (WHERE rating = 'satisfied'), 0)::int AS satisfied,
  coalesce(sum(n) FILTER (WHERE rating = 'basic'), 0)::int AS basic, coalesce(sum(n) FILTER (WHERE rating = 'unsatisfied'), 0)::int AS unsatisfied
FROM (${ratings}${surveys}) x GROUP BY 1`
}

/** The units of a level, with names and parents, for ranking every one (even without cases). */
const UNITS: Record<Level, string> = {
  cell: `SELECT c.code AS key, cm.name || ' ' || right(c.code, 3) AS name, c.community_code AS parent, c.subdistrict_code AS subdistrict
    FROM cells c JOIN communities cm ON cm.code = c.community_code`,
  community: 'SELECT code AS key, name, subdistrict_code AS parent, subdistrict_code AS subdistrict FROM communities',
  subdistrict: 'SELECT code AS key, name, district_code AS parent, code AS subdistrict FROM subdistricts',
  // Units that led a case of the window (or the previous one): $1 from, $2 to.
  unit: `SELECT o.uscc AS key, o.name, o.kind AS parent, o.subdistrict_code AS subdistrict FROM organisations o
    WHERE o.uscc IN (SELECT DISTINCT lead_unit FROM cases WHERE reported_at >= $1 AND reported_at < $2 AND lead_unit IS NOT NULL)`,
  supervisor: "SELECT id::text AS key, name, NULL::text AS parent, NULL::text AS subdistrict FROM users WHERE role = 'supervisor'",
}

export interface UnitCounts {
  counts: Counts
  /** Sum of reported → closed hours over the closed cases (the mean is this / counts.closed). */
  closeSumHours: number
}

export interface UnitInfo {
  key: string
  name: string
  /** Community of a cell, subdistrict of a community, district of a subdistrict, kind of an organisation. */
  parent: string | null
  subdistrict: string | null
}

export interface CountQuery {
  from: Date
  to: Date
  /** When the states are read: the window's end, or now if earlier. */
  at: Date
  matter: string | null
}

type CountRow = { key: string; close_sum_h: number } & Record<string, number | string | null>

/** Code length of each place level: a cell code starts with its community's (12) and subdistrict's (9). */
const PREFIX: Partial<Record<Level, number>> = { community: 12, subdistrict: 9 }

export interface ScoreRepositoryOptions {
  /** How long a finished cell aggregation keeps serving the place levels, ms; 0 (default): only while it runs, so no answer misses a case written before its request. */
  shareMs?: number
}

export class ScoreRepository {
  private readonly shared = new Map<string, { at: number; settled: boolean; p: Promise<Map<string, UnitCounts>> }>()
  private readonly shareMs: number

  constructor(private readonly db: Queryable, opts: ScoreRepositoryOptions = {}) {
    this.shareMs = opts.shareMs ?? 0
  }

  /** Counts per unit of `level` for one window. */
  async counts(level: Level, q: CountQuery): Promise<Map<string, UnitCounts>> {
    if (level === 'cell') return this.cellCounts(q)
    const len = PREFIX[level]
    if (len !== undefined) {
      const out = new Map<string, UnitCounts>()
      for (const [code, u] of await this.cellCounts(q)) {
        const key = code.slice(0, len)
        const acc = out.get(key)
        if (!acc) out.set(key, { counts: { ...u.counts }, closeSumHours: u.closeSumHours })
        else {
          for (const k of COUNT_KEYS) acc.counts[k] += u.counts[k]
          acc.closeSumHours += u.closeSumHours
        }
      }
      return out
    }
    return this.query(level, q)
  }

  /**
   * The cell aggregation, shared by requests with the same window, time and matter while it runs
   * (a dashboard asking for cells, communities and subdistricts at once pays once), and for
   * shareMs after (0 by default: an answer never predates the request, so a case written
   * just before is counted).
   */
  private cellCounts(q: CountQuery): Promise<Map<string, UnitCounts>> {
    const key = `${q.from.getTime()}|${q.to.getTime()}|${q.at.getTime()}|${q.matter ?? ''}`
    const now = performance.now()
    for (const [k, v] of this.shared) if (v.settled && now - v.at > this.shareMs) this.shared.delete(k)
    let hit = this.shared.get(key)
    if (!hit) {
      const entry = { at: now, settled: false, p: this.query('cell', q) }
      hit = entry
      this.shared.set(key, entry)
      entry.p.then(() => {
        entry.settled = true
        entry.at = performance.now()
        if (this.shareMs === 0 && this.shared.get(key) === entry) this.shared.delete(key)
      }, () => { if (this.shared.get(key) === entry) this.shared.delete(key) })
    }
    return hit.p
  }

  private async query(level: Level, q: CountQuery): Promise<Map<string, UnitCounts>> {
    const params = [q.from, q.to, q.at, q.matter, PUBLIC_CHANNELS]
    const [main, verifications] = await Promise.all([
      this.db.query<CountRow>(countsSql(level), params),
      level === 'supervisor' ? this.db.query<{ key: string; due_verify: number; verified_on_time: number }>(SUPERVISOR_VERIFICATIONS, params.slice(0, 4)) : null,
    ])
    const out = new Map<string, UnitCounts>()
    for (const r of main.rows) {
      const counts = {} as Counts
      for (const k of COUNT_KEYS) counts[k] = Number(r[k])
      out.set(String(r.key).trim(), { counts, closeSumHours: Number(r.close_sum_h) })
    }
    if (verifications) {
      // A supervisor's verifications are theirs, not those of the cases they reported.
      for (const u of out.values()) { u.counts.due_verify = 0; u.counts.verified_on_time = 0 }
      for (const r of verifications.rows) {
        let u = out.get(r.key)
        if (!u) {
          u = { counts: zeroCounts(), closeSumHours: 0 }
          out.set(r.key, u)
        }
        u.counts.due_verify = r.due_verify
        u.counts.verified_on_time = r.verified_on_time
      }
    }
    return out
  }

  /** p90 of the time to close (hours) of some units of a level, or of all (keys null). */
  async closeP90(level: Level, q: CountQuery, keys: readonly string[] | null): Promise<Map<string, number>> {
    if (keys && !keys.length) return new Map()
    const rows = (await this.db.query<{ key: string; p90: number }>(p90Sql(level), [q.from, q.to, q.at, q.matter, keys])).rows
    return new Map(rows.map((r) => [String(r.key).trim(), r.p90]))
  }

  /** The public's answers per unit for one window (SATISFACTION in indicators.ts). */
  async satisfaction(level: Level, q: CountQuery): Promise<Map<string, SatisfactionCounts>> {
    const rows = (await this.db.query<{ key: string } & SatisfactionCounts>(satisfactionSql(level), [q.from, q.to, q.at, q.matter])).rows
    return new Map(rows.map((r) => [String(r.key).trim(), { satisfied: r.satisfied, basic: r.basic, unsatisfied: r.unsatisfied }]))
  }

  /** Every unit of a level (for units: those that led a case between `from` and `to`). */
  async units(level: Level, from: Date, to: Date): Promise<UnitInfo[]> {
    const rows = (await this.db.query<UnitInfo>(UNITS[level], level === 'unit' ? [from, to] : [])).rows
    return rows.map((r) => ({ key: r.key.trim(), name: r.name, parent: r.parent?.trim() ?? null, subdistrict: r.subdistrict?.trim() ?? null }))
  }

  /** True when the matter code exists in the taxonomy. */
  async matterExists(code: string): Promise<boolean> {
    return (await this.db.query('SELECT 1 FROM matter_types WHERE code = $1', [code])).rows.length > 0
  }
}
