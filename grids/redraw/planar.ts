/**
 * A small planar arrangement on the grid's own lattice (1e-7°, the precision
 * cells are stored and exported at): rings and lines are noded against each
 * other, new intersection points are rounded to the lattice once, and the
 * faces of the resulting planar graph are read off with their holes.
 *
 * Why not a general overlay library: every redraw operation is "cut along
 * these lines, then keep or dissolve faces", and doing that on integer lattice
 * coordinates makes shared vertices bit-identical on both sides of a new
 * boundary, so cells stay edge-matched after rounding (the PostGIS checks at
 * commit see no slivers). Orientation tests are exact: coordinates are taken
 * relative to a local origin, so products stay far below 2^53.
 */
import type { Position } from 'geojson'

/** Lattice units per degree. */
export const SCALE = 1e7

/** A lattice point: integer 1e-7° units. */
export type LPoint = [number, number]

export const toLattice = (p: Position): LPoint => [Math.round(p[0] * SCALE), Math.round(p[1] * SCALE)]
export const fromLattice = (p: LPoint): Position => [p[0] / SCALE, p[1] / SCALE]

/** A path to node: a ring (closed, first point not repeated) or an open line. */
export interface Path {
  points: LPoint[]
  closed: boolean
  /**
   * An existing boundary (a cell's ring): where a free path crosses it, the
   * new vertex is the lattice point nearest to this edge's line, not merely
   * the nearest to the exact crossing, so the edge hardly bends.
   */
  fixed?: boolean
  /**
   * A free path only: where it crosses a fixed edge, the new vertex may slide
   * up to this many lattice units along that edge (never nearer its ends than
   * three quarters of the way) to the lattice point nearest the edge's line.
   * The bend a new vertex puts into an existing edge is a triangle of
   * |cross| / 2 units² with nothing across it to match on the district's
   * outline; the nearest point within SEARCH can leave a square metre on a
   * 600 m edge, a short slide finds one leaving a few thousandths.
   */
  slide?: number
}

export interface Face {
  /** Exterior ring, counter-clockwise, not closed (first point not repeated). */
  shell: LPoint[]
  /** Interior rings, clockwise, not closed. */
  holes: LPoint[][]
  /** Area in lattice units² (positive). */
  area: number
  /** A point strictly inside the face (lattice units, not rounded). */
  inside: [number, number]
}

export interface Arrangement {
  faces: Face[]
  /** Every edge once, with the faces left and right of a→b (-1: the unbounded face). */
  edges: { a: LPoint; b: LPoint; left: number; right: number }[]
}

const key = (p: LPoint): string => `${p[0]},${p[1]}`

function orient(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
}

/** Is p (collinear with a–b) strictly between a and b? */
function strictlyWithin(p: LPoint, a: LPoint, b: LPoint): boolean {
  const dx = b[0] - a[0]
  const dy = b[1] - a[1]
  return (p[0] - a[0]) * dx + (p[1] - a[1]) * dy > 0 && (p[0] - b[0]) * -dx + (p[1] - b[1]) * -dy > 0
}

interface Seg { a: LPoint; b: LPoint; nodes: LPoint[]; fixed: boolean; slide: number; minX: number; maxX: number; minY: number; maxY: number }

/**
 * Splits every segment where another crosses or touches it. Points are relative
 * to a local origin. Returns the noded pieces (duplicates removed by the caller).
 */
function node(segs: Seg[]): [LPoint, LPoint][] {
  const order = segs.map((_, i) => i).sort((i, j) => segs[i].minX - segs[j].minX)
  for (let oi = 0; oi < order.length; oi++) {
    const s = segs[order[oi]]
    for (let oj = oi + 1; oj < order.length; oj++) {
      const t = segs[order[oj]]
      if (t.minX > s.maxX) break
      if (t.minY > s.maxY || t.maxY < s.minY) continue
      intersect(s, t)
    }
  }
  const out: [LPoint, LPoint][] = []
  for (const s of segs) {
    const dx = s.b[0] - s.a[0]
    const dy = s.b[1] - s.a[1]
    const pts = [s.a, ...s.nodes, s.b]
      .map((p) => ({ p, t: (p[0] - s.a[0]) * dx + (p[1] - s.a[1]) * dy }))
      .sort((u, v) => u.t - v.t)
    for (let i = 1; i < pts.length; i++) {
      const p = pts[i - 1].p
      const q = pts[i].p
      if (p[0] !== q[0] || p[1] !== q[1]) out.push([p, q])
    }
  }
  return out
}

