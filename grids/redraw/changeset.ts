/**
 * A change set (draft) as data: the base cells it touched, as they were, and
 * the cells as the draft has them now. Folding each operation's result into
 * it gives what a commit writes: codes retired, cells reshaped, cells added.
 */
import type { OpResult, RedrawCell } from './types.ts'

/** An active cell as the draft first read it; `version` is the grid version it has had its shape since. */
export interface BaseCell extends RedrawCell {
  version: number
}

export interface DraftState {
  /** Base cells the draft removed or reshaped, as they were. */
  base: Map<string, BaseCell>
  /** Cells the draft made or reshaped, as they are now. */
  current: Map<string, RedrawCell>
  /** Which operation (from 0) last wrote each current cell. */
  origin: Map<string, number>
  /** Which operation removed each code no longer in the draft. */
  removedAt: Map<string, number>
  /** Every code an operation of the draft produced (never handed out twice, even if a later operation removed it). */
  produced: Set<string>
}

export const emptyDraft = (): DraftState => ({ base: new Map(), current: new Map(), origin: new Map(), removedAt: new Map(), produced: new Set() })

/**
 * Folds one operation's result into the draft. `base` lists the active cells
 * the operation touched for the first time (as read before it ran).
 */
export function fold(state: DraftState, op: number, result: OpResult, base: BaseCell[]): void {
  for (const b of base) if (!state.base.has(b.code)) state.base.set(b.code, b)
  for (const code of result.removed) {
    state.current.delete(code)
    state.origin.delete(code)
    state.removedAt.set(code, op)
  }
  for (const c of result.upserted) {
    state.current.set(c.code, c)
    state.origin.set(c.code, op)
    state.removedAt.delete(c.code)
    state.produced.add(c.code)
  }
}

/** Codes the operation touches that the draft has not touched yet: these come from the active grid. */
export function untouched(state: DraftState, result: OpResult): string[] {
  const codes = [...result.removed, ...result.upserted.map((c) => c.code)]
  return [...new Set(codes)].filter((c) => !state.base.has(c) && !state.current.has(c))
}

export interface DraftSummary {
  /** Codes that leave the grid. */
  retired: string[]
  /** Codes that keep their number but change shape, community or responsible unit. */
  reshaped: string[]
  /** New codes. */
  added: string[]
}

export function summarise(state: DraftState): DraftSummary {
  const retired = [...state.base.keys()].filter((c) => !state.current.has(c)).sort()
  const reshaped = [...state.base.keys()].filter((c) => state.current.has(c)).sort()
  const added = [...state.current.keys()].filter((c) => !state.base.has(c)).sort()
  return { retired, reshaped, added }
}
