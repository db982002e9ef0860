/**
 * A bucket grid over items in the facility plane, with an exact k-nearest
 * search by rings of buckets. Components crowd along streets at a few per
 * hundred metres, so a grid sized to about two items per bucket answers a k
 * nearest by reading one to three rings: a few dozen distances, no tree, no
 * heap. (A packed R-tree with a best-first queue, tried first, was 3–8 times
 * slower here.)
 *
 * Points sit in one bucket, with their plane coordinates copied next to them
 * in bucket order, so a scan reads contiguous memory. Lines and polygons sit
 * in every bucket their box touches; a query visits each once (a stamp per item).
 */
import { ptFlat, ptPt, type FlatGeometry, PLANE_KX, PLANE_KY } from './facility-geometry.ts'

/** Where the items are: plane coordinates of points (NaN for shapes), the shapes, and their plane boxes. */
export interface GridSource {
  px: Float64Array
  py: Float64Array
  flat: Map<number, FlatGeometry>
  /** minX, minY, maxX, maxY per item, in the plane. */
  boxes: Float64Array
}

/** The running k best of a search, sorted by (distance, position); shared across grids. */
export class TopK {
  k = 0
  n = 0
  d = new Float64Array(16)
  pos = new Int32Array(16)
  reset(k: number): void {
    this.k = k
    this.n = 0
    if (this.d.length < k) { this.d = new Float64Array(k); this.pos = new Int32Array(k) }
  }
  /** The distance an item must beat (or tie with a smaller position) to get in. */
  bound(): number { return this.n < this.k ? Infinity : this.d[this.k - 1] }
  offer(dist: number, p: number): void {
    const d = this.d
    const pos = this.pos
    let i: number
    if (this.n < this.k) i = this.n++
    else {
      i = this.k - 1
      if (dist > d[i] || (dist === d[i] && p > pos[i])) return
    }
    while (i > 0 && (d[i - 1] > dist || (d[i - 1] === dist && pos[i - 1] > p))) {
      d[i] = d[i - 1]
      pos[i] = pos[i - 1]
      i--
    }
    d[i] = dist
    pos[i] = p
  }
}

export class FacilityGrid {
  private readonly x0: number
  private readonly y0: number
  private readonly size: number
  private readonly inv: number
  private readonly nx: number
  private readonly ny: number
  private readonly start: Int32Array
  /** Item positions, bucket by bucket. */
  private readonly items: Int32Array
  /** Plane coordinates of the entry (NaN for a line or polygon). */
  private readonly xs: Float64Array
  private readonly ys: Float64Array
  readonly count: number

  /**
   * @param members positions of the items (ascending)
   * @param perBucket the average number of items per bucket aimed at
   */
  constructor(private readonly src: GridSource, members: Int32Array, perBucket = 2) {
    const b = src.boxes
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity
    for (const p of members) {
      if (b[4 * p] < minX) minX = b[4 * p]
      if (b[4 * p + 1] < minY) minY = b[4 * p + 1]
      if (b[4 * p + 2] > maxX) maxX = b[4 * p + 2]
      if (b[4 * p + 3] > maxY) maxY = b[4 * p + 3]
    }
    this.count = members.length
    if (!members.length) { minX = minY = 0; maxX = maxY = 1 }
    const w = Math.max(maxX - minX, 1)
    const h = Math.max(maxY - minY, 1)
    // buckets of equal size, about `perBucket` items each on average, at most 4 million of them
    const cells = Math.min(4_000_000, Math.max(1, members.length / perBucket))
    this.size = Math.max(Math.sqrt((w * h) / cells), 1)
    this.inv = 1 / this.size
    this.x0 = minX
    this.y0 = minY
    this.nx = Math.floor(w * this.inv) + 1
    this.ny = Math.floor(h * this.inv) + 1
    const nb = this.nx * this.ny
    const counts = new Int32Array(nb + 1)
    const span = (p: number, f: (bucket: number) => void): void => {
      const i0 = this.col(b[4 * p]), i1 = this.col(b[4 * p + 2])
      const j0 = this.row(b[4 * p + 1]), j1 = this.row(b[4 * p + 3])
      for (let j = j0; j <= j1; j++) for (let i = i0; i <= i1; i++) f(j * this.nx + i)
    }
    for (const p of members) span(p, (k) => { counts[k + 1]++ })
    for (let k = 0; k < nb; k++) counts[k + 1] += counts[k]
    this.start = counts
    const total = counts[nb]
    this.items = new Int32Array(total)
    this.xs = new Float64Array(total)
    this.ys = new Float64Array(total)
    const fill = counts.slice(0, nb)
    for (const p of members) {
      span(p, (k) => {
        const e = fill[k]++
        this.items[e] = p
        this.xs[e] = src.px[p]
        this.ys[e] = src.py[p]
      })
    }
  }

