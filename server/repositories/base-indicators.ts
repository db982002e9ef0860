/**
 * The SQL behind the monitoring indicators: definitions, the measures of every
 * unit of a subject (one grouped scan per source), and the daily snapshot's
 * rows. Subjects map to key expressions and unit lists from allow-lists; all
 * values are parameters.
 */
import type { Queryable } from '../db/types.ts'
import { PUBLIC_CHANNELS } from '../analysis/indicators.ts'
import { DEPARTMENT_KINDS, UTILITY_KINDS, type Better, type Subject } from '../base/measures.ts'

export interface IndicatorDefinition {
  code: string
  name: string
  subject: Subject
  formula: string
  unit: IndicatorUnit
  better: Better
  target: number
  weight: number
  window_days: number
  active: boolean
  description: string | null
}

export const INDICATOR_UNITS = ['%', 'count', 'per_10k', 'per_100m', 'per_km2', 'hours', 'score'] as const
export type IndicatorUnit = (typeof INDICATOR_UNITS)[number]

export interface UnitRef { key: string; name: string; parent: string | null }

const CASE_KEY: Record<Subject, { key: string; join: string }> = {
  department: { key: 'c.lead_unit', join: '' },
  utility: { key: 'c.lead_unit', join: '' },
  subdistrict: { key: 'c.subdistrict_code', join: '' },
  frontage_unit: { key: 'cf.unit_id', join: 'JOIN case_frontage cf ON cf.case_id = c.id' },
}

/** $1 from, $2 T (end of the window and the time states are read at), $3 public channels. */
function caseSql(s: Subject): string {
  const { key, join } = CASE_KEY[s]
  const closed = "(c.closed_at < $2 AND c.status = 'closed')"
  const dueClose = "(c.handled_at < $2 OR (c.handle_due_at < $2 AND (c.handled_at IS NULL OR c.handled_at >= $2) AND c.status <> 'deferred' AND c.voided_at IS NULL))"
  return `SELECT ${key} AS key,
  count(*)::int AS reported,
  count(*) FILTER (WHERE c.accepted_at < $2)::int AS opened,
  count(*) FILTER (WHERE c.voided_at < $2)::int AS voided,
  count(*) FILTER (WHERE ${closed})::int AS closed,
  count(*) FILTER (WHERE ${closed} AND c.handle_on_time AND c.verify_on_time AND c.close_on_time)::int AS closed_on_time,
  count(*) FILTER (WHERE ${dueClose})::int AS due_close,
  count(*) FILTER (WHERE c.handled_at < $2)::int AS handled,
  count(*) FILTER (WHERE c.handled_at < $2 AND c.handle_on_time)::int AS handled_on_time,
  count(*) FILTER (WHERE ${dueClose} AND c.rework_count > 0)::int AS reworked,
  count(*) FILTER (WHERE c.accepted_at < $2 AND c.return_count > 0)::int AS returned,
  count(*) FILTER (WHERE c.is_open AND c.status <> 'deferred' AND c.due_at < $2)::int AS overdue_open,
  count(*) FILTER (WHERE c.accepted_at < $2 AND c.channel = ANY($3::text[]))::int AS public_opened,
  coalesce(sum(extract(epoch FROM c.closed_at - c.reported_at) / 3600) FILTER (WHERE ${closed}), 0)::float8 AS close_hours
FROM cases c ${join}
WHERE c.reported_at >= $1 AND c.reported_at < $2 AND ${key} IS NOT NULL
GROUP BY 1`
}

/** Ratings given before T of cases reported in the window. */
function ratingSql(s: Subject): string {
  const { key, join } = CASE_KEY[s]
  return `SELECT ${key} AS key, count(*)::int AS rated,
  count(*) FILTER (WHERE r.rating = 'satisfied')::int AS satisfied,
  count(*) FILTER (WHERE r.rating = 'basic')::int AS basic,
  count(*) FILTER (WHERE r.rating = 'unsatisfied')::int AS unsatisfied
FROM case_ratings r JOIN cases c ON c.id = r.case_id ${join}
WHERE c.reported_at >= $1 AND c.reported_at < $2 AND r.created_at < $2 AND ${key} IS NOT NULL
GROUP BY 1`
}

