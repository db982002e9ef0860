/**
 * Distance from a point outside every cell to the district, taken as the union
 * of the cells: the distance to the nearest edge that lies on the union's
 * boundary. An edge that two rings share (the same two vertices, either
 * direction) has cells on both sides — unless cells overlap, which the grid
 * import refuses — so it is interior and dropped, and a point far out does not
 * look at the thousands of edges between neighbouring cells. An interior edge
 * that survives (neighbours that do not share vertices) only costs time: it is
 * never nearer than the boundary.
 *
 * Lookups go through tiles: every point of a tile with centre c and
 * half-diagonal h is within d + h of the boundary (d: c's distance), so its
 * nearest edge lies within d + h of the tile's rectangle; those edges are the
 * tile's candidates, sorted by their distance to the rectangle so a lookup
 * stops as soon as the rest cannot be nearer. Tiles are filled on first use or
 * up front with `prepareTiles`; points beyond the tiles use a two-pass R-tree
 * search.
 */
import Flatbush from 'flatbush'
import type { CellStore } from './cell-store.ts'
import {
  MIN_METRES_PER_DEG_LAT,
  distanceM,
  metresPerDegLat,
  metresPerDegLon,
  minMetresPerDegLon,
  nearestT,
  segmentDist2,
} from './geodesy.ts'

/** Relative slack on search radii, for the plane approximation's own error. */
const SLACK = 2e-3
/** Tiles × boundary edges up to which tiles are filled by a plain sweep over the edges. */
const BRUTE_LIMIT = 4_000_000

const f64 = new Float64Array(1)
const u32 = new Uint32Array(f64.buffer)
/** 32-bit hash of a double's bits (+0 and −0 together). */
function hashDouble(h: number, x: number): number {
  f64[0] = x + 0
  h = Math.imul(h ^ u32[0], 0x85ebca6b)
  h = Math.imul(h ^ u32[1], 0xc2b2ae35)
  return h ^ (h >>> 15)
}

export interface TileFrame {
  x0: number
  y0: number
  /** Degrees per tile. */
  w: number
  h: number
  nx: number
  ny: number
}

/**
 * Filled tiles live one after another in one Float64Array, so a lookup touches
 * a handful of adjacent cache lines rather than a tile object and two typed
 * arrays scattered over the heap (with random points, cache misses are most of
 * the cost). A tile at offset o:
 *
 *   o + 0 … 5   cx, cy (degrees), kx, ky (metres per degree at cy) and their
 *               change per degree of latitude dkx, dky (for a mid-latitude
 *               measure without trigonometry)
 *   o + 6       number of groups G
 *   o + 7 …     G groups of GROUP_STRIDE: least squared distance (m²) from the
 *               group's edges to the tile's rectangle (ascending), the group's
 *               box minX, minY, maxX, maxY in metres from the centre, and the
 *               offset (from o) and count of its edges
 *   then        the edges, EDGE_STRIDE each: start ax, ay and direction dx, dy
 *               in metres from the centre, 1 / (dx² + dy²) (0 for a point), and
 *               the boundary-edge number
 *
 * A group is up to GROUP edges that follow each other along a ring, so its box
 * is small: a lookup stops at the first group that cannot beat the best
 * distance so far and skips a group whose box is already too far.
 */
const HEADER = 7
const GROUP = 8
const GROUP_STRIDE = 7
const EDGE_STRIDE = 6

export class OutsideDistance {
  /** ax, ay, bx, by per boundary edge. */
  readonly edges: Float64Array
  readonly count: number
  private readonly tree: Flatbush
  private readonly frame: TileFrame
  /** Offset of each tile in `pack`, or −1 while it is not filled. */
  private readonly tileAt: Int32Array
  private pack = new Float64Array(4096)
  private packed = 0
  private readonly invW: number
  private readonly invH: number

