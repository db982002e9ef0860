/**
 * Move a cell to another community, of the same subdistrict or another one.
 * Its shape stays; its code changes, because the code carries the community:
 * the old code is retired and the cell takes the next free number there.
 * Moving to another subdistrict hands it to that subdistrict's command centre.
 */
import { requireCell, type RedrawContext } from './context.ts'
import { RedrawError, RedrawErrorCode, type OpResult, type ReassignOp } from './types.ts'

export function reassign(op: ReassignOp, ctx: RedrawContext): OpResult {
  const cell = requireCell(ctx, op.cell, 'cell')
  if (typeof op.community !== 'string' || !/^[0-9]{12}$/.test(op.community)) {
    throw new RedrawError(RedrawErrorCode.unknownCommunity, 'community is a 12-digit community code', 'community', cell.code)
  }
  if (op.community === cell.community) {
    throw new RedrawError(RedrawErrorCode.sameCommunity, `cell ${cell.code} already belongs to community ${op.community}`, 'community', cell.code)
  }
  if (!ctx.communityExists(op.community)) {
    throw new RedrawError(RedrawErrorCode.unknownCommunity, `no community ${op.community}`, 'community', cell.code)
  }
  if (op.community.slice(0, 6) !== cell.community.slice(0, 6)) {
    throw new RedrawError(RedrawErrorCode.unknownCommunity, `community ${op.community} is in another district`, 'community', cell.code)
  }
  const [code] = ctx.allocate(op.community, 1)
  const sameSubdistrict = op.community.slice(0, 9) === cell.community.slice(0, 9)
  return {
    removed: [cell.code],
    upserted: [{ code, community: op.community, geometry: cell.geometry, responsibleUnit: sameSubdistrict ? cell.responsibleUnit : null }],
  }
}