function intersect(s: Seg, t: Seg): void {
  const [a, b, c, d] = [s.a, s.b, t.a, t.b]
  const d1 = orient(c[0], c[1], d[0], d[1], a[0], a[1])
  const d2 = orient(c[0], c[1], d[0], d[1], b[0], b[1])
  const d3 = orient(a[0], a[1], b[0], b[1], c[0], c[1])
  const d4 = orient(a[0], a[1], b[0], b[1], d[0], d[1])
  if (d1 === 0 && d2 === 0) {
    // Collinear: each end lying inside the other segment becomes a node there.
    if (strictlyWithin(c, a, b)) s.nodes.push(c)
    if (strictlyWithin(d, a, b)) s.nodes.push(d)
    if (strictlyWithin(a, c, d)) t.nodes.push(a)
    if (strictlyWithin(b, c, d)) t.nodes.push(b)
    return
  }
  if (Math.sign(d1) * Math.sign(d2) < 0 && Math.sign(d3) * Math.sign(d4) < 0) {
    const f = d1 / (d1 - d2)
    const x = a[0] + (b[0] - a[0]) * f
    const y = a[1] + (b[1] - a[1]) * f
    const free = s.fixed ? t : s
    const p: LPoint = s.fixed === t.fixed ? [Math.round(x), Math.round(y)]
      : free.slide > 0 ? slideAlong(x, y, s.fixed ? s : t, free) : nearLine(x, y, s.fixed ? s : t)
    if (s.fixed !== t.fixed && free.slide > 0) anchor(p, s.fixed ? s : t)
    const isEnd = (q: LPoint, u: LPoint, v: LPoint): boolean => (q[0] === u[0] && q[1] === u[1]) || (q[0] === v[0] && q[1] === v[1])
    if (!isEnd(p, a, b)) s.nodes.push(p)
    if (!isEnd(p, c, d)) t.nodes.push(p)
    return
  }
  // Touching: an end of one lies on the other.
  if (d1 === 0 && strictlyWithin(a, c, d)) t.nodes.push(a)
  if (d2 === 0 && strictlyWithin(b, c, d)) t.nodes.push(b)
  if (d3 === 0 && strictlyWithin(c, a, b)) s.nodes.push(c)
  if (d4 === 0 && strictlyWithin(d, a, b)) s.nodes.push(d)
}

/** How far around an exact crossing to look for a lattice point on the fixed edge, units. */
const SEARCH = 5

/**
 * The lattice point within SEARCH of (x, y) closest to the line of the fixed
 * segment (ties: closest to (x, y)). Rounding a crossing on a 300 m edge to the
 * nearest lattice point can bend it by 0.7 cm — a 1 m² sliver against a
 * neighbour or the district outline; this keeps the bend to about a millimetre.
 */
function nearLine(x: number, y: number, seg: Seg): LPoint {
  const dx = seg.b[0] - seg.a[0]
  const dy = seg.b[1] - seg.a[1]
  const cx = Math.round(x)
  const cy = Math.round(y)
  let best: LPoint = [cx, cy]
  let bestLine = Infinity
  let bestNear = Infinity
  for (let i = -SEARCH; i <= SEARCH; i++) {
    for (let j = -SEARCH; j <= SEARCH; j++) {
      const px = cx + i
      const py = cy + j
      const off = Math.abs(dx * (py - seg.a[1]) - dy * (px - seg.a[0]))
      const near = (px - x) ** 2 + (py - y) ** 2
      if (off < bestLine || (off === bestLine && near < bestNear)) {
        bestLine = off
        bestNear = near
        best = [px, py]
      }
    }
  }
  return best
}

/** Twice the area of the triangle a crossing point p bends into the fixed edge (units²): |cross|. */
const bend = (p: LPoint, seg: Seg): number => Math.abs((seg.b[0] - seg.a[0]) * (p[1] - seg.a[1]) - (seg.b[1] - seg.a[1]) * (p[0] - seg.a[0]))

/** A bend this small (twice the triangle, units²: 0.005 m²) ends the slide. */
const SLIDE_GOOD_ENOUGH = 100

/**
 * The lattice point on or next to the fixed segment near the exact crossing
 * (x, y) that bends it least, found by walking along the segment's major axis
 * outwards from the crossing (the other coordinate rounded onto the line),
 * at most the free segment's `slide` units, a quarter of the way to either end
 * of the fixed segment and half the way to the nearer end of the free one (two
 * crossings of the lines through a tile corner, at right angles or wider,
 * cannot change places); the nearLine point is the fallback. Lattice points
 * close to a nearly axis-parallel edge are rare (on a 540 m edge rising 17
 * units, one run every 28 m), so the reach matters.
 */
