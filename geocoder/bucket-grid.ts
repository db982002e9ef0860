/**
 * A uniform grid of buckets over the cells, each bucket classified once at
 * build time so most lookups need no geometry at all:
 *
 * - SOLE (value ≥ 0): no cell edge comes near the bucket and cell `value` covers
 *   it: every point in it is answered directly.
 * - MIXED (value ≤ −3): edges cross it; a short list of candidate cells, in code
 *   order, gets the exact test, the first that covers the point wins; if none
 *   does, the list's default cell (one that covers the whole bucket) or, failing
 *   that, snapping.
 * - NEAR (−2): no cell covers it but some edge is within the snapping tolerance.
 * - FAR (−1): no cell within the tolerance of any point of the bucket.
 *
 * Exactness does not rest on the bucket boundaries: a bucket is "edge-free"
 * only if no edge comes within MARGIN degrees of its nominal rectangle, far
 * more than the rounding of the point → bucket arithmetic, and candidate lists
 * are built from the same monotone point → bucket function that lookups use.
 */
import type { CellStore } from './cell-store.ts'
import { cellStatus, OUTSIDE_RING } from './predicates.ts'
import { MIN_METRES_PER_DEG_LAT, metresPerDegLat, metresPerDegLon, minMetresPerDegLon } from './geodesy.ts'

export const FAR = -1
export const NEAR = -2

/** Degrees (≈ 0.1 mm) by which bucket rectangles are grown when testing edges against them. */
const MARGIN = 1e-9
/** Upper bound on buckets, so a huge grid cannot ask for gigabytes. */
const MAX_BUCKETS = 1 << 24

export interface BucketGrid {
  readonly x0: number
  readonly y0: number
  readonly x1: number
  readonly y1: number
  readonly nx: number
  readonly ny: number
  /** Buckets per degree, along x and y. */
  readonly invW: number
  readonly invH: number
  /** Classification per bucket, row-major from (x0, y0). */
  readonly kind: Int32Array
  /**
   * Mixed buckets' lists, a bucket of kind k ≤ −3 starting at L = −3 − k:
   * lists[L] = candidate count, lists[L + 1] = the cell covering the whole
   * bucket or −1, then per candidate (ascending codes) its ordinal and its
   * offset in the store's blob — so a lookup reads one list and one blob entry.
   */
  readonly lists: Int32Array
  /** Number of mixed buckets. */
  readonly mixed: number
  /** Snapping tolerance expressed in degrees (conservative: never smaller than the metres). */
  readonly tolLon: number
  readonly tolLat: number
}

/** A growable Int32 list (typed, so a million entries stay compact). */
class IntList {
  data = new Int32Array(1024)
  length = 0
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2)
      next.set(this.data)
      this.data = next
    }
    this.data[this.length++] = v
  }
}

/** Degrees spanned by `toleranceM` metres anywhere in [minY, maxY], rounded up. */
export function toleranceDegrees(toleranceM: number, minY: number, maxY: number): { tolLon: number; tolLat: number } {
  const tolLat = (toleranceM / MIN_METRES_PER_DEG_LAT) * (1 + 1e-9)
  const tolLon = (toleranceM / minMetresPerDegLon(minY - tolLat, maxY + tolLat)) * (1 + 1e-9)
  return { tolLon, tolLat }
}

