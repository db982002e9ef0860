/**
 * What an operation may ask about the grid it edits: the draft's view of the
 * cells (the active grid with the draft's earlier operations applied) and the
 * code registry. Implemented over plain arrays for tests and over rows read
 * from the database by the server.
 */
import { parseCellCode } from '../codes.ts'
import { latticeBBox } from './geometry.ts'
import { RedrawError, RedrawErrorCode, type RedrawCell } from './types.ts'

export type BBox = [number, number, number, number]

export interface RedrawContext {
  /** The cell as the draft has it now; undefined when there is none. */
  cell(code: string): RedrawCell | undefined
  /** The operation (from 0) of this draft that removed the code, or null. */
  removedBy(code: string): number | null
  /** Cells whose bounding box meets `bbox` (lattice units). */
  near(bbox: BBox): RedrawCell[]
  /** The cells of a community now. */
  communityCells(community: string): RedrawCell[]
  communityExists(community: string): boolean
  /** The next `count` never-issued codes of a community, lowest first; reserved once returned. */
  allocate(community: string, count: number): string[]
}

/** A cell the operation needs, or the reason it cannot have it. */
export function requireCell(ctx: RedrawContext, code: string, field: string): RedrawCell {
  const c = ctx.cell(code)
  if (c) return c
  const by = ctx.removedBy(code)
  if (by !== null) throw new RedrawError(RedrawErrorCode.cellRemoved, `cell ${code} was removed by operation ${by} of this draft`, field, code)
  throw new RedrawError(RedrawErrorCode.unknownCell, `no active cell ${code}`, field, code)
}

/** Cells touching any of `cells` (bounding boxes meet), not counting those. */
export function neighboursOf(ctx: RedrawContext, cells: RedrawCell[]): RedrawCell[] {
  const codes = new Set(cells.map((c) => c.code))
  const boxes = cells.map((c) => latticeBBox(c.geometry))
  const bbox: BBox = [Math.min(...boxes.map((b) => b[0])) - 1, Math.min(...boxes.map((b) => b[1])) - 1, Math.max(...boxes.map((b) => b[2])) + 1, Math.max(...boxes.map((b) => b[3])) + 1]
  return ctx.near(bbox).filter((c) => !codes.has(c.code) && boxes.some((b) => {
    const o = latticeBBox(c.geometry)
    return o[0] <= b[2] + 1 && o[2] >= b[0] - 1 && o[1] <= b[3] + 1 && o[3] >= b[1] - 1
  }))
}

/**
 * The smallest numbers 1…999 never issued in a community.
 * @example nextFreeNumbers(new Set([1, 2, 5]), 3) // [3, 4, 6]
 */
export function nextFreeNumbers(issued: ReadonlySet<number>, count: number): number[] | null {
  const out: number[] = []
  for (let n = 1; n <= 999 && out.length < count; n++) if (!issued.has(n)) out.push(n)
  return out.length === count ? out : null
}

/** A context over a list of cells and the codes ever issued (tests, the CLI, benchmarks). */
export class ArrayContext implements RedrawContext {
  private readonly cells = new Map<string, RedrawCell>()
  private readonly removed = new Map<string, number>()
  private readonly issued = new Map<string, Set<number>>()
  /** Index of the operation being applied (for removedBy). */
  op = 0

  constructor(cells: RedrawCell[], issuedCodes: Iterable<string> = [], private readonly communities: Set<string> = new Set(), removedAt?: ReadonlyMap<string, number>) {
    if (removedAt) for (const [code, op] of removedAt) this.removed.set(code, op)
    for (const c of cells) {
      this.cells.set(c.code, c)
      this.communities.add(c.community)
    }
    for (const code of [...issuedCodes, ...this.cells.keys()]) this.markIssued(code)
  }

  private markIssued(code: string): void {
    const p = parseCellCode(code)
    if ('error' in p) return
    let s = this.issued.get(p.community)
    if (!s) this.issued.set(p.community, (s = new Set()))
    s.add(p.number)
  }

  cell(code: string): RedrawCell | undefined { return this.cells.get(code) }
  removedBy(code: string): number | null { return this.removed.get(code) ?? null }
  all(): RedrawCell[] { return [...this.cells.values()] }
  near(b: BBox): RedrawCell[] {
    return this.all().filter((c) => {
      const o = latticeBBox(c.geometry)
      return o[0] <= b[2] && o[2] >= b[0] && o[1] <= b[3] && o[3] >= b[1]
    })
  }
  communityCells(community: string): RedrawCell[] { return this.all().filter((c) => c.community === community) }
  communityExists(community: string): boolean { return this.communities.has(community) }
  allocate(community: string, count: number): string[] {
    const nums = nextFreeNumbers(this.issued.get(community) ?? new Set(), count)
    if (!nums) throw new RedrawError(RedrawErrorCode.codesExhausted, `community ${community} has fewer than ${count} cell numbers left (1…999, retired ones never return)`, 'community')
    const codes = nums.map((n) => community + String(n).padStart(3, '0'))
    codes.forEach((c) => this.markIssued(c))
    return codes
  }

  /** Applies an operation's result to the cells (what a draft does after each operation). */
  apply(result: { removed: string[]; upserted: RedrawCell[] }): void {
    for (const code of result.removed) {
      this.cells.delete(code)
      this.removed.set(code, this.op)
    }
    for (const c of result.upserted) {
      this.cells.set(c.code, c)
      this.removed.delete(c.code)
    }
    this.op++
  }
}
