/**
 * Split a cell along a drawn line, or into the parts inside and outside a
 * drawn polygon. Every resulting part becomes a new cell of the same
 * community with the next free numbers; the old code is retired. Holes are
 * kept; a line through a hole splits around it. Where the cut meets the
 * cell's outline, the new vertex is also put into the neighbour there.
 */
import { booleanIntersects, booleanPointInPolygon, point } from '@turf/turf'
import { checkedLine, facesInside, facesToGeometry, latticeRings, newVertices, readingOrder, stitch } from './geometry.ts'
import { fromLattice, type Path } from './planar.ts'
import { neighboursOf, requireCell, type RedrawContext } from './context.ts'
import { RedrawError, RedrawErrorCode, type OpResult, type SplitOp } from './types.ts'

export function split(op: SplitOp, ctx: RedrawContext): OpResult {
  const cell = requireCell(ctx, op.cell, 'cell')
  if ((op.line === undefined) === (op.polygon === undefined)) {
    throw new RedrawError(RedrawErrorCode.invalidLine, 'give either a line or a polygon to split by', op.line ? 'polygon' : 'line', cell.code)
  }
  const rings = latticeRings(cell.geometry)
  let blades: Path[]
  if (op.line) {
    const pts = checkedLine(op.line, 'line')
    for (const [i, end] of [[0, pts[0]], [pts.length - 1, pts[pts.length - 1]]] as const) {
      if (booleanPointInPolygon(point(fromLattice(end)), cell.geometry, { ignoreBoundary: true })) {
        throw new RedrawError(RedrawErrorCode.lineEndsInsideCell, `the line must cross the cell: its ${i === 0 ? 'first' : 'last'} position lies inside cell ${cell.code}`, `line.coordinates[${i}]`, cell.code)
      }
    }
    blades = [{ points: pts, closed: false }]
  } else {
    const ring = op.polygon?.coordinates?.[0]
    blades = [{ points: checkedLine(ring ? { type: 'LineString', coordinates: ring } : undefined, 'polygon', true), closed: true }]
  }
  const parts = facesInside(rings, blades)
  if (parts.length < 2) {
    const touches = op.line ? booleanIntersects(op.line, cell.geometry) : true
    const code = op.line
      ? (touches ? RedrawErrorCode.lineDoesNotSplit : RedrawErrorCode.lineOutsideCell)
      : RedrawErrorCode.polygonDoesNotSplit
    const why = op.line
      ? (touches ? `the line touches cell ${cell.code} but does not cut it in two` : `the line does not reach cell ${cell.code}`)
      : `the polygon does not cut cell ${cell.code} in two (it covers it, or lies outside it)`
    throw new RedrawError(code, why, op.line ? 'line' : 'polygon', cell.code)
  }
  const geoms = readingOrder(parts.map((f) => facesToGeometry([f])), (g) => g)
  const codes = ctx.allocate(cell.community, geoms.length)
  const upserted = geoms.map((geometry, i) => ({ code: codes[i], community: cell.community, geometry, responsibleUnit: cell.responsibleUnit }))
  const stitched = stitch(neighboursOf(ctx, [cell]), newVertices([cell.geometry], geoms))
  return { removed: [cell.code], upserted: [...upserted, ...stitched] }
}