  constructor(store: CellStore, frame: TileFrame) {
    this.frame = frame
    this.invW = 1 / frame.w
    this.invH = 1 / frame.h
    this.tileAt = new Int32Array(frame.nx * frame.ny).fill(-1)
    this.edges = boundaryEdges(store)
    this.count = this.edges.length / 4
    this.tree = new Flatbush(Math.max(1, this.count))
    const e = this.edges
    for (let i = 0; i < this.count; i++) {
      const ax = e[4 * i]
      const ay = e[4 * i + 1]
      const bx = e[4 * i + 2]
      const by = e[4 * i + 3]
      this.tree.add(Math.min(ax, bx), Math.min(ay, by), Math.max(ax, bx), Math.max(ay, by))
    }
    if (this.count === 0) this.tree.add(0, 0, 0, 0) // unreachable for valid cells; keeps Flatbush happy
    this.tree.finish()
  }

  /** Metres from (px, py) to the nearest boundary edge. */
  distance(px: number, py: number): number {
    if (this.count === 0) return Infinity
    const f = this.frame
    const tx = Math.floor((px - f.x0) * this.invW)
    const ty = Math.floor((py - f.y0) * this.invH)
    if (tx < 0 || ty < 0 || tx >= f.nx || ty >= f.ny) return this.searchDistance(px, py)
    const t = ty * f.nx + tx
    let o = this.tileAt[t]
    if (o < 0) o = this.fillTile(t)
    const p = this.pack
    const tcx = p[o]
    const tcy = p[o + 1]
    const x = (px - tcx) * p[o + 2]
    const y = (py - tcy) * p[o + 3]
    let best = Infinity
    let bestK = -1
    let bestS = 0
    for (let g = o + HEADER, ng = g + p[o + 6] * GROUP_STRIDE; g < ng; g += GROUP_STRIDE) {
      if (p[g] > best) break
      const bx = Math.max(p[g + 1] - x, x - p[g + 3], 0)
      const by = Math.max(p[g + 2] - y, y - p[g + 4], 0)
      if (bx * bx + by * by > best) continue
      for (let q = o + p[g + 5], end = q + p[g + 6] * EDGE_STRIDE; q < end; q += EDGE_STRIDE) {
        const ux = p[q] - x
        const uy = p[q + 1] - y
        const dx = p[q + 2]
        const dy = p[q + 3]
        let s = -(ux * dx + uy * dy) * p[q + 4]
        s = s <= 0 ? 0 : s >= 1 ? 1 : s
        const cx = ux + s * dx
        const cy = uy + s * dy
        const d2 = cx * cx + cy * cy
        if (d2 < best) {
          best = d2
          bestK = p[q + 5]
          bestS = s
        }
      }
    }
    if (bestK < 0) return this.searchDistance(px, py)
    // The nearest point, measured with the scales at the mid-latitude (linearised
    // around the tile's centre: the error is second order in the latitude span).
    const e = this.edges
    const i = 4 * bestK
    const qx = e[i] + bestS * (e[i + 2] - e[i])
    const qy = e[i + 1] + bestS * (e[i + 3] - e[i + 1])
    const dm = (py + qy) / 2 - tcy
    const mx = (qx - px) * (p[o + 2] + p[o + 4] * dm)
    const my = (qy - py) * (p[o + 3] + p[o + 5] * dm)
    return Math.sqrt(mx * mx + my * my)
  }

  /** Number of tiles whose candidates are computed. */
  preparedTiles(): number {
    let n = 0
    for (const o of this.tileAt) if (o >= 0) n++
    return n
  }

  memoryBytes(): number {
    return this.edges.byteLength + this.tree.data.byteLength + this.tileAt.byteLength + this.pack.byteLength
  }

  /** Metres from p to boundary edge `i`: nearest point found in the plane at py, distance at mid-latitude. */
  private measure(i: number, px: number, py: number): number {
    const e = this.edges
    const k = 4 * i
    const t = nearestT(px, py, e[k], e[k + 1], e[k + 2], e[k + 3], metresPerDegLon(py), metresPerDegLat(py))
    return distanceM(px, py, e[k] + t * (e[k + 2] - e[k]), e[k + 1] + t * (e[k + 3] - e[k + 1]))
  }

  /** Distance to the nearest of the listed edges. */
  private nearestOf(list: ArrayLike<number>, px: number, py: number): number {
    const e = this.edges
    const kx = metresPerDegLon(py)
    const ky = metresPerDegLat(py)
    let best = Infinity
    let bestEdge = -1
    for (let k = 0; k < list.length; k++) {
      const i = list[k]
      const d2 = segmentDist2(px, py, e[4 * i], e[4 * i + 1], e[4 * i + 2], e[4 * i + 3], kx, ky)
      if (d2 < best) {
        best = d2
        bestEdge = i
      }
    }
    return bestEdge < 0 ? Infinity : this.measure(bestEdge, px, py)
  }

