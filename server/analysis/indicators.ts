/**
 * The evaluation (综合评价) in one place: what each indicator counts, the
 * composite formulas, the case-count steps and the grades. Everything the
 * score SQL (score-repository.ts) and the API report comes from here; change a
 * weight or a step here and every level follows.
 *
 * An indicator is a ratio of two counts over the cases reported in a window
 * [from, to), as they stood at the window's end (or now, if earlier): the API
 * returns both counts with each value, so every number on the screen can be
 * explained. A ratio whose denominator is 0 is null ("no data"), not 0 or 100.
 *
 * The counts (names as in the SQL; T = the evaluation time):
 * - decided 案卷建立: the report was opened (立案) or voided (作废) before T;
 *   decided_on_time: … within the accept limit (the accept clock ends on both).
 * - opened 立案数: accepted before T; voided 作废数: voided before T.
 * - public_opened 公众举报立案数: opened cases that came from the public
 *   channels below rather than a supervisor: problems the patrols missed.
 * - due_dispatch 应派遣数: dispatched before T, or past the dispatch deadline
 *   at T without a dispatch; dispatched_on_time: dispatched within the limit
 *   (every dispatch, after a return too); returned 派遣返工: sent back by the
 *   unit as not theirs (退回) — the dispatch had to be redone.
 * - due_close 应结案数 = handled 已处置 (handled before T) + overdue unhandled
 *   (past the handling deadline at T, not handled, not deferred 挂账).
 *   due_handle 应处置数 is the same set.
 * - closed 结案数: closed before T; closed_on_time: closed with handling,
 *   verification and closing each within its limit (every attempt).
 * - handled_on_time 按时处置数: handled before T within the limit (every attempt).
 * - reworked 返工数: cases due to close whose handling failed verification at
 *   least once (返工, rework_count > 0).
 * - due_verify 应核实数: verifications concluded (核查通过 or 返工) for cases
 *   handled before T, plus first verifications overdue at T; verified_on_time:
 *   concluded within the limit. For the supervisor level they count the
 *   verifications each supervisor made (case_events), not the cases they reported.
 * - close hours: reported → closed, natural hours, over cases closed before T.
 */

/** Levels that can be evaluated and ranked. */
export const LEVELS = ['cell', 'community', 'subdistrict', 'unit', 'supervisor'] as const
export type Level = (typeof LEVELS)[number]

export const LEVEL_NAMES: Record<Level, string> = {
  cell: '单元网格',
  community: '社区',
  subdistrict: '街道/地区',
  unit: '处置单位（部门、专业公司）',
  supervisor: '监督员',
}

/** The counts every level's SQL returns, per unit. */
export const COUNT_KEYS = [
  'reported', 'decided', 'decided_on_time', 'opened', 'voided', 'public_opened',
  'due_dispatch', 'dispatched_on_time', 'returned',
  'due_close', 'handled', 'handled_on_time', 'closed', 'closed_on_time', 'reworked',
  'due_verify', 'verified_on_time',
] as const
export type CountKey = (typeof COUNT_KEYS)[number]
export type Counts = Record<CountKey, number>

/** Ratio indicators: numerator and denominator counts; `complement` reports 1 − n/d for scoring. */
export interface RatioSpec {
  name: string
  numerator: CountKey
  denominator: CountKey
  /** Lower is better (漏报率, 返工率): the composite uses 1 − value. */
  lowerIsBetter?: boolean
  /** Levels where the indicator means nothing (null there). */
  notFor?: readonly Level[]
  formula: string
}

