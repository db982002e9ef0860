/**
 * Move the boundary between two neighbouring cells: the drawn line becomes
 * their new common boundary. The two cells are united and cut again along the
 * line, so together they cover exactly what they covered before — no gap, no
 * overlap — and each keeps its code (the part overlapping it most is its new
 * shape). Line ends within SNAP_M of the pair's outline are pulled onto it.
 */
import { booleanPointInPolygon, point } from '@turf/turf'
import { checkedLine, facesInside, faceToPolygon, latticeRings, newVertices, stitch } from './geometry.ts'
import { fromLattice, insideRings, type Face, type LPoint } from './planar.ts'
import { unionFaces } from './merge.ts'
import { neighboursOf, requireCell, type RedrawContext } from './context.ts'
import { RedrawError, RedrawErrorCode, type MoveBoundaryOp, type OpResult } from './types.ts'

/** Line ends this close to the outline of the two cells are snapped onto it, metres (a click's slack at street zoom). */
export const SNAP_M = 2

export function moveBoundary(op: MoveBoundaryOp, ctx: RedrawContext): OpResult {
  if (!Array.isArray(op.cells) || op.cells.length !== 2) throw new RedrawError(RedrawErrorCode.tooFewCells, 'moving a boundary takes exactly two cells', 'cells')
  if (op.cells[0] === op.cells[1]) throw new RedrawError(RedrawErrorCode.duplicateCell, `cell ${op.cells[0]} is listed twice`, 'cells[1]', op.cells[0])
  const a = requireCell(ctx, op.cells[0], 'cells[0]')
  const b = requireCell(ctx, op.cells[1], 'cells[1]')
  const union = unionFaces([a, b]).get(0) ?? []
  if (union.length !== 1) throw new RedrawError(RedrawErrorCode.notAdjacent, `cells ${a.code} and ${b.code} do not share an edge`, 'cells', a.code)
  const rings = [union[0].shell, ...union[0].holes]
  const pts = checkedLine(op.line, 'line')
  const snapUnits = (SNAP_M / 111_320) * 1e7
  // An end snapped onto an edge is rounded to the lattice and may land a hair inside:
  // carry the line a few units on past it, so it surely crosses the outline there.
  const s0 = snapOnto(pts[0], rings, snapUnits)
  if (s0.onEdge) pts.unshift(beyond(s0.p, pts[1]))
  pts[s0.onEdge ? 1 : 0] = s0.p
  const n = pts.length - 1
  const s1 = snapOnto(pts[n], rings, snapUnits)
  pts[n] = s1.p
  if (s1.onEdge) pts.push(beyond(s1.p, pts[n - 1]))
  const outline = faceToPolygon(union[0])
  for (const i of [0, pts.length - 1]) {
    // (an end carried past an edge lies outside by construction)
    if (booleanPointInPolygon(point(fromLattice(pts[i])), outline, { ignoreBoundary: true })) {
      throw new RedrawError(RedrawErrorCode.lineEndsInsideCell, `the new boundary must run from edge to edge of the two cells; position ${i} lies inside them`, `line.coordinates[${i}]`, a.code)
    }
  }
  const parts = facesInside(rings, [{ points: pts, closed: false }])
  if (parts.length !== 2) {
    throw new RedrawError(RedrawErrorCode.boundaryNotTwoParts, `the line cuts cells ${a.code} and ${b.code} into ${parts.length} part(s), not 2`, 'line', a.code)
  }
  const aRings = latticeRings(a.geometry)
  const first = overlap(parts[0], aRings) >= overlap(parts[1], aRings) ? 0 : 1
  const na = { ...a, geometry: faceToPolygon(parts[first]) }
  const nb = { ...b, geometry: faceToPolygon(parts[1 - first]) }
  const stitched = stitch(neighboursOf(ctx, [a, b]), newVertices([a.geometry, b.geometry], [na.geometry, nb.geometry]))
  return { removed: [], upserted: [na, nb, ...stitched] }
}

/** Area (lattice units²) of the part of `face` inside `rings`. */
function overlap(face: Face, rings: LPoint[][]): number {
  return facesInside([face.shell, ...face.holes], rings.map((points) => ({ points, closed: true })))
    .filter((f) => insideRings(f.inside[0], f.inside[1], rings))
    .reduce((s, f) => s + f.area, 0)
}

/** `end` moved 20 lattice units (≈ 20 cm) further away from `from`. */
function beyond(end: LPoint, from: LPoint): LPoint {
  const dx = end[0] - from[0]
  const dy = end[1] - from[1]
  const len = Math.hypot(dx, dy) || 1
  return [Math.round(end[0] + (dx / len) * 20), Math.round(end[1] + (dy / len) * 20)]
}

/** The nearest vertex or edge point of the rings within `tol` units, else `p`. */
function snapOnto(p: LPoint, rings: LPoint[][], tol: number): { p: LPoint; onEdge: boolean } {
  let best: LPoint = p
  let bestD = tol
  for (const ring of rings) {
    for (const v of ring) {
      const d = Math.hypot(v[0] - p[0], v[1] - p[1])
      if (d <= bestD) { bestD = d; best = v }
    }
  }
  if (best !== p) return { p: best, onEdge: false }
  for (const ring of rings) {
    for (let i = 0; i < ring.length; i++) {
      const u = ring[i]
      const v = ring[(i + 1) % ring.length]
      const dx = v[0] - u[0]
      const dy = v[1] - u[1]
      const t = ((p[0] - u[0]) * dx + (p[1] - u[1]) * dy) / (dx * dx + dy * dy)
      if (t <= 0 || t >= 1) continue
      const q: LPoint = [Math.round(u[0] + t * dx), Math.round(u[1] + t * dy)]
      const d = Math.hypot(q[0] - p[0], q[1] - p[1])
      if (d <= bestD) { bestD = d; best = q }
    }
  }
  return { p: best, onEdge: best !== p }
}