function slideAlong(x: number, y: number, seg: Seg, free: Seg): LPoint {
  let best = nearLine(x, y, seg)
  let bestBend = bend(best, seg)
  const major = Math.abs(seg.b[0] - seg.a[0]) >= Math.abs(seg.b[1] - seg.a[1]) ? 0 : 1
  const minor = 1 - major
  const c0 = major === 0 ? x : y
  const lo = Math.min(seg.a[major], seg.b[major])
  const hi = Math.max(seg.a[major], seg.b[major])
  const toFreeEnd = Math.min(Math.hypot(x - free.a[0], y - free.a[1]), Math.hypot(x - free.b[0], y - free.b[1]))
  const reach = Math.floor(Math.min(free.slide, (c0 - lo) / 4, (hi - c0) / 4, toFreeEnd / 2))
  const slope = (seg.b[minor] - seg.a[minor]) / (seg.b[major] - seg.a[major])
  const start = Math.round(c0)
  for (let k = 0; k <= 2 * reach && bestBend > SLIDE_GOOD_ENOUGH; k++) {
    const c = start + (k & 1 ? (k + 1) / 2 : -k / 2)
    if (c <= lo || c >= hi) continue
    const o = Math.round(seg.a[minor] + (c - seg.a[major]) * slope)
    const p: LPoint = major === 0 ? [c, o] : [o, c]
    const b = bend(p, seg)
    if (b < bestBend) { best = p; bestBend = b }
  }
  return best
}

/** How far to look for anchors on either side of a crossing, lattice units (≈ 100 m). */
const ANCHOR_REACH = 10_000

/**
 * A crossing that could not slide to a good point (a long, nearly axis-parallel
 * edge: lattice points near it come in runs tens of metres apart) bends the
 * whole edge, a triangle as long as the edge. Anchors confine the bend: the
 * nearest good lattice points on either side of it become vertices of the
 * fixed segment too, so the bend spans only the stretch between them.
 */
function anchor(p: LPoint, seg: Seg): void {
  if (bend(p, seg) <= SLIDE_GOOD_ENOUGH) return
  const major = Math.abs(seg.b[0] - seg.a[0]) >= Math.abs(seg.b[1] - seg.a[1]) ? 0 : 1
  const minor = 1 - major
  const lo = Math.min(seg.a[major], seg.b[major])
  const hi = Math.max(seg.a[major], seg.b[major])
  const slope = (seg.b[minor] - seg.a[minor]) / (seg.b[major] - seg.a[major])
  for (const dir of [-1, 1]) {
    for (let k = 1; k <= ANCHOR_REACH; k++) {
      const c = p[major] + dir * k
      if (c <= lo + 1 || c >= hi - 1) break
      const o = Math.round(seg.a[minor] + (c - seg.a[major]) * slope)
      const q: LPoint = major === 0 ? [c, o] : [o, c]
      if (bend(q, seg) <= SLIDE_GOOD_ENOUGH) { seg.nodes.push(q); break }
    }
  }
}

/** Twice the signed area (counter-clockwise positive). */
export function ringArea2(ring: readonly LPoint[] | readonly [number, number][]): number {
  let s = 0
  const n = ring.length
  if (!n) return 0
  const [ox, oy] = ring[0]
  for (let i = 0; i < n; i++) {
    const p = ring[i]
    const q = ring[(i + 1) % n]
    s += (p[0] - ox) * (q[1] - oy) - (q[0] - ox) * (p[1] - oy)
  }
  return s
}

/** Even-odd point-in-rings test (the point is assumed not to lie on an edge). */
export function insideRings(x: number, y: number, rings: readonly (readonly LPoint[])[]): boolean {
  let inside = false
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i]
      const [xj, yj] = ring[j]
      if ((yi > y) !== (yj > y) && x < xi + ((y - yi) * (xj - xi)) / (yj - yi)) inside = !inside
    }
  }
  return inside
}

/**
 * A point well inside a polygon: scan along horizontal lines half-way between
 * vertex heights and take the middle of the widest inside interval.
 */