export const RATIOS = {
  on_time_verification: { name: '按时核实率', numerator: 'verified_on_time', denominator: 'due_verify', formula: 'verifications on time / verifications due' },
  miss_rate: { name: '漏报率', numerator: 'public_opened', denominator: 'opened', lowerIsBetter: true, notFor: ['supervisor'], formula: 'opened cases reported by the public / cases opened' },
  on_time_opening: { name: '按时立案率', numerator: 'decided_on_time', denominator: 'decided', formula: 'cases opened or voided on time / cases opened or voided' },
  accurate_opening: { name: '准确立案率', numerator: 'opened', denominator: 'decided', formula: '(opened − voided) / opened, "opened" counting every case file decided (立案 + 作废)' },
  on_time_dispatch: { name: '按时派遣率', numerator: 'dispatched_on_time', denominator: 'due_dispatch', formula: 'dispatched on time / due for dispatch' },
  accurate_dispatch: { name: '准确派遣率', numerator: 'returned', denominator: 'due_dispatch', lowerIsBetter: true, formula: '(due for dispatch − sent back 退回) / due for dispatch' },
  closure: { name: '结案率', numerator: 'closed', denominator: 'due_close', formula: 'closed / due to close (handled + overdue unhandled)' },
  on_time_handling: { name: '按时处置率', numerator: 'handled_on_time', denominator: 'due_close', formula: 'handled on time / due for handling' },
  on_time_closure: { name: '按时结案率', numerator: 'closed_on_time', denominator: 'due_close', formula: 'closed on time / due to close' },
  rework_rate: { name: '返工率', numerator: 'reworked', denominator: 'due_close', lowerIsBetter: true, formula: 'reworked / due to close' },
} as const satisfies Record<string, RatioSpec>
export type RatioKey = keyof typeof RATIOS
export const RATIO_KEYS = Object.keys(RATIOS) as RatioKey[]

/**
 * 准确派遣率 is stored as its complement's counts (returned / due) so that the
 * numerator the API shows is a count that exists; its value is 1 − n/d. Same for
 * 准确立案率, whose numerator "opened" already is decided − voided.
 */
const COMPLEMENT_VALUE: ReadonlySet<RatioKey> = new Set(['accurate_dispatch'])

/** Terms a composite may weigh: a ratio (as a fraction 0–1), its complement, the case-count score, or the public's satisfaction (SATISFACTION). */
export type Term = RatioKey | `1-${RatioKey}` | 'case_count_score' | 'satisfaction'

export interface Formula {
  name: string
  /** Weights summing to 1; each term is scored 0–100. */
  weights: Partial<Record<Term, number>>
  source: string
}

export const FORMULAS = {
  // DOMAIN.md, as published: departments and utilities.
  department: {
    name: '专业部门评价',
    weights: { case_count_score: 0.1, closure: 0.3, on_time_handling: 0.3, '1-rework_rate': 0.3 },
    source: 'published district formula: 10 % case-count score + 30 % 结案率 + 30 % 按时处置率 + 30 % (1 − 返工率)',
  },
  // DOMAIN.md, as published: the command centre's shift leader (立案 and 结案 are theirs).
  shift_leader: {
    name: '值班长评价',
    weights: { on_time_opening: 0.25, accurate_opening: 0.4, on_time_closure: 0.35 },
    source: 'published district formula: 25 % 按时立案率 + 40 % 准确立案率 + 35 % 按时结案率',
  },
  // Ours (no published one): a supervisor finds (their reports hold up: 准确立案率) and checks on time (按时核实率).
  supervisor: {
    name: '监督员评价',
    weights: { accurate_opening: 0.5, on_time_verification: 0.5 },
    source: 'this system\'s choice, not published: 50 % 准确立案率 of the supervisor\'s reports + 50 % 按时核实率 of their verifications',
  },
} as const satisfies Record<string, Formula>
export type FormulaKey = keyof typeof FORMULAS
export const FORMULA_KEYS = Object.keys(FORMULAS) as FormulaKey[]

/** The formula each level is scored with unless the request names another. */
export const DEFAULT_FORMULA: Record<Level, FormulaKey> = {
  // A place is judged as its units are: by how its cases get closed (the region's responsible party handles them).
  cell: 'department',
  community: 'department',
  subdistrict: 'department',
  unit: 'department',
  supervisor: 'supervisor',
}

/**
 * Case-count score steps (DOMAIN.md): at most `max` opened cases → `score`, else the
 * next step; more than the last step → `above`. The published steps are per month,
 * so the count is first scaled to `perDays` days of the window (a year and a month
 * compare); null uses the raw count.
 */
export const CASE_COUNT = {
  steps: [[50, 100], [100, 90], [200, 75], [500, 60], [1000, 40]] as readonly (readonly [number, number])[],
  above: 0,
  perDays: 30 as number | null,
}

