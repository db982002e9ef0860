/**
 * The daily snapshot of the monitoring indicators (监测指标日快照): for each
 * subject, every unit's measures (SQL, one grouped scan per source), each
 * active indicator's value by its formula and its 0–100 score against the
 * target, the weighted composite and the rank — written for the day in one
 * transaction, replacing what that day had.
 */
import type { Database } from '../db/types.ts'
import { evaluate, parseFormula, type Expr } from './formula.ts'
import { MEASURES, SUBJECTS, composite, ranks, score, type Subject } from './measures.ts'
import { IndicatorRepository, writeSnapshot, type IndicatorDefinition, type Measures } from '../repositories/base-indicators.ts'

const DAY = 86_400_000
/** Beijing is UTC+8 all year: a snapshot day runs from 00:00 to 24:00 there. */
const BEIJING_MS = 8 * 3_600_000

/** The Beijing date of an instant, YYYY-MM-DD. */
export function beijingDay(t: Date): string {
  return new Date(t.getTime() + BEIJING_MS).toISOString().slice(0, 10)
}

/** The end of a Beijing day (next midnight), as an instant. */
export function endOfDay(day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00Z`) + DAY - BEIJING_MS)
}

export interface SnapshotSummary {
  day: string
  /** When states were read: the day's end, or now if earlier. */
  at: string
  subjects: { subject: Subject; units: number; indicators: number; rows: number }[]
  ms: number
}

interface Compiled { def: IndicatorDefinition; expr: Expr }

function rounded(v: number | null): number | null {
  return v === null || !Number.isFinite(v) ? null : Math.round(v * 10_000) / 10_000
}

/**
 * Computes the snapshot of `day` (default: today in Beijing) at `now` for the subjects.
 * @example await takeSnapshot(db, { now: new Date() }) // today's values, every subject
 */
export async function takeSnapshot(db: Database, opts: { day?: string; now?: Date; subjects?: readonly Subject[]; onProgress?: (stage: string, done: number, total: number) => void } = {}): Promise<SnapshotSummary> {
  const t0 = performance.now()
  const now = opts.now ?? new Date()
  const day = opts.day ?? beijingDay(now)
  const at = new Date(Math.min(endOfDay(day).getTime(), now.getTime()))
  const repo = new IndicatorRepository(db)
  const defs = await repo.definitions({ activeOnly: true })
  const subjects = opts.subjects ?? SUBJECTS
  const out: SnapshotSummary['subjects'] = []
  // Component counts by owner serve departments and utilities alike.
  let byOwner: Map<string, Measures> | null = null
  let step = 0
  const writes: { subject: Subject; codes: string[]; values: Parameters<typeof writeSnapshot>[4]; scores: Parameters<typeof writeSnapshot>[5] }[] = []
  for (const subject of subjects) {
    opts.onProgress?.(subject, step++, subjects.length)
    const compiled: Compiled[] = defs.filter((d) => d.subject === subject).map((def) => ({ def, expr: parseFormula(def.formula, MEASURES[subject]) }))
    const { units, measures } = await repo.units(subject)
    const windows = [...new Set(compiled.map((c) => c.def.window_days))]
    const perWindow = new Map<number, Map<string, Measures>>()
    for (const w of windows) perWindow.set(w, await repo.caseMeasures(subject, new Date(at.getTime() - w * DAY), at))
    const facilities = subject === 'frontage_unit' ? null
      : subject === 'subdistrict' ? await repo.facilityMeasures('subdistrict')
        : (byOwner ??= await repo.facilityMeasures('owner'))
    const base = subject === 'subdistrict' ? await repo.subdistrictMeasures(new Date(at.getTime() - Math.max(30, ...windows) * DAY), at) : null
    const values: { indicator: string; key: string; value: number | null; score: number | null }[] = []
    const unitScores: { key: string; score: number | null; rank: number | null; indicators: number }[] = []
    for (const u of units) {
      const common: Measures = { ...measures.get(u.key), ...facilities?.get(u.key), ...base?.get(u.key) }
      const items: { score: number | null; weight: number }[] = []
      for (const c of compiled) {
        const m = { ...common, ...perWindow.get(c.def.window_days)?.get(u.key) }
        const v = rounded(evaluate(c.expr, m))
        const s = score(v, c.def.better, c.def.target)
        values.push({ indicator: c.def.code, key: u.key, value: v, score: s })
        items.push({ score: s, weight: c.def.weight })
      }
      unitScores.push({ key: u.key, score: composite(items), rank: null, indicators: items.filter((i) => i.score !== null).length })
    }
    const r = ranks(unitScores.map((s) => s.score))
    unitScores.forEach((s, i) => { s.rank = r[i] })
    writes.push({ subject, codes: compiled.map((c) => c.def.code), values, scores: unitScores })
    out.push({ subject, units: units.length, indicators: compiled.length, rows: values.length })
  }
  opts.onProgress?.('write', subjects.length, subjects.length)
  await db.transaction(async (tx) => {
    for (const w of writes) await writeSnapshot(tx, day, w.subject, w.codes, w.values, w.scores)
  })
  return { day, at: at.toISOString(), subjects: out, ms: Math.round(performance.now() - t0) }
}