export function interiorPoint(rings: readonly (readonly LPoint[])[]): [number, number] {
  const ys = [...new Set(rings.flatMap((r) => r.map((p) => p[1])))].sort((a, b) => a - b)
  let best: [number, number] = [rings[0][0][0], rings[0][0][1]]
  let bestScore = -1
  for (let i = 1; i < ys.length; i++) {
    const y = (ys[i - 1] + ys[i]) / 2
    const xs: number[] = []
    for (const ring of rings) {
      for (let k = 0, j = ring.length - 1; k < ring.length; j = k++) {
        const [xk, yk] = ring[k]
        const [xj, yj] = ring[j]
        if ((yk > y) !== (yj > y)) xs.push(xk + ((y - yk) * (xj - xk)) / (yj - yk))
      }
    }
    xs.sort((a, b) => a - b)
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // Favour intervals that are wide and lie in a tall band between vertex heights.
      const score = Math.min(xs[k + 1] - xs[k], ys[i] - ys[i - 1])
      if (score > bestScore) {
        bestScore = score
        best = [(xs[k] + xs[k + 1]) / 2, y]
      }
    }
  }
  return best
}

/**
 * Nodes the paths against each other and returns the faces of the planar
 * graph they form: dangling line ends and bridges are dropped, each
 * connected component's outline becomes a hole of the face it lies in.
 */
export function arrange(paths: readonly Path[]): Arrangement {
  const all = paths.flatMap((p) => p.points)
  if (!all.length) return { faces: [], edges: [] }
  // Local origin keeps the products of the orientation test exact.
  const ox = Math.min(...all.map((p) => p[0]))
  const oy = Math.min(...all.map((p) => p[1]))
  const segs: Seg[] = []
  for (const path of paths) {
    const pts = path.points.map((p): LPoint => [p[0] - ox, p[1] - oy])
    const n = pts.length
    const last = path.closed ? n : n - 1
    for (let i = 0; i < last; i++) {
      const a = pts[i]
      const b = pts[(i + 1) % n]
      if (a[0] === b[0] && a[1] === b[1]) continue
      segs.push({ a, b, nodes: [], fixed: path.fixed === true, slide: path.slide ?? 0, minX: Math.min(a[0], b[0]), maxX: Math.max(a[0], b[0]), minY: Math.min(a[1], b[1]), maxY: Math.max(a[1], b[1]) })
    }
  }
  return facesOf(node(segs), ox, oy)
}

/** Faces of already-noded segments (relative coordinates; origin added back on output). */
function facesOf(pieces: [LPoint, LPoint][], ox: number, oy: number): Arrangement {
  const ids = new Map<string, number>()
  const pts: LPoint[] = []
  const id = (p: LPoint): number => {
    const k = key(p)
    let i = ids.get(k)
    if (i === undefined) {
      i = pts.length
      ids.set(k, i)
      pts.push(p)
    }
    return i
  }
  const edgeKeys = new Set<string>()
  let edges: [number, number][] = []
  for (const [p, q] of pieces) {
    const u = id(p)
    const v = id(q)
    const k = u < v ? `${u}:${v}` : `${v}:${u}`
    if (!edgeKeys.has(k)) {
      edgeKeys.add(k)
      edges.push([u, v])
    }
  }

  for (;;) {
    edges = withoutDangles(edges, pts.length)
    const g = traverse(edges, pts)
    const bridges = new Set<number>()
    for (let e = 0; e < edges.length; e++) if (g.cycleOf[2 * e] === g.cycleOf[2 * e + 1]) bridges.add(e)
    if (!bridges.size) return assemble(g, edges, pts, ox, oy)
    edges = edges.filter((_, e) => !bridges.has(e))
  }
}

function withoutDangles(edges: [number, number][], n: number): [number, number][] {
  const degree = new Int32Array(n)
  for (const [u, v] of edges) { degree[u]++; degree[v]++ }
  const alive = edges.map(() => true)
  let changed = true
  while (changed) {
    changed = false
    edges.forEach(([u, v], e) => {
      if (alive[e] && (degree[u] < 2 || degree[v] < 2)) {
        alive[e] = false
        degree[u]--
        degree[v]--
        changed = true
      }
    })
  }
  return edges.filter((_, e) => alive[e])
}

interface Traversal { cycles: number[][]; cycleOf: Int32Array }

