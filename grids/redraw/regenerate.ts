/**
 * Regenerate the cells of a community: tiles of about the target area —
 * north-aligned squares centred on the community, or the H3 hexagons of the
 * resolution whose average area is nearest the target — clipped to the
 * community's outline.
 *
 * The outline is the exact union of the community's current cells (their own
 * lattice vertices, nothing re-rounded), and the tiles are clipped against that
 * very outline in one lattice arrangement. Where a tile edge crosses the
 * outline the new vertex slides a little along the outline edge to the lattice
 * point that bends it least (planar.ts, `slide`), and is stitched into the
 * neighbouring community's cell there, so the new cells cover the old ground
 * to a few thousandths of a square metre, also on the district's outline where
 * there is no neighbour to stitch. Clipped pieces smaller than MIN_PIECE of a
 * tile join the piece inside the community they share the longest edge with,
 * so nothing is lost; a separate part of the community keeps at least one
 * cell of its own, and no cell spans two parts.
 *
 * The result is checked with the change-set validation (validate.ts) before it
 * is returned: every new cell valid, no gap, overlap or spill against the old
 * cells and the neighbours. A tiling whose corners or edges come within
 * MARGIN of the outline's vertices or edges is shifted by a few metres first,
 * and if a check still fails the next shift is tried; when none passes the
 * operation is refused (regenerate_failed) and the draft is left as it was.
 * All old codes are retired; the new cells are numbered in reading order from
 * the community's next free number.
 */
import { cellToBoundary, getHexagonAreaAvg, polygonToCellsExperimental, POLYGON_TO_CELLS_FLAGS } from 'h3-js'
import { arrange, dissolve, fromLattice, insideRings, type Face, type LPoint, type Path } from './planar.ts'
import { facesToGeometry, latticeRings, newVertices, readingOrder, stitch } from './geometry.ts'
import { unionFaces } from './merge.ts'
import { neighboursOf, type RedrawContext } from './context.ts'
import { emptyDraft, fold, type BaseCell } from './changeset.ts'
import { DEFAULT_TOLERANCE_M2, validateDraft, type ChangeProblem } from './validate.ts'
import { RedrawError, RedrawErrorCode, type CellGeometry, type OpResult, type RedrawCell, type RegenerateOp, type RegenerateShape } from './types.ts'

/** Pieces below this share of a tile's area join a neighbour (a third: small enough to keep near-full tiles). */
export const MIN_PIECE = 0.3
/** Smallest and largest target areas accepted, m² (a courtyard … a rural township's field block). */
export const TARGET_AREA_RANGE: readonly [number, number] = [500, 5_000_000]
export const REGENERATE_SHAPES: readonly RegenerateShape[] = ['square', 'h3']
/**
 * The regenerated cells must pass the change-set validation at this tolerance
 * (m²), well inside the 0.5 m² a change set allows, so later operations of the
 * same draft still have room; failing that, the best tiling within 0.5 m².
 */
export const REGENERATE_TOLERANCE_M2 = 0.1

const METRES_PER_DEGREE = 111_320
/** Tile corners and edges are kept this far from the outline's vertices and edges, lattice units (≈ 0.5 m). */
const MARGIN = 50
/** How far a crossing may slide along the outline, lattice units (≈ 20 m, a tenth of a tile side at most; mostly under a metre). */
const SLIDE = 2000
/** Shifts of the tiling tried in turn, lattice units (up to ≈ 7 m). */
const SHIFTS: readonly [number, number][] = [[0, 0], [61, -43], [-97, 71], [149, 113], [-211, -173], [331, -257], [-433, 389], [587, 521]]

type Ring = LPoint[]