const FACILITY_COLUMNS = `count(*)::int AS facilities,
  count(*) FILTER (WHERE status = 'intact')::int AS facilities_intact,
  count(*) FILTER (WHERE status = 'damaged')::int AS facilities_damaged,
  count(*) FILTER (WHERE status = 'missing')::int AS facilities_missing`
const FACILITIES_BY_OWNER = `SELECT owner AS key, ${FACILITY_COLUMNS} FROM facilities GROUP BY 1`
const FACILITIES_BY_SUBDISTRICT = `SELECT substr(cell_code, 1, 9) AS key, ${FACILITY_COLUMNS} FROM facilities WHERE cell_code IS NOT NULL GROUP BY 1`

/** $1 from, $2 T: base records, named residents, frontage units and surveys ending in the window (Beijing dates). */
const SUBDISTRICT_BASE = `SELECT s.code AS key, coalesce(s.area_m2, 0) / 1e6 AS area_km2,
  coalesce(b.population_resident, 0) AS population_resident, coalesce(b.population_registered, 0) AS population_registered,
  coalesce(b.households, 0) AS households, coalesce(b.buildings, 0) AS buildings, coalesce(b.shops, 0) AS shops,
  coalesce(k.n, 0) AS key_persons, coalesce(f.n, 0) AS frontage_units,
  coalesce(v.respondents, 0) AS survey_respondents, coalesce(v.satisfied, 0) AS survey_satisfied,
  coalesce(v.basic, 0) AS survey_basic, coalesce(v.unsatisfied, 0) AS survey_unsatisfied
FROM subdistricts s
LEFT JOIN (SELECT subdistrict_code, sum(pop_resident)::float8 AS population_resident, sum(pop_registered)::float8 AS population_registered,
    sum(households)::float8 AS households, count(*) FILTER (WHERE kind = 'building')::int AS buildings, count(*) FILTER (WHERE kind = 'shop')::int AS shops
  FROM base_records GROUP BY 1) b ON b.subdistrict_code = s.code
LEFT JOIN (SELECT substr(cell_code, 1, 9) AS sd, count(*)::int AS n FROM base_residents GROUP BY 1) k ON k.sd = s.code
LEFT JOIN (SELECT subdistrict_code, count(*)::int AS n FROM frontage_units WHERE active GROUP BY 1) f ON f.subdistrict_code = s.code
LEFT JOIN (SELECT subdistrict_code, sum(respondents)::int AS respondents, sum(satisfied)::int AS satisfied, sum(basic)::int AS basic, sum(unsatisfied)::int AS unsatisfied
  FROM survey_results WHERE period_end >= ($1::timestamptz AT TIME ZONE 'Asia/Shanghai')::date AND period_end < ($2::timestamptz AT TIME ZONE 'Asia/Shanghai')::date
  GROUP BY 1) v ON v.subdistrict_code = s.code`

const UNITS: Record<Subject, string> = {
  department: 'SELECT uscc AS key, name, kind AS parent FROM organisations WHERE kind = ANY($1::text[]) ORDER BY uscc',
  utility: 'SELECT uscc AS key, name, kind AS parent FROM organisations WHERE kind = ANY($1::text[]) ORDER BY uscc',
  subdistrict: 'SELECT code AS key, name, district_code AS parent FROM subdistricts ORDER BY code',
  frontage_unit: 'SELECT id AS key, name, subdistrict_code AS parent, length_m::float8 AS frontage_m FROM frontage_units WHERE active ORDER BY id',
}
const UNIT_PARAMS: Record<Subject, unknown[]> = {
  department: [DEPARTMENT_KINDS], utility: [UTILITY_KINDS], subdistrict: [], frontage_unit: [],
}

export type Measures = Record<string, number>

type KeyRow = { key: string } & Record<string, unknown>

function merge(into: Map<string, Measures>, rows: readonly KeyRow[]): void {
  for (const r of rows) {
    const key = String(r.key).trim()
    let m = into.get(key)
    if (!m) into.set(key, (m = {}))
    for (const [k, v] of Object.entries(r)) if (k !== 'key' && k !== 'name' && k !== 'parent') m[k] = Number(v)
  }
}

export class IndicatorRepository {
  constructor(private readonly db: Queryable) {}

