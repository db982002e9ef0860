/**
 * One entry point for every redraw operation: checks the operation's type and
 * hands it to its module. Each returns what it removed and what it added or
 * reshaped; it throws RedrawError (naming the field and cell) when the
 * operation cannot be applied, and then changes nothing.
 */
import type { RedrawContext } from './context.ts'
import { merge } from './merge.ts'
import { moveBoundary } from './boundary.ts'
import { reassign } from './reassign.ts'
import { regenerate } from './regenerate.ts'
import { split } from './split.ts'
import { RedrawError, RedrawErrorCode, type OpResult, type RedrawOp } from './types.ts'

export const OPERATION_TYPES = ['split', 'merge', 'move_boundary', 'reassign', 'regenerate'] as const

export function applyOperation(op: RedrawOp, ctx: RedrawContext): OpResult {
  switch (op.type) {
    case 'split': return split(op, ctx)
    case 'merge': return merge(op, ctx)
    case 'move_boundary': return moveBoundary(op, ctx)
    case 'reassign': return reassign(op, ctx)
    case 'regenerate': return regenerate(op, ctx)
    default: throw new RedrawError(RedrawErrorCode.unknownOperation, `unknown operation type ${String((op as { type: unknown }).type)}`, 'type')
  }
}
