/**
 * Hot spots and emerging hot spots: Gi* (gistar.ts) of the case counts per
 * unit in the window, in the previous window of equal length, and of the
 * change between them — so a leader sees where problems are growing, not only
 * where they are.
 *
 * Emerging categories (a two-period simplification of ArcGIS's Emerging Hot
 * Spot Analysis, which fits a trend over many periods):
 * - new: a hot spot now (≥ 90 %), not in the previous window;
 * - intensifying: hot in both, and the change itself is a significant hot spot;
 * - persistent: hot in both, the change not significant either way;
 * - diminishing: hot in both, the change a significant cold spot;
 * - former: hot in the previous window, not now;
 * - none.
 */
import type { Status } from '../cases/machine.ts'
import type { CaseStore, HeatTarget } from './case-store.ts'
import { confidence, giStar, pValue } from './gistar.ts'
import type { StudyArea, Units } from './area.ts'

export const EMERGING = ['new', 'intensifying', 'persistent', 'diminishing', 'former', 'none'] as const
export type Emerging = (typeof EMERGING)[number]

export interface HotSpotQuery {
  target: HeatTarget
  from: Date
  to: Date
  matter: string | null
  statuses: readonly Status[] | null
  /** Every unit, or only those significant now or emerging. */
  all: boolean
}

export interface HotSpots {
  target: 'h3' | 'cell'
  resolution: number | null
  window: { from: Date; to: Date }
  previous_window: { from: Date; to: Date }
  /** Units in the study area (Gi*'s n), cases in each window. */
  units: number
  cases: number
  previous_cases: number
  significant: { hot: number; cold: number }
  /** Columns, one entry per unit returned. */
  keys: string[]
  count: number[]
  previous_count: number[]
  z: number[]
  p: number[]
  /** Signed confidence bin: 99, 95, 90, 0, −90, −95, −99. */
  confidence: number[]
  previous_z: number[]
  /** Gi* of (count − previous count). */
  change_z: number[]
  emerging: Emerging[]
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000
const r5 = (x: number): number => Math.round(x * 1e5) / 1e5

export function classify(zNow: number, zBefore: number, zChange: number): Emerging {
  const hotNow = confidence(zNow) > 0
  const hotBefore = confidence(zBefore) > 0
  if (hotNow && !hotBefore) return 'new'
  if (!hotNow && hotBefore) return 'former'
  if (!hotNow) return 'none'
  const c = confidence(zChange)
  return c > 0 ? 'intensifying' : c < 0 ? 'diminishing' : 'persistent'
}

export async function hotSpots(store: CaseStore, area: StudyArea, q: HotSpotQuery): Promise<HotSpots> {
  const len = q.to.getTime() - q.from.getTime()
  const prevFrom = new Date(q.from.getTime() - len)
  const filter = { matter: q.matter, statuses: q.statuses }
  const now = store.aggregate({ ...filter, from: q.from, to: q.to }, q.target)
  const before = store.aggregate({ ...filter, from: prevFrom, to: q.from }, q.target)
  const units: Units = await area.units(q.target, [...now.keys, ...before.keys])
  const n = units.keys.length
  const x = new Float64Array(n)
  const y = new Float64Array(n)
  now.keys.forEach((k, i) => { x[units.index.get(k) as number] = now.values[i] })
  before.keys.forEach((k, i) => { y[units.index.get(k) as number] = before.values[i] })
  const d = x.map((v, i) => v - y[i])
  const zx = giStar(x, units.adj)
  const zy = giStar(y, units.adj)
  const zd = giStar(d, units.adj)
  const out: HotSpots = {
    target: q.target.kind, resolution: q.target.kind === 'h3' ? q.target.res : null,
    window: { from: q.from, to: q.to }, previous_window: { from: prevFrom, to: q.from },
    units: n, cases: now.values.reduce((a, b) => a + b, 0), previous_cases: before.values.reduce((a, b) => a + b, 0),
    significant: { hot: 0, cold: 0 },
    keys: [], count: [], previous_count: [], z: [], p: [], confidence: [], previous_z: [], change_z: [], emerging: [],
  }
  for (let i = 0; i < n; i++) {
    const c = confidence(zx[i])
    if (c > 0) out.significant.hot++
    if (c < 0) out.significant.cold++
    const e = classify(zx[i], zy[i], zd[i])
    if (!q.all && c === 0 && e === 'none') continue
    out.keys.push(units.keys[i])
    out.count.push(x[i])
    out.previous_count.push(y[i])
    out.z.push(r3(zx[i]))
    out.p.push(r5(pValue(zx[i])))
    out.confidence.push(c)
    out.previous_z.push(r3(zy[i]))
    out.change_z.push(r3(zd[i]))
    out.emerging.push(e)
  }
  return out
}
