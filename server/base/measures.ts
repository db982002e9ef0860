/**
 * The measures indicator formulas may name, per measured subject, and how an
 * indicator's value becomes a 0–100 score. The SQL behind each measure is in
 * server/repositories/base-indicators.ts; this module is pure.
 */

export const SUBJECTS = ['department', 'utility', 'subdistrict', 'frontage_unit'] as const
export type Subject = (typeof SUBJECTS)[number]

export const SUBJECT_NAMES: Record<Subject, string> = {
  department: '职能部门',
  utility: '专业公司（公用事业）',
  subdistrict: '街道/地区',
  frontage_unit: '门前三包责任单位',
}

/** Counted over the cases reported in the indicator's window, as they stood at the snapshot time T. */
export const CASE_MEASURES = [
  'reported', 'opened', 'voided', 'closed', 'closed_on_time', 'due_close', 'handled', 'handled_on_time',
  'reworked', 'returned', 'overdue_open', 'public_opened', 'close_hours', 'rated', 'satisfied', 'basic', 'unsatisfied',
] as const
/** Components owned (department, utility) or lying in the subdistrict, as they are now. */
export const FACILITY_MEASURES = ['facilities', 'facilities_intact', 'facilities_damaged', 'facilities_missing'] as const
/** Base records of a subdistrict, and third-party surveys whose period ends in the window. */
export const SUBDISTRICT_MEASURES = [
  'population_resident', 'population_registered', 'households', 'buildings', 'shops', 'key_persons', 'frontage_units', 'area_km2',
  'survey_respondents', 'survey_satisfied', 'survey_basic', 'survey_unsatisfied',
] as const
export const FRONTAGE_MEASURES = ['frontage_m'] as const

export const MEASURES: Record<Subject, ReadonlySet<string>> = {
  department: new Set([...CASE_MEASURES, ...FACILITY_MEASURES]),
  utility: new Set([...CASE_MEASURES, ...FACILITY_MEASURES]),
  subdistrict: new Set([...CASE_MEASURES, ...FACILITY_MEASURES, ...SUBDISTRICT_MEASURES]),
  frontage_unit: new Set([...CASE_MEASURES, ...FRONTAGE_MEASURES]),
}

/** Organisation kinds measured as departments and as utilities (001/002 list the kinds). */
export const DEPARTMENT_KINDS = ['department', 'public_service', 'police', 'subdistrict_office'] as const
export const UTILITY_KINDS = ['utility', 'telecom'] as const

export type Better = 'higher' | 'lower'

/**
 * An indicator's score, 0–100, against its target:
 * - higher is better: 100 · value / target, at most 100 (a target of 0 is always met);
 * - lower is better: 100 at or under the target, else 100 · target / value
 *   (a target of 0: 100 / (1 + value), so each miss costs less than the one before).
 * Null value, null score.
 * @example score(90, 'higher', 95) // 94.74
 */
export function score(value: number | null, better: Better, target: number): number | null {
  if (value === null || !Number.isFinite(value)) return null
  let s: number
  if (better === 'higher') s = target <= 0 ? 100 : Math.min(100, (100 * value) / target)
  else if (value <= target) s = 100
  else s = target > 0 ? (100 * target) / value : 100 / (1 + value)
  return round2(Math.max(0, s))
}

export const round2 = (x: number): number => Math.round(x * 100) / 100

/**
 * The weighted mean of the scores that exist (weight > 0); null when none does.
 * @example composite([{ score: 100, weight: 0.4 }, { score: 50, weight: 0.6 }, { score: null, weight: 1 }]) // 70
 */
export function composite(items: readonly { score: number | null; weight: number }[]): number | null {
  let sum = 0
  let w = 0
  for (const i of items) {
    if (i.score === null || i.weight <= 0) continue
    sum += i.score * i.weight
    w += i.weight
  }
  return w > 0 ? round2(sum / w) : null
}

/** Competition ranks (1, 2, 2, 4), best (highest) first; null scores unranked. */
export function ranks(scores: readonly (number | null)[]): (number | null)[] {
  const order = scores.map((s, i) => [s, i] as const).filter((x): x is readonly [number, number] => x[0] !== null).sort((a, b) => b[0] - a[0])
  const out: (number | null)[] = scores.map(() => null)
  order.forEach(([s, i], k) => {
    out[i] = k > 0 && order[k - 1][0] === s ? out[order[k - 1][1]] : k + 1
  })
  return out
}