  /** Two passes over the R-tree: nearest box, then every edge that could beat its distance. */
  private searchDistance(px: number, py: number): number {
    const first = this.tree.neighbors(px, py, 1)
    if (first.length === 0) return Infinity
    const d1 = this.nearestOf(first, px, py)
    const dLat = (d1 / MIN_METRES_PER_DEG_LAT) * (1 + SLACK)
    const dLon = (d1 / minMetresPerDegLon(py - dLat, py + dLat)) * (1 + SLACK)
    return Math.min(d1, this.nearestOf(this.tree.search(px - dLon, py - dLat, px + dLon, py + dLat), px, py))
  }

  /**
   * Fills the listed tiles. While tiles × edges is small, one sweep over all
   * boundary edges per tile beats an R-tree query per tile (and needs no JIT
   * warm-up to be fast); past BRUTE_LIMIT the R-tree does it.
   */
  prepareTiles(tiles: readonly number[]): void {
    const todo = tiles.filter((t) => this.tileAt[t] < 0)
    if (todo.length * this.count > BRUTE_LIMIT) {
      for (const t of todo) this.fillTile(t)
      return
    }
    const e = this.edges
    for (const t of todo) {
      const g = this.tileGeometry(t)
      const { cx, cy, kx, ky, hw, hh } = g
      let best = Infinity
      for (let k = 0; k < e.length; k += 4) {
        const d2 = segmentDist2(cx, cy, e[k], e[k + 1], e[k + 2], e[k + 3], kx, ky)
        if (d2 < best) best = d2
      }
      const r = this.reach(Math.sqrt(best), hw, hh)
      const found: { id: number; lower2: number }[] = []
      for (let k = 0; k < e.length; k += 4) {
        const ax = (e[k] - cx) * kx
        const ay = (e[k + 1] - cy) * ky
        const bx = (e[k + 2] - cx) * kx
        const by = (e[k + 3] - cy) * ky
        // The edge's box against the grown rectangle first: most edges are far.
        if (Math.min(ax, bx) > hw + r || Math.max(ax, bx) < -hw - r || Math.min(ay, by) > hh + r || Math.max(ay, by) < -hh - r) continue
        const lower2 = segmentRectDist2(ax, ay, bx, by, hw, hh)
        if (lower2 <= r * r) found.push({ id: k / 4, lower2 })
      }
      this.makeTile(t, g, found)
    }
  }

  /** Centre, scales at the centre and half-sizes in metres (upper bounds over the tile). */
  private tileGeometry(t: number): { cx: number; cy: number; kx: number; ky: number; hw: number; hh: number } {
    const f = this.frame
    const tx = t % f.nx
    const ty = (t - tx) / f.nx
    const cx = f.x0 + (tx + 0.5) * f.w
    const cy = f.y0 + (ty + 0.5) * f.h
    const yLow = Math.min(Math.abs(cy - f.h / 2), Math.abs(cy + f.h / 2))
    const yHigh = Math.max(Math.abs(cy - f.h / 2), Math.abs(cy + f.h / 2))
    return {
      cx,
      cy,
      kx: metresPerDegLon(cy),
      ky: metresPerDegLat(cy),
      hw: (f.w / 2) * metresPerDegLon(Math.min(yLow, 89.999)),
      hh: (f.h / 2) * metresPerDegLat(Math.min(yHigh, 90)),
    }
  }

  /**
   * Every point of a tile is within d + (half-diagonal) of the boundary, d being
   * the centre's distance, so its nearest edge lies within that of the tile's rectangle.
   */
  private reach(d: number, hw: number, hh: number): number {
    return (d + Math.sqrt(hw * hw + hh * hh)) * (1 + SLACK) + 1
  }