/** Grades by composite score, best first: at least `min` → grade. */
export const GRADES: readonly { grade: Grade; min: number }[] = [
  { grade: 'A', min: 90 }, { grade: 'B', min: 75 }, { grade: 'C', min: 60 }, { grade: 'D', min: 40 }, { grade: 'E', min: -Infinity },
]
export type Grade = 'A' | 'B' | 'C' | 'D' | 'E'

/**
 * Channels whose reports count as the public's (漏报: the supervisors did not find
 * it first). Cameras, satellite comparison, spot checks and surveys are the
 * system's own checks, not counted.
 */
export const PUBLIC_CHANNELS: readonly string[] = ['hotline', 'web', 'social_media', 'open311', 'community']

export interface Ratio {
  name: string
  /** Percent, 2 decimals; null when the denominator is 0. */
  value: number | null
  numerator: number
  denominator: number
}

/** Rounds to 2 decimals (what reports print: 93.72 %). */
export const round2 = (x: number): number => Math.round(x * 100) / 100

/**
 * One ratio as a percentage.
 * @example ratio('closure', { closed: 911, due_close: 972, ... }).value // 93.72
 */
export function ratio(key: RatioKey, counts: Counts, level?: Level): Ratio {
  const spec: RatioSpec = RATIOS[key]
  const numerator = counts[spec.numerator]
  const denominator = counts[spec.denominator]
  const complement = COMPLEMENT_VALUE.has(key)
  const shown = complement ? denominator - numerator : numerator
  if ((level && spec.notFor?.includes(level)) || denominator === 0) return { name: spec.name, value: null, numerator: shown, denominator }
  const f = numerator / denominator
  return { name: spec.name, value: round2(100 * (complement ? 1 - f : f)), numerator: shown, denominator }
}

/** The case-count score of `opened` cases over a window of `days`. */
export function caseCountScore(opened: number, days: number): number {
  const n = CASE_COUNT.perDays === null ? opened : (opened * CASE_COUNT.perDays) / Math.max(days, 1e-9)
  for (const [max, score] of CASE_COUNT.steps) if (n <= max) return score
  return CASE_COUNT.above
}

export function grade(score: number | null): Grade | null {
  if (score === null) return null
  return (GRADES.find((g) => score >= g.min) ?? GRADES[GRADES.length - 1]).grade
}

export interface Composite {
  formula: FormulaKey
  /** 0–100, 2 decimals; null when a weighted ratio has no data. */
  score: number | null
  grade: Grade | null
  /** Each term's 0–100 score and weight; what the composite adds up. */
  terms: { term: Term; weight: number; score: number | null }[]
}

/** The composite of a formula over computed ratios. */
const FORMULA_TERMS = Object.fromEntries(FORMULA_KEYS.map((f) => [f, Object.entries(FORMULAS[f].weights) as [Term, number][]])) as Record<FormulaKey, [Term, number][]>

export function composite(formula: FormulaKey, ratios: Record<RatioKey, Ratio>, countScore: number): Composite {
  const terms: Composite['terms'] = []
  let sum = 0
  let missing = false
  for (const [term, weight] of FORMULA_TERMS[formula]) {
    let s: number | null
    if (term === 'case_count_score') s = countScore
    else if (term.startsWith('1-')) {
      const v = ratios[term.slice(2) as RatioKey].value
      s = v === null ? null : 100 - v
    } else s = ratios[term as RatioKey].value
    terms.push({ term, weight, score: s === null ? null : round2(s) })
    if (s === null) missing = true
    else sum += weight * s
  }
  const score = missing ? null : round2(sum)
  return { formula, score, grade: grade(score), terms }
}

/**
 * The public's satisfaction (满意度): reporters' ratings of closed cases
 * (case_ratings) and, for subdistricts, third-party surveys (survey_results)
 * whose period ends in the window. Each answer scores its points; the mean is
 * a 0–100 term. A unit with answers in the window gets
 * (1 − weight) × its formula's score + weight × satisfaction (the formula's own
 * terms keep their proportions); one without answers keeps the formula's score.
 */