  async definitions(opts: { subject?: Subject; activeOnly?: boolean } = {}): Promise<IndicatorDefinition[]> {
    return (await this.db.query<IndicatorDefinition>(`SELECT code, name, subject, formula, unit, better, target, weight, window_days, active, description
      FROM indicator_definitions WHERE ($1::text IS NULL OR subject = $1) AND (NOT $2 OR active) ORDER BY code`, [opts.subject ?? null, opts.activeOnly ?? false])).rows
  }

  /** Inserts or replaces a definition (checked by the caller). */
  async upsert(d: IndicatorDefinition): Promise<void> {
    await this.db.query(`INSERT INTO indicator_definitions (code, name, subject, formula, unit, better, target, weight, window_days, active, description)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
      ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, subject = EXCLUDED.subject, formula = EXCLUDED.formula, unit = EXCLUDED.unit,
        better = EXCLUDED.better, target = EXCLUDED.target, weight = EXCLUDED.weight, window_days = EXCLUDED.window_days,
        active = EXCLUDED.active, description = EXCLUDED.description`,
    [d.code, d.name, d.subject, d.formula, d.unit, d.better, d.target, d.weight, d.window_days, d.active, d.description])
  }

  /** Every unit of a subject, with the measures that come with the list (frontage length). */
  async units(s: Subject): Promise<{ units: UnitRef[]; measures: Map<string, Measures> }> {
    const rows = (await this.db.query<KeyRow & { name: string; parent: string | null }>(UNITS[s], UNIT_PARAMS[s])).rows
    const measures = new Map<string, Measures>()
    if (s === 'frontage_unit') merge(measures, rows)
    return { units: rows.map((r) => ({ key: String(r.key).trim(), name: r.name, parent: r.parent === null ? null : String(r.parent).trim() })), measures }
  }

  /** Case and rating measures per unit for cases reported in [from, at). */
  async caseMeasures(s: Subject, from: Date, at: Date): Promise<Map<string, Measures>> {
    const out = new Map<string, Measures>()
    const [cases, ratings] = await Promise.all([
      this.db.query<KeyRow>(caseSql(s), [from, at, PUBLIC_CHANNELS]),
      this.db.query<KeyRow>(ratingSql(s), [from, at]),
    ])
    merge(out, cases.rows)
    merge(out, ratings.rows)
    return out
  }

  /** Component counts by owner (departments, utilities) or by subdistrict. */
  async facilityMeasures(by: 'owner' | 'subdistrict'): Promise<Map<string, Measures>> {
    const out = new Map<string, Measures>()
    merge(out, (await this.db.query<KeyRow>(by === 'owner' ? FACILITIES_BY_OWNER : FACILITIES_BY_SUBDISTRICT)).rows)
    return out
  }

  async subdistrictMeasures(from: Date, at: Date): Promise<Map<string, Measures>> {
    const out = new Map<string, Measures>()
    merge(out, (await this.db.query<KeyRow>(SUBDISTRICT_BASE, [from, at])).rows)
    return out
  }
}

const CHUNK = 20_000

/** Replaces a day's rows of these indicators and subject; call inside a transaction. */
export async function writeSnapshot(tx: Queryable, day: string, subject: Subject, codes: readonly string[],
  values: { indicator: string; key: string; value: number | null; score: number | null }[],
  scores: { key: string; score: number | null; rank: number | null; indicators: number }[]): Promise<void> {
  await tx.query('DELETE FROM indicator_snapshots WHERE day = $1 AND indicator = ANY($2::text[])', [day, codes])
  await tx.query('DELETE FROM indicator_scores WHERE day = $1 AND subject = $2', [day, subject])
  for (let i = 0; i < values.length; i += CHUNK) {
    const c = values.slice(i, i + CHUNK)
    await tx.query(`INSERT INTO indicator_snapshots (day, indicator, unit_key, value, score)
      SELECT $1, i, k, v, s FROM unnest($2::text[], $3::text[], $4::float8[], $5::float8[]) AS t(i, k, v, s)`,
    [day, c.map((r) => r.indicator), c.map((r) => r.key), c.map((r) => r.value), c.map((r) => r.score)])
  }
  for (let i = 0; i < scores.length; i += CHUNK) {
    const c = scores.slice(i, i + CHUNK)
    await tx.query(`INSERT INTO indicator_scores (day, subject, unit_key, score, rank, indicators)
      SELECT $1, $2, k, s, r, n FROM unnest($3::text[], $4::float8[], $5::int[], $6::int[]) AS t(k, s, r, n)`,
    [day, subject, c.map((r) => r.key), c.map((r) => r.score), c.map((r) => r.rank), c.map((r) => r.indicators)])
  }
}