export function regenerate(op: RegenerateOp, ctx: RedrawContext): OpResult {
  if (typeof op.community !== 'string' || !/^[0-9]{12}$/.test(op.community) || !ctx.communityExists(op.community)) {
    throw new RedrawError(RedrawErrorCode.unknownCommunity, `no community ${String(op.community)}`, 'community')
  }
  const target = op.target_area_m2
  if (typeof target !== 'number' || !Number.isFinite(target) || target < TARGET_AREA_RANGE[0] || target > TARGET_AREA_RANGE[1]) {
    throw new RedrawError(RedrawErrorCode.invalidTargetArea, `target_area_m2 must be ${TARGET_AREA_RANGE[0]}…${TARGET_AREA_RANGE[1]} m²`, 'target_area_m2')
  }
  const shape: RegenerateShape = op.shape ?? 'square'
  if (!REGENERATE_SHAPES.includes(shape)) {
    throw new RedrawError(RedrawErrorCode.invalidShape, `shape must be one of ${REGENERATE_SHAPES.join(', ')}, not ${String(shape)}`, 'shape')
  }
  const cells = ctx.communityCells(op.community)
  if (!cells.length) throw new RedrawError(RedrawErrorCode.unknownCommunity, `community ${op.community} has no cells`, 'community')

  // The outline: the exact union of the cells as they are now.
  const region = unionFaces(cells).get(0) ?? []
  const rings: Ring[] = region.flatMap((f) => [f.shell, ...f.holes])
  const pts = rings.flat()
  const box: [number, number, number, number] = [
    Math.min(...pts.map((p) => p[0])), Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[1])),
  ]
  const lat = (box[1] + box[3]) / 2 / 1e7
  const m2PerUnit2 = (METRES_PER_DEGREE / 1e7) ** 2 * Math.cos((lat * Math.PI) / 180)
  const tiling = shape === 'h3' ? hexagons(region, target) : squares(box, target, lat)
  const minUnits = (MIN_PIECE * tiling.tileM2) / m2PerUnit2
  const others = neighboursOf(ctx, cells).filter((c) => c.community !== op.community)
  const outline = segments(rings)

  let best: { geoms: CellGeometry[]; stitched: RedrawCell[]; worst: number } | null = null
  let lastProblem: ChangeProblem | null = null
  // Shifts whose tile corners come near the outline, or tile edges near its vertices, are tried last.
  const shifts = SHIFTS.map((d) => tiling.tiles.map((r) => r.map((p): LPoint => [p[0] + d[0], p[1] + d[1]])))
  const close = shifts.map((tiles) => tooClose(tiles, rings, outline))
  for (const tiles of [...shifts.filter((_, i) => !close[i]), ...shifts.filter((_, i) => close[i])]) {
    const geoms = clip(rings, tiles, minUnits, Math.max(1, Math.floor(Math.min(SLIDE, tiling.sideUnits / 10))))
    const stitched = stitch(others, newVertices(cells.map((c) => c.geometry), geoms))
    const problems = check(cells, geoms, stitched, others)
    const moved = drift(outline, newVertices(cells.map((c) => c.geometry), geoms), stitched) * m2PerUnit2
    if (moved > REGENERATE_TOLERANCE_M2) {
      problems.push({ operation: null, cell: null, field: 'geometry', error: RedrawErrorCode.gap, reason: `the community's outline moves by ${moved.toFixed(2)} m² where no neighbour lies across it`, area_m2: Math.round(moved * 100) / 100 })
    }
    if (!problems.length) { best = { geoms, stitched, worst: 0 }; break }
    const worst = problems.some((p) => p.area_m2 === undefined) ? Infinity : Math.max(...problems.map((p) => p.area_m2 ?? 0))
    lastProblem = problems[0]
    if (worst <= DEFAULT_TOLERANCE_M2 && (!best || worst < best.worst)) best = { geoms, stitched, worst }
  }
  if (!best) {
    const why = lastProblem ? `${lastProblem.error}: ${lastProblem.reason}` : 'no tiling fits the outline'
    throw new RedrawError(RedrawErrorCode.regenerateFailed, `community ${op.community} could not be regenerated into ${shape === 'h3' ? 'H3 hexagons' : 'squares'} without a gap or overlap (${why})`, 'community')
  }
  const geoms = readingOrder(best.geoms, (g) => g)
  const codes = ctx.allocate(op.community, geoms.length)
  const units = new Set(cells.map((c) => c.responsibleUnit))
  const unit = units.size === 1 ? cells[0].responsibleUnit : null
  const upserted = geoms.map((geometry, i) => ({ code: codes[i], community: op.community, geometry, responsibleUnit: unit }))
  return { removed: cells.map((c) => c.code), upserted: [...upserted, ...best.stitched] }
}

