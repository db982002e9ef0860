/**
 * Merge adjacent cells into one new cell. Cells must form one piece through
 * shared edges (touching at a corner is not enough). Cells of different
 * communities merge only when the operation names the community the merged
 * cell belongs to. The old codes are retired; the new cell takes the next
 * free number of its community.
 */
import { dissolve, insideRings, arrange } from './planar.ts'
import { cellPaths, facesToGeometry, latticeRings } from './geometry.ts'
import { requireCell, type RedrawContext } from './context.ts'
import { RedrawError, RedrawErrorCode, type CellGeometry, type MergeOp, type OpResult, type RedrawCell } from './types.ts'

/** The union of cells as faces; one face when they form one piece. */
export function unionFaces(cells: RedrawCell[]): ReturnType<typeof dissolve> {
  const rings = cells.map((c) => latticeRings(c.geometry))
  const arr = arrange(cells.flatMap((c) => cellPaths(c.geometry)))
  return dissolve(arr, (f) => (rings.some((r) => insideRings(arr.faces[f].inside[0], arr.faces[f].inside[1], r)) ? 0 : null))
}

export function merge(op: MergeOp, ctx: RedrawContext): OpResult {
  if (!Array.isArray(op.cells) || op.cells.length < 2) throw new RedrawError(RedrawErrorCode.tooFewCells, 'a merge needs at least two cells', 'cells')
  const seen = new Set<string>()
  op.cells.forEach((code, i) => {
    if (seen.has(code)) throw new RedrawError(RedrawErrorCode.duplicateCell, `cell ${code} is listed twice`, `cells[${i}]`, code)
    seen.add(code)
  })
  const cells = op.cells.map((code, i) => requireCell(ctx, code, `cells[${i}]`))
  const communities = [...new Set(cells.map((c) => c.community))]
  let community = communities[0]
  if (op.community !== undefined) {
    if (!communities.includes(op.community)) {
      throw new RedrawError(RedrawErrorCode.crossCommunityMerge, `community ${op.community} is not the community of any of the merged cells (${communities.join(', ')})`, 'community')
    }
    community = op.community
  } else if (communities.length > 1) {
    throw new RedrawError(RedrawErrorCode.crossCommunityMerge,
      `the cells belong to ${communities.length} communities (${communities.join(', ')}); say which one the merged cell joins with "community"`, 'community')
  }
  const faces = unionFaces(cells).get(0) ?? []
  if (faces.length !== 1) {
    throw new RedrawError(RedrawErrorCode.notAdjacent,
      `the cells do not form one piece through shared edges (they make ${faces.length} separate pieces)`, 'cells', cells[0].code)
  }
  const geometry: CellGeometry = facesToGeometry(faces)
  const units = new Set(cells.map((c) => c.responsibleUnit))
  const [code] = ctx.allocate(community, 1)
  return {
    removed: cells.map((c) => c.code),
    upserted: [{ code, community, geometry, responsibleUnit: units.size === 1 ? cells[0].responsibleUnit : null }],
  }
}
