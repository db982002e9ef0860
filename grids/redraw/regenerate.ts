/**
 * Regenerate the cells of a community: a square grid of about the target
 * area, aligned north–south and centred on the community, clipped to its
 * outline. Clipped pieces smaller than MIN_PIECE of the target join the
 * neighbouring piece they share the longest edge with, so the outline's
 * jags do not become slivers; a separate part of the community always keeps
 * at least one cell of its own. All old codes are retired; the new cells are
 * numbered in reading order from the community's next free number.
 */
import { arrange, dissolve, insideRings, type LPoint, type Path } from './planar.ts'
import { facesToGeometry, newVertices, readingOrder, stitch } from './geometry.ts'
import { unionFaces } from './merge.ts'
import { neighboursOf, type RedrawContext } from './context.ts'
import { RedrawError, RedrawErrorCode, type OpResult, type RegenerateOp } from './types.ts'

/** Pieces below this share of the target area join a neighbour (a third: small enough to keep near-full squares). */
export const MIN_PIECE = 0.3
/** Smallest and largest target areas accepted, m² (a courtyard … a rural township's field block). */
export const TARGET_AREA_RANGE: readonly [number, number] = [500, 5_000_000]

const METRES_PER_DEGREE = 111_320

export function regenerate(op: RegenerateOp, ctx: RedrawContext): OpResult {
  if (typeof op.community !== 'string' || !/^[0-9]{12}$/.test(op.community) || !ctx.communityExists(op.community)) {
    throw new RedrawError(RedrawErrorCode.unknownCommunity, `no community ${String(op.community)}`, 'community')
  }
  const target = op.target_area_m2
  if (typeof target !== 'number' || !Number.isFinite(target) || target < TARGET_AREA_RANGE[0] || target > TARGET_AREA_RANGE[1]) {
    throw new RedrawError(RedrawErrorCode.invalidTargetArea, `target_area_m2 must be ${TARGET_AREA_RANGE[0]}…${TARGET_AREA_RANGE[1]} m²`, 'target_area_m2')
  }
  const cells = ctx.communityCells(op.community)
  if (!cells.length) throw new RedrawError(RedrawErrorCode.unknownCommunity, `community ${op.community} has no cells`, 'community')
  const region = unionFaces(cells).get(0) ?? []
  const rings: LPoint[][] = region.flatMap((f) => [f.shell, ...f.holes])
  const xs = rings.flat().map((p) => p[0])
  const ys = rings.flat().map((p) => p[1])
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)]
  const lat = (minY + maxY) / 2 / 1e7
  const side = Math.sqrt(target)
  const dy = Math.max(1, Math.round((side / METRES_PER_DEGREE) * 1e7))
  const dx = Math.max(1, Math.round((side / (METRES_PER_DEGREE * Math.cos((lat * Math.PI) / 180))) * 1e7))
  const nx = Math.max(1, Math.ceil((maxX - minX) / dx))
  const ny = Math.max(1, Math.ceil((maxY - minY) / dy))
  const x0 = minX - Math.round((nx * dx - (maxX - minX)) / 2)
  const y0 = minY - Math.round((ny * dy - (maxY - minY)) / 2)
  const lines: Path[] = []
  for (let i = 1; i < nx; i++) lines.push({ points: [[x0 + i * dx, y0 - dy], [x0 + i * dx, y0 + (ny + 1) * dy]], closed: false })
  for (let j = 1; j < ny; j++) lines.push({ points: [[x0 - dx, y0 + j * dy], [x0 + (nx + 1) * dx, y0 + j * dy]], closed: false })
  const arr = arrange([...rings.map((points) => ({ points, closed: true, fixed: true })), ...lines])
  const inside = arr.faces.map((f) => insideRings(f.inside[0], f.inside[1], rings))

  // Union-find over pieces; a small piece joins the neighbour it shares the longest edge with.
  const parent = arr.faces.map((_, i) => i)
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])))
  const m2PerUnit2 = (METRES_PER_DEGREE / 1e7) ** 2 * Math.cos((lat * Math.PI) / 180)
  const minUnits = (MIN_PIECE * target) / m2PerUnit2
  for (let round = 0; round < arr.faces.length; round++) {
    const area = new Map<number, number>()
    arr.faces.forEach((f, i) => { if (inside[i]) area.set(find(i), (area.get(find(i)) ?? 0) + f.area) })
    const shared = new Map<number, Map<number, number>>()
    for (const e of arr.edges) {
      if (e.left < 0 || e.right < 0 || !inside[e.left] || !inside[e.right]) continue
      const [l, r] = [find(e.left), find(e.right)]
      if (l === r) continue
      const len = Math.hypot(e.b[0] - e.a[0], e.b[1] - e.a[1])
      for (const [u, v] of [[l, r], [r, l]]) {
        let m = shared.get(u)
        if (!m) shared.set(u, (m = new Map()))
        m.set(v, (m.get(v) ?? 0) + len)
      }
    }
    const small = [...area.entries()].filter(([g, a]) => a < minUnits && shared.has(g)).sort((p, q) => p[1] - q[1])
    if (!small.length) break
    const [g] = small[0]
    const into = [...(shared.get(g) as Map<number, number>).entries()].sort((p, q) => q[1] - p[1] || p[0] - q[0])[0][0]
    parent[g] = into
  }
  const groups = dissolve(arr, (f) => (inside[f] ? find(f) : null))
  const geoms = readingOrder([...groups.values()].map((faces) => facesToGeometry(faces)), (g) => g)
  const codes = ctx.allocate(op.community, geoms.length)
  const units = new Set(cells.map((c) => c.responsibleUnit))
  const unit = units.size === 1 ? cells[0].responsibleUnit : null
  const upserted = geoms.map((geometry, i) => ({ code: codes[i], community: op.community, geometry, responsibleUnit: unit }))
  const outside = neighboursOf(ctx, cells).filter((c) => c.community !== op.community)
  const stitched = stitch(outside, newVertices(cells.map((c) => c.geometry), geoms))
  return { removed: cells.map((c) => c.code), upserted: [...upserted, ...stitched] }
}
