/**
 * Scores and rankings of one level for a window, with the rank each unit had in
 * the previous window of equal length: counts from the repository, ratios,
 * case-count score, composite and grade from indicators.ts.
 */
import {
  allRatios, caseCountScore, composite, DEFAULT_FORMULA, rank, round2, SATISFACTION, withSatisfaction, ZERO_COUNTS,
  type Composite, type Counts, type FormulaKey, type Level, type Ratio, type RatioKey, type SatisfactionCounts,
} from './indicators.ts'
import type { ScoreRepository, UnitCounts, UnitInfo } from './score-repository.ts'

export interface ScoreQuery {
  level: Level
  from: Date
  to: Date
  /** Matter code; its finer matters are included. */
  matter: string | null
  formula?: FormulaKey
  now: Date
}

export interface Window {
  from: Date
  to: Date
  /** When the case states were read: the window's end or now, whichever is earlier. */
  evaluated_at: Date
  days: number
}

export interface UnitScore {
  code: string
  name: string
  parent: string | null
  subdistrict: string | null
  counts: Counts
  indicators: Record<RatioKey, Ratio>
  /** Reported → closed, natural hours; p90 is filled by withP90 for the units shown. */
  close_hours: { mean: number | null; p90: number | null }
  case_count_score: number
  composite: Composite
  rank: number | null
  previous: { score: number | null; grade: string | null; rank: number | null }
  /** Places moved up since the previous window (positive: better); null without both ranks. */
  rank_change: number | null
}

export interface LevelScores {
  level: Level
  formula: FormulaKey
  window: Window
  previous_window: Window
  /** Units with a composite score (the rest have no data in the window). */
  ranked: number
  units: UnitScore[]
}

const DAY = 86_400_000

function window(from: Date, to: Date, now: Date): Window {
  return { from, to, evaluated_at: new Date(Math.min(to.getTime(), now.getTime())), days: (to.getTime() - from.getTime()) / DAY }
}

interface Scored {
  info: UnitInfo
  c: UnitCounts
  ratios: Record<RatioKey, Ratio>
  countScore: number
  comp: Composite
}

const NO_CASES: UnitCounts = { counts: ZERO_COUNTS, closeSumHours: 0 }

function score(units: UnitInfo[], counts: Map<string, UnitCounts>, level: Level, formula: FormulaKey, w: Window, sat: Map<string, SatisfactionCounts>): Scored[] {
  return units.map((info) => {
    const c = counts.get(info.key) ?? NO_CASES
    const ratios = allRatios(c.counts, level)
    const countScore = caseCountScore(c.counts.opened, w.days)
    return { info, c, ratios, countScore, comp: withSatisfaction(composite(formula, ratios, countScore), sat.get(info.key), level) }
  })
}

const NO_ANSWERS: Promise<Map<string, SatisfactionCounts>> = Promise.resolve(new Map())

/**
 * Scores every unit of a level for the window and the previous one.
 * @example await scoreLevel(repo, { level: 'subdistrict', from, to, matter: null, now: new Date() })
 */
export async function scoreLevel(repo: ScoreRepository, q: ScoreQuery): Promise<LevelScores> {
  const formula = q.formula ?? DEFAULT_FORMULA[q.level]
  const len = q.to.getTime() - q.from.getTime()
  const cur = window(q.from, q.to, q.now)
  const prev = window(new Date(q.from.getTime() - len), q.from, q.now)
  const rated = SATISFACTION.weight > 0 && SATISFACTION.levels.includes(q.level)
  const [units, now, before, satNow, satBefore] = await Promise.all([
    repo.units(q.level, prev.from, q.to),
    repo.counts(q.level, { from: cur.from, to: cur.to, at: cur.evaluated_at, matter: q.matter }),
    repo.counts(q.level, { from: prev.from, to: prev.to, at: prev.evaluated_at, matter: q.matter }),
    rated ? repo.satisfaction(q.level, { from: cur.from, to: cur.to, at: cur.evaluated_at, matter: q.matter }) : NO_ANSWERS,
    rated ? repo.satisfaction(q.level, { from: prev.from, to: prev.to, at: prev.evaluated_at, matter: q.matter }) : NO_ANSWERS,
  ])
  const a = score(units, now, q.level, formula, cur, satNow)
  const b = score(units, before, q.level, formula, prev, satBefore)
  const rankNow = rank(a, (s) => s.comp.score)
  const rankBefore = rank(b, (s) => s.comp.score)
  const out: UnitScore[] = a.map((s, i) => {
    const r = rankNow.get(s) ?? null
    const p = rankBefore.get(b[i]) ?? null
    return {
      code: s.info.key, name: s.info.name, parent: s.info.parent, subdistrict: s.info.subdistrict,
      counts: s.c.counts,
      indicators: s.ratios,
      close_hours: { mean: s.c.counts.closed ? round2(s.c.closeSumHours / s.c.counts.closed) : null, p90: null },
      case_count_score: s.countScore,
      composite: s.comp,
      rank: r,
      previous: { score: b[i].comp.score, grade: b[i].comp.grade, rank: p },
      rank_change: r !== null && p !== null ? p - r : null,
    }
  })
  out.sort((x, y) => (x.rank ?? Infinity) - (y.rank ?? Infinity) || (x.code < y.code ? -1 : x.code > y.code ? 1 : 0))
  return { level: q.level, formula, window: cur, previous_window: prev, ranked: rankNow.size, units: out }
}

/**
 * Fills the p90 of the time to close for the units a page shows (a sort per
 * unit: dear for 8,423 cells, cheap for a page). Changes `items` in place.
 */
export async function withP90(repo: ScoreRepository, r: LevelScores, matter: string | null, items: UnitScore[]): Promise<UnitScore[]> {
  const all = items.length === r.units.length
  const p90 = await repo.closeP90(r.level, { from: r.window.from, to: r.window.to, at: r.window.evaluated_at, matter }, all ? null : items.map((u) => u.code))
  for (const u of items) {
    const v = p90.get(u.code)
    u.close_hours.p90 = v === undefined ? null : round2(v)
  }
  return items
}