const UNIT_NAMES: Record<Subject, string> = {
  department: 'SELECT uscc AS key, name, subdistrict_code AS subdistrict FROM organisations',
  utility: 'SELECT uscc AS key, name, subdistrict_code AS subdistrict FROM organisations',
  subdistrict: 'SELECT code AS key, name, code AS subdistrict FROM subdistricts',
  frontage_unit: 'SELECT id AS key, name, subdistrict_code AS subdistrict FROM frontage_units',
}

export interface RankingRow {
  unit_key: string
  name: string | null
  subdistrict: string | null
  score: number | null
  rank: number | null
  previous_rank: number | null
  values: Record<string, { value: number | null; score: number | null }>
}

/** A day's ranking of a subject, best first, with each unit's indicator values and the rank it had the day before. */
export async function ranking(db: Queryable, q: { subject: Subject; day: string; subdistrict?: string; limit: number; offset: number; order: 'best' | 'worst' }): Promise<{ total: number; items: RankingRow[] }> {
  const order = q.order === 'best' ? 's.rank ASC NULLS LAST, s.unit_key' : 's.rank DESC NULLS LAST, s.unit_key'
  const rows = (await db.query<RankingRow & { total: number }>(`WITH u AS (${UNIT_NAMES[q.subject]}),
    page AS (
      SELECT s.unit_key, u.name, trim(u.subdistrict) AS subdistrict, s.score, s.rank, count(*) OVER ()::int AS total
      FROM indicator_scores s LEFT JOIN u ON u.key = s.unit_key
      WHERE s.day = $1 AND s.subject = $2 AND ($3::text IS NULL OR u.subdistrict = $3)
      ORDER BY ${order} LIMIT $4 OFFSET $5)
    SELECT p.*, prev.rank AS previous_rank,
      coalesce((SELECT jsonb_object_agg(v.indicator, jsonb_build_object('value', v.value, 'score', v.score))
        FROM indicator_snapshots v WHERE v.day = $1 AND v.unit_key = p.unit_key
          AND v.indicator IN (SELECT code FROM indicator_definitions WHERE subject = $2)), '{}'::jsonb) AS values
    FROM page p LEFT JOIN indicator_scores prev ON prev.day = $1::date - 1 AND prev.subject = $2 AND prev.unit_key = p.unit_key`,
  [q.day, q.subject, q.subdistrict ?? null, q.limit, q.offset])).rows
  rows.sort((a, b) => q.order === 'best' ? (a.rank ?? Infinity) - (b.rank ?? Infinity) || (a.unit_key < b.unit_key ? -1 : 1) : (b.rank ?? -Infinity) - (a.rank ?? -Infinity) || (a.unit_key < b.unit_key ? -1 : 1))
  return { total: rows[0]?.total ?? 0, items: rows.map(({ total: _t, ...r }) => r) }
}

/** A unit's composite, rank and indicator values per day between two days (inclusive). */
export async function trend(db: Queryable, q: { subject: Subject; unit: string; from: string; to: string }): Promise<{ day: string; score: number | null; rank: number | null; values: Record<string, number | null> }[]> {
  return (await db.query<{ day: string; score: number | null; rank: number | null; values: Record<string, number | null> }>(`SELECT to_char(s.day, 'YYYY-MM-DD') AS day, s.score, s.rank,
      coalesce((SELECT jsonb_object_agg(v.indicator, v.value) FROM indicator_snapshots v WHERE v.day = s.day AND v.unit_key = s.unit_key
        AND v.indicator IN (SELECT code FROM indicator_definitions WHERE subject = $1)), '{}'::jsonb) AS values
    FROM indicator_scores s WHERE s.subject = $1 AND s.unit_key = $2 AND s.day BETWEEN $3 AND $4 ORDER BY s.day`, [q.subject, q.unit, q.from, q.to])).rows
}