interface Tiling {
  /** Tile rings on the lattice (not closed), before any shift. */
  tiles: Ring[]
  /** Area of one whole tile, m². */
  tileM2: number
  /** A tile's side (or edge) in lattice units. */
  sideUnits: number
}

/** Squares of the target area over the bounding box, centred on it, one spare row and column around. */
function squares(box: [number, number, number, number], target: number, lat: number): Tiling {
  const [minX, minY, maxX, maxY] = box
  const side = Math.sqrt(target)
  const dy = Math.max(1, Math.round((side / METRES_PER_DEGREE) * 1e7))
  const dx = Math.max(1, Math.round((side / (METRES_PER_DEGREE * Math.cos((lat * Math.PI) / 180))) * 1e7))
  const nx = Math.max(1, Math.ceil((maxX - minX) / dx))
  const ny = Math.max(1, Math.ceil((maxY - minY) / dy))
  const x0 = minX - Math.round((nx * dx - (maxX - minX)) / 2)
  const y0 = minY - Math.round((ny * dy - (maxY - minY)) / 2)
  const tiles: Ring[] = []
  for (let i = -1; i <= nx; i++) {
    for (let j = -1; j <= ny; j++) {
      const [ax, ay] = [x0 + i * dx, y0 + j * dy]
      tiles.push([[ax, ay], [ax + dx, ay], [ax + dx, ay + dy], [ax, ay + dy]])
    }
  }
  return { tiles, tileM2: target, sideUnits: Math.min(dx, dy) }
}

/**
 * The H3 resolution whose average hexagon area is nearest the target — on a
 * ratio scale, as resolutions step by a factor of seven: 50,000 m² takes
 * resolution 9 (105,333 m², 2.1×) rather than 10 (15,048 m², 3.3×).
 */
export function h3Resolution(targetM2: number): number {
  let best = 0
  for (let r = 1; r <= 15; r++) {
    if (Math.abs(Math.log(getHexagonAreaAvg(r, 'm2') / targetM2)) < Math.abs(Math.log(getHexagonAreaAvg(best, 'm2') / targetM2))) best = r
  }
  return best
}

/** The H3 hexagons of the nearest resolution overlapping the community, on the lattice. */
function hexagons(region: Face[], target: number): Tiling {
  const res = h3Resolution(target)
  const ids = new Set<string>()
  for (const f of region) {
    const polygon = [f.shell, ...f.holes].map((r) => [...r, r[0]].map(fromLattice))
    for (const h of polygonToCellsExperimental(polygon, res, POLYGON_TO_CELLS_FLAGS.containmentOverlapping, true)) ids.add(h)
  }
  // Neighbouring hexagons compute their shared corners separately: a corner rounded
  // one unit apart from its twin would leave a sliver, so corners within 2 units are one.
  const corners = new Map<string, LPoint>()
  const corner = (p: LPoint): LPoint => {
    for (let i = -2; i <= 2; i++) {
      for (let j = -2; j <= 2; j++) {
        const q = corners.get(`${p[0] + i},${p[1] + j}`)
        if (q) return q
      }
    }
    corners.set(`${p[0]},${p[1]}`, p)
    return p
  }
  const tiles = [...ids].sort().map((h) => {
    const ring = cellToBoundary(h, true).map((c): LPoint => corner([Math.round(c[0] * 1e7), Math.round(c[1] * 1e7)]))
    const [first, last] = [ring[0], ring[ring.length - 1]]
    if (ring.length > 1 && first[0] === last[0] && first[1] === last[1]) ring.pop()
    return ring
  })
  const area = getHexagonAreaAvg(res, 'm2')
  // Edge of a regular hexagon of that area, in north-south lattice units (the shorter).
  const edgeM = Math.sqrt((2 * area) / (3 * Math.sqrt(3)))
  return { tiles, tileM2: area, sideUnits: Math.round((edgeM / METRES_PER_DEGREE) * 1e7 * 0.75) }
}