/** Builds the bucket grid; `bucketsPerCell` trades memory and build time for fewer exact tests. */
export function buildBucketGrid(store: CellStore, toleranceM: number, bucketsPerCell: number, exact: boolean): BucketGrid {
  const { tolLon, tolLat } = toleranceDegrees(toleranceM, store.minY, store.maxY)
  // A margin beyond the tolerance so that points just out of reach still land in a FAR bucket.
  const x0 = store.minX - 2 * tolLon - MARGIN
  const y0 = store.minY - 2 * tolLat - MARGIN
  const x1 = store.maxX + 2 * tolLon + MARGIN
  const y1 = store.maxY + 2 * tolLat + MARGIN
  // Square buckets in metres: aspect from the scales at the grid's middle latitude.
  const midLat = (y0 + y1) / 2
  const wM = (x1 - x0) * metresPerDegLon(midLat)
  const hM = (y1 - y0) * metresPerDegLat(midLat)
  const target = Math.min(MAX_BUCKETS, Math.max(64, Math.round(store.n * bucketsPerCell)))
  const nx = Math.max(1, Math.min(target, Math.round(Math.sqrt((target * wM) / hM))))
  const ny = Math.max(1, Math.min(Math.floor(MAX_BUCKETS / nx), Math.round(target / nx)))
  const invW = nx / (x1 - x0)
  const invH = ny / (y1 - y0)
  const bw = (x1 - x0) / nx
  const bh = (y1 - y0) / ny
  const nb = nx * ny
  // The per-cell work lives in small methods: V8 optimises a small hot function
  // after a few hundred calls, but a loop deep in one big function only late, so
  // this keeps the first (cold) build of a process close to the warm ones.
  const r = new Rasteriser(store, x0, y0, nx, ny, invW, invH, bw, bh, exact)
  for (let c = 0; c < store.n; c++) {
    r.rasteriseCell(c)
    r.fillCell(c)
  }
  const { coverMin, pairBucket, pairCell } = r

  // 3. Pairs → per-bucket lists (counting sort keeps each list in ascending cell order).
  const edgeStart = new Uint32Array(nb + 1)
  for (let k = 0; k < pairBucket.length; k++) edgeStart[pairBucket.data[k] + 1]++
  for (let b = 0; b < nb; b++) edgeStart[b + 1] += edgeStart[b]
  const edgeCells = new Int32Array(pairBucket.length)
  const fill = edgeStart.slice(0, nb)
  for (let k = 0; k < pairBucket.length; k++) edgeCells[fill[pairBucket.data[k]]++] = pairCell.data[k]

  // 4. NEAR: any edge within the tolerance, i.e. an edge bucket within rx, ry buckets
  //    (one more than the tolerance spans, for the point's own position in its bucket).
  const rx = Math.ceil(tolLon / bw) + 1
  const ry = Math.ceil(tolLat / bh) + 1
  const near = dilate(edgeStart, nx, ny, rx, ry)

  // 5. Classify.
  const kind = new Int32Array(nb)
  const lists = new IntList()
  let mixed = 0
  for (let b = 0; b < nb; b++) {
    const e0 = edgeStart[b]
    const e1 = edgeStart[b + 1]
    const cover = coverMin[b]
    if (e0 === e1) {
      kind[b] = cover >= 0 ? cover : near[b] ? NEAR : FAR
      continue
    }
    // Only edge cells with a smaller code than the whole-bucket cover can beat it.
    let k = e0
    while (k < e1 && (cover < 0 || edgeCells[k] < cover)) k++
    if (k === e0) {
      kind[b] = cover
      continue
    }
    kind[b] = -3 - lists.length
    mixed++
    lists.push(k - e0)
    lists.push(cover)
    for (let j = e0; j < k; j++) {
      lists.push(edgeCells[j])
      lists.push(store.blobStart[edgeCells[j]])
    }
  }
  return { x0, y0, x1, y1, nx, ny, invW, invH, kind, lists: lists.data.slice(0, lists.length), mixed, tolLon, tolLat }
}

/** Steps 1 and 2 of the build, one cell at a time (see buildBucketGrid). */
class Rasteriser {
  /** Last cell that marked each bucket with an edge. */
  readonly stamp: Int32Array
  /** Smallest cell covering each whole bucket, or −1. */
  readonly coverMin: Int32Array
  readonly pairBucket = new IntList()
  readonly pairCell = new IntList()

  constructor(
    private readonly store: CellStore,
    private readonly x0: number,
    private readonly y0: number,
    private readonly nx: number,
    private readonly ny: number,
    private readonly invW: number,
    private readonly invH: number,
    private readonly bw: number,
    private readonly bh: number,
    private readonly exact: boolean,
  ) {
    this.stamp = new Int32Array(nx * ny).fill(-1)
    this.coverMin = new Int32Array(nx * ny).fill(-1)
  }

  /** Column of x, with the lookups' arithmetic (monotone in x, so box ranges are conservative). */
  colOf(x: number): number {
    const c = Math.floor((x - this.x0) * this.invW)
    return c < 0 ? 0 : c >= this.nx ? this.nx - 1 : c
  }

  rowOf(y: number): number {
    const r = Math.floor((y - this.y0) * this.invH)
    return r < 0 ? 0 : r >= this.ny ? this.ny - 1 : r
  }

  /** 1. Records (bucket, c) for every bucket an edge of cell c comes within MARGIN of, once per bucket. */
  rasteriseCell(c: number): void {
    const { blob, ringStart, ringVerts, polyRingStart, cellPolyStart } = this.store
    for (let r = polyRingStart[cellPolyStart[c]], r1 = polyRingStart[cellPolyStart[c + 1]]; r < r1; r++) {
      for (let i = ringStart[r], e = i + 2 * (ringVerts[r] - 1); i < e; i += 2) {
        this.rasteriseEdge(c, blob[i], blob[i + 1], blob[i + 2], blob[i + 3])
      }
    }
  }