  /** Fills tile t from an R-tree search; returns its offset in `pack`. */
  private fillTile(t: number): number {
    const g = this.tileGeometry(t)
    const { cx, cy, kx, ky, hw, hh } = g
    const r = this.reach(this.searchDistance(cx, cy), hw, hh)
    const dLat = ((r + hh) / MIN_METRES_PER_DEG_LAT) * (1 + SLACK)
    const dLon = ((r + hw) / minMetresPerDegLon(cy - dLat, cy + dLat)) * (1 + SLACK)
    const e = this.edges
    const found: { id: number; lower2: number }[] = []
    for (const id of this.tree.search(cx - dLon, cy - dLat, cx + dLon, cy + dLat)) {
      const k = 4 * id
      const lower2 = segmentRectDist2((e[k] - cx) * kx, (e[k + 1] - cy) * ky, (e[k + 2] - cx) * kx, (e[k + 3] - cy) * ky, hw, hh)
      if (lower2 <= r * r) found.push({ id, lower2 })
    }
    return this.makeTile(t, g, found)
  }

  /** Appends tile t (its candidate edges `found`) to `pack`; returns its offset. */
  private makeTile(t: number, g: { cx: number; cy: number; kx: number; ky: number }, found: { id: number; lower2: number }[]): number {
    const { cx, cy, kx, ky } = g
    const e = this.edges
    // Edge numbers follow the rings, so sorting by number puts ring neighbours together.
    found.sort((a, b) => a.id - b.id)
    const chunks: { lower2: number; from: number; count: number; x0: number; y0: number; x1: number; y1: number }[] = []
    for (let j = 0; j < found.length; ) {
      const chunk = { lower2: Infinity, from: j, count: 0, x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity }
      do {
        const k = 4 * found[j].id
        const ax = (e[k] - cx) * kx
        const ay = (e[k + 1] - cy) * ky
        const bx = (e[k + 2] - cx) * kx
        const by = (e[k + 3] - cy) * ky
        chunk.x0 = Math.min(chunk.x0, ax, bx)
        chunk.y0 = Math.min(chunk.y0, ay, by)
        chunk.x1 = Math.max(chunk.x1, ax, bx)
        chunk.y1 = Math.max(chunk.y1, ay, by)
        chunk.lower2 = Math.min(chunk.lower2, found[j].lower2)
        j++
      } while (j < found.length && j - chunk.from < GROUP && found[j].id === found[j - 1].id + 1)
      chunk.count = j - chunk.from
      chunks.push(chunk)
    }
    chunks.sort((a, b) => a.lower2 - b.lower2)
    const size = HEADER + chunks.length * GROUP_STRIDE + found.length * EDGE_STRIDE
    if (this.packed + size > this.pack.length) {
      const grown = new Float64Array(Math.max(2 * this.pack.length, this.packed + size))
      grown.set(this.pack.subarray(0, this.packed))
      this.pack = grown
    }
    const p = this.pack
    const o = this.packed
    p[o] = cx
    p[o + 1] = cy
    p[o + 2] = kx
    p[o + 3] = ky
    p[o + 4] = (metresPerDegLon(cy + 0.01) - metresPerDegLon(cy - 0.01)) / 0.02
    p[o + 5] = (metresPerDegLat(cy + 0.01) - metresPerDegLat(cy - 0.01)) / 0.02
    p[o + 6] = chunks.length
    let q = HEADER + chunks.length * GROUP_STRIDE // edge offset, from o
    for (let n = 0; n < chunks.length; n++) {
      const c = chunks[n]
      const gi = o + HEADER + n * GROUP_STRIDE
      // Shrunk by the slack, so rounding never prunes the true nearest edge.
      p[gi] = c.lower2 * (1 - SLACK)
      p[gi + 1] = c.x0
      p[gi + 2] = c.y0
      p[gi + 3] = c.x1
      p[gi + 4] = c.y1
      p[gi + 5] = q
      p[gi + 6] = c.count
      for (let j = c.from; j < c.from + c.count; j++, q += EDGE_STRIDE) {
        const id = found[j].id
        const ax = (e[4 * id] - cx) * kx
        const ay = (e[4 * id + 1] - cy) * ky
        const dx = (e[4 * id + 2] - cx) * kx - ax
        const dy = (e[4 * id + 3] - cy) * ky - ay
        p[o + q] = ax
        p[o + q + 1] = ay
        p[o + q + 2] = dx
        p[o + q + 3] = dy
        p[o + q + 4] = dx === 0 && dy === 0 ? 0 : 1 / (dx * dx + dy * dy)
        p[o + q + 5] = id
      }
    }
    this.packed += size
    this.tileAt[t] = o
    return o
  }
}