interface Segment { a: LPoint; b: LPoint; box: [number, number, number, number] }

function segments(rings: Ring[]): Segment[] {
  return rings.flatMap((r) => r.map((a, i) => {
    const b = r[(i + 1) % r.length]
    return { a, b, box: [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])] as [number, number, number, number] }
  }))
}

/** Distance from p to the segment, lattice units. */
function distance(p: LPoint, s: Segment): number {
  const dx = s.b[0] - s.a[0]
  const dy = s.b[1] - s.a[1]
  const len2 = dx * dx + dy * dy
  const t = len2 ? Math.max(0, Math.min(1, ((p[0] - s.a[0]) * dx + (p[1] - s.a[1]) * dy) / len2)) : 0
  return Math.hypot(p[0] - (s.a[0] + t * dx), p[1] - (s.a[1] + t * dy))
}

const near = (p: LPoint, s: Segment): boolean =>
  p[0] >= s.box[0] - MARGIN && p[0] <= s.box[2] + MARGIN && p[1] >= s.box[1] - MARGIN && p[1] <= s.box[3] + MARGIN && distance(p, s) < MARGIN

/** Does a tile corner come within MARGIN of the outline, or an outline vertex within MARGIN of a tile edge? */
function tooClose(tiles: Ring[], rings: Ring[], outline: Segment[]): boolean {
  const tileEdges = segments(tiles)
  const vertices = rings.flat()
  const corners = new Map(tiles.flat().map((p) => [`${p[0]},${p[1]}`, p]))
  for (const c of corners.values()) if (outline.some((s) => near(c, s))) return true
  for (const v of vertices) if (tileEdges.some((s) => near(v, s))) return true
  return false
}

/**
 * The tiles clipped to the outline: one arrangement of the outline (fixed) and
 * the tile rings (free, sliding), its faces inside the outline, small pieces
 * joined to the neighbour they share the longest edge with, as geometries.
 */
function clip(rings: Ring[], tiles: Ring[], minUnits: number, slide: number): CellGeometry[] {
  const [minX, minY, maxX, maxY] = [0, 1, 2, 3].map((k) => (k < 2 ? Math.min : Math.max)(...rings.flat().map((p) => p[k % 2])))
  // Tiles whose bounding box meets the outline's.
  const wanted = tiles.filter((r) => Math.min(...r.map((p) => p[0])) <= maxX && Math.max(...r.map((p) => p[0])) >= minX
    && Math.min(...r.map((p) => p[1])) <= maxY && Math.max(...r.map((p) => p[1])) >= minY)
  const paths: Path[] = [...rings.map((points) => ({ points, closed: true, fixed: true })), ...wanted.map((points) => ({ points, closed: true, slide }))]
  const arr = arrange(paths)
  const inside = arr.faces.map((f) => insideRings(f.inside[0], f.inside[1], rings))

  // Union-find over pieces; a small piece joins the neighbour it shares the longest edge with.
  const parent = arr.faces.map((_, i) => i)
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])))
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
    const small = [...area.entries()].filter(([g, a]) => a < minUnits && shared.has(g)).sort((p, q) => p[1] - q[1] || p[0] - q[0])
    if (!small.length) break
    const [g] = small[0]
    const into = [...(shared.get(g) as Map<number, number>).entries()].sort((p, q) => q[1] - p[1] || p[0] - q[0])[0][0]
    parent[g] = into
  }
  const groups = dissolve(arr, (f) => (inside[f] ? find(f) : null))
  return [...groups.values()].map((faces) => facesToGeometry(faces))
}

