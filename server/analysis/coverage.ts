/**
 * Per-cell service coverage as compact columns, and the under-served cells:
 * those with no outlet of some required kind within reach.
 */
import type { CoverageQuery, CoverageRepository, ServiceKind } from './coverage-repository.ts'

export interface Coverage {
  distance_m: number
  kinds: ServiceKind[]
  /** One entry per cell; counts[i] and nearest_m[i] follow `kinds`. */
  cells: { code: string; counts: number[]; nearest_m: (number | null)[] }[]
}

export interface UnderServed {
  code: string
  /** Required kinds with no outlet within reach. */
  missing: string[]
  /** Distance to the nearest outlet of each missing kind (null: none anywhere). */
  nearest_m: (number | null)[]
}

const r1 = (x: number | null): number | null => (x === null ? null : Math.round(x * 10) / 10)

export async function coverage(repo: CoverageRepository, q: CoverageQuery): Promise<Coverage> {
  const all = await repo.kinds()
  const kinds = q.kinds ? all.filter((k) => q.kinds?.includes(k.code)) : all
  const col = new Map(kinds.map((k, i) => [k.code, i]))
  const cells = new Map<string, Coverage['cells'][number]>()
  for (const r of await repo.coverage(q)) {
    let c = cells.get(r.cell)
    if (!c) {
      c = { code: r.cell, counts: kinds.map(() => 0), nearest_m: kinds.map(() => null) }
      cells.set(r.cell, c)
    }
    const i = col.get(r.kind)
    if (i === undefined) continue
    c.counts[i] = r.n
    c.nearest_m[i] = r1(r.nearest_m)
  }
  return { distance_m: q.distanceM, kinds, cells: [...cells.values()] }
}

/** Cells missing at least one required kind, the most missing first. */
export function underServed(c: Coverage): UnderServed[] {
  const required = c.kinds.map((k, i) => [k, i] as const).filter(([k]) => k.required)
  const out: UnderServed[] = []
  for (const cell of c.cells) {
    const miss = required.filter(([, i]) => cell.counts[i] === 0)
    if (miss.length) out.push({ code: cell.code, missing: miss.map(([k]) => k.code), nearest_m: miss.map(([, i]) => cell.nearest_m[i]) })
  }
  return out.sort((a, b) => b.missing.length - a.missing.length || (a.code < b.code ? -1 : 1))
}