/** Squared distance from segment a→b to the rectangle [−hw, hw] × [−hh, hh] (0 when they meet). */
export function segmentRectDist2(ax: number, ay: number, bx: number, by: number, hw: number, hh: number): number {
  // Liang–Barsky: clip the segment's parameter range [0, 1] against the two slabs.
  const dx = bx - ax
  const dy = by - ay
  let t0 = 0
  let t1 = 1
  let meets = true
  const clip = (p: number, q: number): void => {
    if (!meets) return
    if (p === 0) {
      if (q < 0) meets = false
      return
    }
    const r = q / p
    if (p < 0) {
      if (r > t1) meets = false
      else if (r > t0) t0 = r
    } else if (r < t0) meets = false
    else if (r < t1) t1 = r
  }
  clip(-dx, ax + hw)
  clip(dx, hw - ax)
  clip(-dy, ay + hh)
  clip(dy, hh - ay)
  if (meets) return 0
  // Apart: the nearest pair involves an endpoint of the segment or a corner of the rectangle.
  const ex = Math.max(Math.abs(ax) - hw, 0)
  const ey = Math.max(Math.abs(ay) - hh, 0)
  const fx = Math.max(Math.abs(bx) - hw, 0)
  const fy = Math.max(Math.abs(by) - hh, 0)
  let best = Math.min(ex * ex + ey * ey, fx * fx + fy * fy)
  best = Math.min(best, segmentDist2(-hw, -hh, ax, ay, bx, by, 1, 1), segmentDist2(hw, -hh, ax, ay, bx, by, 1, 1))
  return Math.min(best, segmentDist2(hw, hh, ax, ay, bx, by, 1, 1), segmentDist2(-hw, hh, ax, ay, bx, by, 1, 1))
}

/** Edges that no other ring shares, as ax, ay, bx, by quadruples; zero-length edges dropped. */
export function boundaryEdges(store: CellStore): Float64Array {
  const { blob, ringStart, ringVerts } = store
  const nRings = ringStart.length
  let total = 0
  for (let r = 0; r < nRings; r++) total += ringVerts[r] - 1
  let size = 1
  while (size < total * 2) size <<= 1
  const mask = size - 1
  const slot = new Int32Array(size).fill(-1)
  const count = new Int32Array(total)
  /** Blob offset of each edge's first x; the edge runs to the next vertex. */
  const edgeAt = new Int32Array(total)
  let n = 0
  for (let r = 0; r < nRings; r++) {
    for (let i = ringStart[r], e = i + 2 * (ringVerts[r] - 1); i < e; i += 2) {
      let ax = blob[i]
      let ay = blob[i + 1]
      let bx = blob[i + 2]
      let by = blob[i + 3]
      if (ax === bx && ay === by) continue
      if (bx < ax || (bx === ax && by < ay)) {
        ;[ax, bx] = [bx, ax]
        ;[ay, by] = [by, ay]
      }
      let h = hashDouble(hashDouble(hashDouble(hashDouble(0x9e3779b9, ax), ay), bx), by) & mask
      for (;;) {
        const s = slot[h]
        if (s < 0) {
          slot[h] = n
          edgeAt[n] = i
          count[n] = 1
          n++
          break
        }
        const j = edgeAt[s]
        const sx = blob[j]
        const sy = blob[j + 1]
        const tx = blob[j + 2]
        const ty = blob[j + 3]
        if ((sx === ax && sy === ay && tx === bx && ty === by) || (sx === bx && sy === by && tx === ax && ty === ay)) {
          count[s]++
          break
        }
        h = (h + 1) & mask
      }
    }
  }
  let m = 0
  for (let k = 0; k < n; k++) if (count[k] === 1) m++
  const out = new Float64Array(m * 4)
  let o = 0
  for (let k = 0; k < n; k++) {
    if (count[k] !== 1) continue
    const i = edgeAt[k]
    out[o++] = blob[i]
    out[o++] = blob[i + 1]
    out[o++] = blob[i + 2]
    out[o++] = blob[i + 3]
  }
  return out
}
