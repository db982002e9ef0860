/**
 * Per-cell service coverage as compact columns, and the under-served cells:
 * those with no outlet of some required kind within reach.
 */
import Flatbush from 'flatbush'
import type { CellFilter, CoverageRepository, ServiceKind } from './coverage-repository.ts'

export interface CoverageQuery extends CellFilter {
  /** Walking distance, m; a kind's own walk_m wins. */
  distanceM: number
  /** Kinds to count; null: all. */
  kinds: string[] | null
}

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

const r1 = (x: number): number => Math.round(x * 10) / 10

export async function coverage(repo: CoverageRepository, q: CoverageQuery): Promise<Coverage> {
  const all = await repo.kinds()
  const kinds = q.kinds ? all.filter((k) => q.kinds?.includes(k.code)) : all
  const [cells, outlets] = await Promise.all([repo.cellPoints(q), repo.outletPoints(kinds.map((k) => k.code))])
  const indexes = kinds.map((k) => {
    const pts = outlets.filter((o) => o.kind === k.code)
    if (!pts.length) return null
    const index = new Flatbush(pts.length)
    for (const p of pts) index.add(p.x, p.y, p.x, p.y)
    index.finish()
    return { index, pts, d: k.walk_m ?? q.distanceM }
  })
  return {
    distance_m: q.distanceM,
    kinds,
    cells: cells.map((c) => ({
      code: c.code,
      counts: indexes.map((ix) => (ix ? ix.index.neighbors(c.x, c.y, Infinity, ix.d).length : 0)),
      nearest_m: indexes.map((ix) => {
        if (!ix) return null
        const p = ix.pts[ix.index.neighbors(c.x, c.y, 1)[0]]
        return r1(Math.hypot(p.x - c.x, p.y - c.y))
      }),
    })),
  }
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