export const SATISFACTION = {
  // share of the composite the public's satisfaction takes when there are answers; 0 leaves the published formulas alone
  weight: 0.1,
  // points of each answer: 满意 100, 基本满意 60, 不满意 0
  points: { satisfied: 100, basic: 60, unsatisfied: 0 },
  // levels it applies to: supervisors are judged by their own reports and checks only
  levels: ['cell', 'community', 'subdistrict', 'unit'] as readonly Level[],
}

export interface SatisfactionCounts { satisfied: number; basic: number; unsatisfied: number }

/** Mean points of the answers, 0–100; null without any. */
export function satisfactionScore(c: SatisfactionCounts | undefined): number | null {
  const n = c ? c.satisfied + c.basic + c.unsatisfied : 0
  if (!c || n === 0) return null
  const p = SATISFACTION.points
  return round2((c.satisfied * p.satisfied + c.basic * p.basic + c.unsatisfied * p.unsatisfied) / n)
}

/**
 * Adds the satisfaction term to a composite (SATISFACTION says how).
 * @example withSatisfaction(composite('department', ratios, 100), { satisfied: 3, basic: 1, unsatisfied: 0 }, 'unit')
 */
export function withSatisfaction(comp: Composite, c: SatisfactionCounts | undefined, level: Level): Composite {
  const s = satisfactionScore(c)
  const w = SATISFACTION.weight
  if (s === null || w <= 0 || !SATISFACTION.levels.includes(level)) return comp
  const terms = [...comp.terms.map((t) => ({ ...t, weight: Math.round(t.weight * (1 - w) * 1e4) / 1e4 })), { term: 'satisfaction' as Term, weight: w, score: s }]
  const score = comp.score === null ? null : round2((1 - w) * comp.score + w * s)
  return { formula: comp.formula, score, grade: grade(score), terms }
}

/** Every ratio of a unit. */
export function allRatios(counts: Counts, level: Level): Record<RatioKey, Ratio> {
  const out = {} as Record<RatioKey, Ratio>
  for (const k of RATIO_KEYS) out[k] = ratio(k, counts, level)
  return out
}

/** Zero counts (a unit with no cases in the window); shared, never to be changed. */
export const ZERO_COUNTS: Readonly<Counts> = Object.freeze(Object.fromEntries(COUNT_KEYS.map((k) => [k, 0])) as Counts)

/** Zero counts to fill in. */
export function zeroCounts(): Counts {
  return { ...ZERO_COUNTS }
}

/**
 * Competition ranks (1, 2, 2, 4) by composite score, best first; units without a
 * score get null. Ties share a rank.
 */
export function rank<T>(items: readonly T[], score: (t: T) => number | null): Map<T, number> {
  const scored = items.filter((t) => score(t) !== null).sort((a, b) => (score(b) as number) - (score(a) as number))
  const out = new Map<T, number>()
  scored.forEach((t, i) => {
    const prev = i > 0 ? scored[i - 1] : null
    out.set(t, prev !== null && score(prev) === score(t) ? (out.get(prev) as number) : i + 1)
  })
  return out
}

/** The configuration as a document (GET /api/analysis/indicators). */
export function describe(): unknown {
  return {
    ratios: Object.fromEntries(RATIO_KEYS.map((k) => {
      const r: RatioSpec = RATIOS[k]
      return [k, { name: r.name, formula: r.formula, numerator: r.numerator, denominator: r.denominator, lower_is_better: r.lowerIsBetter ?? false, not_for: r.notFor ?? [] }]
    })),
    formulas: FORMULAS,
    default_formula: DEFAULT_FORMULA,
    case_count: { steps: CASE_COUNT.steps.map(([max, score]) => ({ max, score })), above: CASE_COUNT.above, per_days: CASE_COUNT.perDays },
    grades: GRADES.map((g) => ({ grade: g.grade, min: Number.isFinite(g.min) ? g.min : null })),
    public_channels: PUBLIC_CHANNELS,
    satisfaction: { weight: SATISFACTION.weight, points: SATISFACTION.points, levels: SATISFACTION.levels },
    levels: LEVEL_NAMES,
  }
}