  private col(x: number): number { return Math.min(this.nx - 1, Math.max(0, Math.floor((x - this.x0) * this.inv))) }
  private row(y: number): number { return Math.min(this.ny - 1, Math.max(0, Math.floor((y - this.y0) * this.inv))) }

  /**
   * Offers every item nearer than what `top` still needs (within `maxD`) to `top`,
   * ring by ring around (x, y), until no unvisited bucket can hold a better one.
   * `ok` filters positions; `stamp`/`qid` mark lines and polygons already measured.
   */
  nearest(x: number, y: number, top: TopK, maxD: number, ok: ((pos: number) => boolean) | null, stamp: Int32Array, qid: number): void {
    if (!this.count) return
    const { nx, ny, start, items, xs, ys, x0, y0, size } = this
    const cx = this.col(x)
    const cy = this.row(y)
    // lower bounds are measured from the point clamped into the grid: never farther than the point itself
    const qx = Math.min(Math.max(x, x0), x0 + nx * size)
    const qy = Math.min(Math.max(y, y0), y0 + ny * size)
    const maxR = Math.max(cx, nx - 1 - cx, cy, ny - 1 - cy)
    for (let r = 0; r <= maxR; r++) {
      if (r > 0) {
        // nearest point of any bucket not yet visited: just outside the square of rings 0 … r−1
        let lb = Infinity
        if (cx - r >= 0) lb = Math.min(lb, qx - (x0 + (cx - r + 1) * size))
        if (cx + r < nx) lb = Math.min(lb, x0 + (cx + r) * size - qx)
        if (cy - r >= 0) lb = Math.min(lb, qy - (y0 + (cy - r + 1) * size))
        if (cy + r < ny) lb = Math.min(lb, y0 + (cy + r) * size - qy)
        if (lb > maxD || lb > top.bound()) return
      }
      const jLo = cy - r, jHi = cy + r, iLo = cx - r, iHi = cx + r
      for (let j = Math.max(0, jLo); j <= Math.min(ny - 1, jHi); j++) {
        const edgeRow = j === jLo || j === jHi
        // inside rows of the ring only have their two end buckets
        const step = edgeRow || r === 0 ? 1 : iHi - iLo
        for (let i = iLo; i <= iHi; i += step) {
          if (i < 0 || i >= nx) continue
          const k = j * nx + i
          if (start[k] === start[k + 1]) continue
          // skip a bucket, then an item, whose box is farther than what can still get in
          const bound = Math.min(maxD, top.bound())
          if (boxDist(x, y, x0 + i * size, y0 + j * size, x0 + (i + 1) * size, y0 + (j + 1) * size) > bound) continue
          for (let e = start[k], end = start[k + 1]; e < end; e++) {
            const p = items[e]
            const ex = xs[e]
            let d: number
            if (ex === ex) d = ptPt(x, y, ex, ys[e])
            else {
              if (stamp[p] === qid) continue
              const bx = this.src.boxes
              if (boxDist(x, y, bx[4 * p], bx[4 * p + 1], bx[4 * p + 2], bx[4 * p + 3]) > Math.min(maxD, top.bound())) continue
              stamp[p] = qid
              d = ptFlat(x, y, this.src.flat.get(p)!, PLANE_KX, PLANE_KY)
            }
            if (d <= maxD && (ok === null || ok(p))) top.offer(d, p)
          }
        }
      }
    }
  }

  /** Calls `visit` for every item whose bucket meets the plane box (lines and polygons once per query). */
  search(x0: number, y0: number, x1: number, y1: number, visit: (pos: number, px: number, py: number) => void, stamp: Int32Array, qid: number): void {
    if (!this.count || x1 < this.x0 || y1 < this.y0 || x0 > this.x0 + this.nx * this.size || y0 > this.y0 + this.ny * this.size) return
    const i0 = this.col(x0), i1 = this.col(x1), j0 = this.row(y0), j1 = this.row(y1)
    const { start, items, xs, ys, nx } = this
    for (let j = j0; j <= j1; j++) {
      for (let i = i0; i <= i1; i++) {
        const k = j * nx + i
        for (let e = start[k], end = start[k + 1]; e < end; e++) {
          const p = items[e]
          const ex = xs[e]
          if (ex !== ex) {
            if (stamp[p] === qid) continue
            stamp[p] = qid
          }
          visit(p, ex, ys[e])
        }
      }
    }
  }
}

/** Distance from a point to a box (0 inside). */
function boxDist(x: number, y: number, x0: number, y0: number, x1: number, y1: number): number {
  const dx = x < x0 ? x0 - x : x > x1 ? x - x1 : 0
  const dy = y < y0 ? y0 - y : y > y1 ? y - y1 : 0
  return Math.sqrt(dx * dx + dy * dy)
}