/**
 * The area (units²) between the old outline and the new one where no
 * neighbour took the new vertices: the district's outline. Thinner than a
 * lattice unit, these slivers are below what the validation's own arrangement
 * resolves, so they are measured here exactly: along each outline edge, the
 * new vertices near it in order, each off the edge by cross / length, and the
 * area between the edge and the path through them (trapezoids, or two
 * triangles where the path crosses the edge).
 */
function drift(outline: Segment[], added: LPoint[], stitched: RedrawCell[]): number {
  const taken = new Set(stitched.flatMap((c) => latticeRings(c.geometry).flat().map((p) => `${p[0]},${p[1]}`)))
  const onEdge = new Map<Segment, { u: number; d: number }[]>()
  for (const p of added) {
    if (taken.has(`${p[0]},${p[1]}`)) continue
    for (const s of outline) {
      if (p[0] < s.box[0] - 1 || p[0] > s.box[2] + 1 || p[1] < s.box[1] - 1 || p[1] > s.box[3] + 1) continue
      const dx = s.b[0] - s.a[0]
      const dy = s.b[1] - s.a[1]
      const len2 = dx * dx + dy * dy
      const t = (p[0] - s.a[0]) * dx + (p[1] - s.a[1]) * dy
      const cross = dx * (p[1] - s.a[1]) - dy * (p[0] - s.a[0])
      if (t > 0 && t < len2 && cross * cross <= len2) {
        const len = Math.sqrt(len2)
        const list = onEdge.get(s) ?? []
        list.push({ u: t / len, d: cross / len })
        onEdge.set(s, list)
        break
      }
    }
  }
  let sum = 0
  for (const [s, list] of onEdge) {
    const path = [{ u: 0, d: 0 }, ...list.sort((p, q) => p.u - q.u), { u: Math.hypot(s.b[0] - s.a[0], s.b[1] - s.a[1]), d: 0 }]
    for (let i = 1; i < path.length; i++) {
      const [p, q] = [path[i - 1], path[i]]
      const du = q.u - p.u
      sum += p.d * q.d >= 0 ? (du * Math.abs(p.d + q.d)) / 2 : (du * (p.d * p.d + q.d * q.d)) / (2 * (Math.abs(p.d) + Math.abs(q.d)))
    }
  }
  return sum
}

/**
 * The change-set validation of the regenerated community against the old
 * cells and the neighbours, on geometry alone (codes are given out after).
 */
function check(cells: RedrawCell[], geoms: CellGeometry[], stitched: RedrawCell[], others: RedrawCell[]): ChangeProblem[] {
  const state = emptyDraft()
  const community = cells[0].community
  const fresh = geoms.map((geometry, i): RedrawCell => ({ code: `new:${i}`, community, geometry, responsibleUnit: null }))
  const before = new Map(others.map((c) => [c.code, c]))
  const base: BaseCell[] = [...cells, ...stitched.map((s) => before.get(s.code) as RedrawCell)].map((c) => ({ ...c, version: 0 }))
  fold(state, 0, { removed: cells.map((c) => c.code), upserted: [...fresh, ...stitched] }, base)
  const untouched = others.filter((c) => !state.current.has(c.code))
  const geometric = new Set<string>([RedrawErrorCode.invalidGeometry, RedrawErrorCode.overlappingCells, RedrawErrorCode.gap, RedrawErrorCode.outsideFootprint])
  return validateDraft(state, untouched, { minAreaM2: 0, maxAreaM2: Infinity, toleranceM2: REGENERATE_TOLERANCE_M2, isRetired: () => false })
    .filter((p) => geometric.has(p.error))
}