/** Walks every half-edge (2e: u→v, 2e+1: v→u) into cycles with their face on the left. */
function traverse(edges: [number, number][], pts: LPoint[]): Traversal {
  const out = new Map<number, number[]>()
  const from = (h: number): number => (h & 1 ? edges[h >> 1][1] : edges[h >> 1][0])
  const to = (h: number): number => (h & 1 ? edges[h >> 1][0] : edges[h >> 1][1])
  for (let h = 0; h < edges.length * 2; h++) {
    const u = from(h)
    let list = out.get(u)
    if (!list) out.set(u, (list = []))
    list.push(h)
  }
  const angle = (h: number): number => {
    const p = pts[from(h)]
    const q = pts[to(h)]
    return Math.atan2(q[1] - p[1], q[0] - p[0])
  }
  const position = new Int32Array(edges.length * 2)
  for (const list of out.values()) {
    list.sort((a, b) => angle(a) - angle(b))
    list.forEach((h, i) => { position[h] = i })
  }
  const cycleOf = new Int32Array(edges.length * 2).fill(-1)
  const cycles: number[][] = []
  for (let h0 = 0; h0 < edges.length * 2; h0++) {
    if (cycleOf[h0] !== -1) continue
    const cycle: number[] = []
    let h = h0
    while (cycleOf[h] === -1) {
      cycleOf[h] = cycles.length
      cycle.push(h)
      const twin = h ^ 1
      const list = out.get(to(h)) as number[]
      h = list[(position[twin] - 1 + list.length) % list.length]
    }
    cycles.push(cycle)
  }
  return { cycles, cycleOf }
}

function assemble(g: Traversal, edges: [number, number][], pts: LPoint[], ox: number, oy: number): Arrangement {
  const from = (h: number): number => (h & 1 ? edges[h >> 1][1] : edges[h >> 1][0])
  const rings = g.cycles.map((c) => c.map((h) => pts[from(h)]))
  const areas = rings.map((r) => ringArea2(r))
  const shells: number[] = []
  const outlines: number[] = []
  areas.forEach((a, i) => (a > 0 ? shells : outlines).push(i))
  const faceOfCycle = new Int32Array(rings.length).fill(-1)
  shells.forEach((c, f) => { faceOfCycle[c] = f })
  const holes: number[][] = shells.map(() => [])
  for (const c of outlines) {
    // The outline of a component lies in the smallest shell of another component that contains it.
    const [x, y] = rings[c][0]
    let owner = -1
    for (let f = 0; f < shells.length; f++) {
      const s = shells[f]
      if (rings[s].some((p) => p[0] === x && p[1] === y)) continue
      if ((owner === -1 || areas[s] < areas[shells[owner]]) && insideRings(x, y, [rings[s]])) owner = f
    }
    faceOfCycle[c] = owner
    if (owner >= 0) holes[owner].push(c)
  }
  const shift = (r: LPoint[]): LPoint[] => r.map((p) => [p[0] + ox, p[1] + oy])
  const faces: Face[] = shells.map((s, f) => {
    const shell = shift(rings[s])
    const hs = holes[f].map((c) => shift(rings[c]))
    const inside = interiorPoint([shell, ...hs])
    return { shell, holes: hs, area: (areas[s] + holes[f].reduce((t, c) => t + areas[c], 0)) / 2, inside }
  })
  const outEdges = edges.map(([u, v], e) => ({
    a: [pts[u][0] + ox, pts[u][1] + oy] as LPoint,
    b: [pts[v][0] + ox, pts[v][1] + oy] as LPoint,
    left: faceOfCycle[g.cycleOf[2 * e]],
    right: faceOfCycle[g.cycleOf[2 * e + 1]],
  }))
  return { faces, edges: outEdges }
}

/**
 * Dissolves the edges between faces of the same group: the result maps each
 * group to the faces (shell + holes) of its region. Faces in group null are
 * left out (outside).
 */
export function dissolve(arr: Arrangement, groupOf: (face: number) => number | null): Map<number, Face[]> {
  const g = (f: number): number | null => (f < 0 ? null : groupOf(f))
  const kept = arr.edges.filter((e) => g(e.left) !== g(e.right))
  const all = kept.flatMap((e) => [e.a, e.b])
  const result = new Map<number, Face[]>()
  if (!all.length) return result
  const ox = Math.min(...all.map((p) => p[0]))
  const oy = Math.min(...all.map((p) => p[1]))
  const rel = (p: LPoint): LPoint => [p[0] - ox, p[1] - oy]
  const merged = facesOf(kept.map((e) => [rel(e.a), rel(e.b)]), ox, oy)
  for (const face of merged.faces) {
    const [x, y] = face.inside
    const from = arr.faces.findIndex((f) => insideRings(x, y, [f.shell, ...f.holes]))
    const group = from < 0 ? null : g(from)
    if (group === null) continue
    let list = result.get(group)
    if (!list) result.set(group, (list = []))
    list.push(face)
  }
  return result
}