  private rasteriseEdge(c: number, ax: number, ay: number, bx: number, by: number): void {
    const { stamp, nx, y0, bh } = this
    const ylo = ay < by ? ay : by
    const yhi = ay < by ? by : ay
    const xlo = ax < bx ? ax : bx
    const xhi = ax < bx ? bx : ax
    for (let row = this.rowOf(ylo - MARGIN), rowEnd = this.rowOf(yhi + MARGIN); row <= rowEnd; row++) {
      // The edge's x-extent within this row's band, grown by MARGIN.
      let xa = xlo
      let xb = xhi
      if (ay !== by) {
        const bandLo = Math.max(ylo, y0 + row * bh - MARGIN)
        const bandHi = Math.min(yhi, y0 + (row + 1) * bh + MARGIN)
        let ta = (bandLo - ay) / (by - ay)
        let tb = (bandHi - ay) / (by - ay)
        ta = ta < 0 ? 0 : ta > 1 ? 1 : ta
        tb = tb < 0 ? 0 : tb > 1 ? 1 : tb
        const xta = ax + ta * (bx - ax)
        const xtb = ax + tb * (bx - ax)
        xa = Math.max(xlo, Math.min(xta, xtb))
        xb = Math.min(xhi, Math.max(xta, xtb))
      }
      const base = row * nx
      for (let col = this.colOf(xa - MARGIN), colEnd = this.colOf(xb + MARGIN); col <= colEnd; col++) {
        const b = base + col
        if (stamp[b] !== c) {
          stamp[b] = c
          this.pairBucket.push(b)
          this.pairCell.push(c)
        }
      }
    }
  }

  /**
   * 2. Buckets of cell c's box that none of its edges touch lie wholly inside or
   * wholly outside it. Along a row, a run of such buckets between two edge
   * buckets is all one or the other (nothing of the cell's boundary lies between
   * their centres), so one exact test per run decides; runs at either end of the
   * row are outside (a ray from them leaves the box crossing no edge). Cells come
   * in code order, so the first cover recorded is the smallest code.
   */
  fillCell(c: number): void {
    const { stamp, coverMin, nx } = this
    const bbox = this.store.bbox
    const cx0 = this.colOf(bbox[4 * c])
    const cx1 = this.colOf(bbox[4 * c + 2])
    const cy1 = this.rowOf(bbox[4 * c + 3])
    for (let row = this.rowOf(bbox[4 * c + 1]); row <= cy1; row++) {
      const base = row * nx
      let col = cx0
      while (col <= cx1 && stamp[base + col] !== c) col++ // leading outside run
      while (col <= cx1) {
        while (col <= cx1 && stamp[base + col] === c) col++ // edge buckets
        const start = col
        while (col <= cx1 && stamp[base + col] !== c) col++
        if (col > cx1) break // trailing outside run
        let open = false
        for (let k = start; k < col && !open; k++) open = coverMin[base + k] < 0
        if (!open) continue
        const xc = this.x0 + (start + 0.5) * this.bw
        const yc = this.y0 + (row + 0.5) * this.bh
        if (cellStatus(this.store, c, xc, yc, this.exact) !== OUTSIDE_RING) {
          for (let k = start; k < col; k++) if (coverMin[base + k] < 0) coverMin[base + k] = c
        }
      }
    }
  }
}

/** 1 where some bucket with edges lies within ±rx columns and ±ry rows. */
function dilate(edgeStart: Uint32Array, nx: number, ny: number, rx: number, ry: number): Uint8Array {
  const rowPass = new Uint8Array(nx * ny)
  for (let row = 0; row < ny; row++) {
    const base = row * nx
    // Running count of edge buckets in the window [col − rx, col + rx].
    let count = 0
    for (let col = 0; col < Math.min(nx, rx); col++) if (edgeStart[base + col + 1] > edgeStart[base + col]) count++
    for (let col = 0; col < nx; col++) {
      const add = col + rx
      if (add < nx && edgeStart[base + add + 1] > edgeStart[base + add]) count++
      const drop = col - rx - 1
      if (drop >= 0 && edgeStart[base + drop + 1] > edgeStart[base + drop]) count--
      rowPass[base + col] = count > 0 ? 1 : 0
    }
  }
  const out = new Uint8Array(nx * ny)
  for (let col = 0; col < nx; col++) {
    let count = 0
    for (let row = 0; row < Math.min(ny, ry); row++) count += rowPass[row * nx + col]
    for (let row = 0; row < ny; row++) {
      const add = row + ry
      if (add < ny) count += rowPass[add * nx + col]
      const drop = row - ry - 1
      if (drop >= 0) count -= rowPass[drop * nx + col]
      out[row * nx + col] = count > 0 ? 1 : 0
    }
  }
  return out
}

/** Bucket of a point already known to be inside the grid's bounds (same arithmetic as the build). */
export function bucketOf(g: BucketGrid, x: number, y: number): number {
  let c = Math.floor((x - g.x0) * g.invW)
  let r = Math.floor((y - g.y0) * g.invH)
  if (c >= g.nx) c = g.nx - 1
  if (r >= g.ny) r = g.ny - 1
  if (c < 0) c = 0
  if (r < 0) r = 0
  return r * g.nx + c
}
