/**
 * The in-memory CellIndex: a bucket grid answers most points outright, exact
 * PostGIS-identical tests settle points near edges, an R-tree over cell boxes
 * finds snapping candidates, and boundary-edge tiles give the distance of
 * points outside the district.
 *
 * Edge rule (the same as the PostGIS reference): a point goes to the cell with
 * the smallest code among those that cover it (ST_Covers: the boundary counts),
 * so a point on a shared edge or vertex goes to the smallest code and a point on
 * the district's outer boundary is inside. A point covered by no cell snaps to
 * the nearest cell within the tolerance, ties to the smallest code; farther
 * away it is outside, with its distance to the district.
 */
import Flatbush from 'flatbush'
import { buildCellStore, type CellStore } from './cell-store.ts'
import { buildBucketGrid, bucketOf, FAR, NEAR, type BucketGrid } from './bucket-grid.ts'
import { assertLonLat, validLat, validLon } from './errors.ts'
import { distanceM, metresPerDegLat, metresPerDegLon, nearestT, segmentDist2 } from './geodesy.ts'
import { OutsideDistance } from './outside.ts'
import { cellStatusAt, OUTSIDE_RING } from './predicates.ts'
import {
  INVALID,
  OUTSIDE,
  type BatchOptions,
  type BatchResult,
  type CellCodes,
  type CellIndex,
  type CellRecord,
  type IndexOptions,
  type LocateResult,
} from './types.ts'

export const DEFAULT_OPTIONS = {
  /** Metres: GPS error on a phone in a street canyon, so a report on the kerb still finds its cell. */
  toleranceM: 30,
  /** Reproduce PostGIS's ST_Covers to the bit; see predicates.ts. */
  predicate: 'postgis',
  /**
   * Buckets per cell: about three in four buckets then lie wholly inside one cell
   * (answered by one read). 16 to 64 measured alike on tests/bench/geocode-inmem.ts;
   * fewer means more exact tests, more means more memory and a slower build.
   */
  bucketsPerCell: 32,
} as const satisfies Required<IndexOptions>

/** Tiles across the grid for outside distances: ≈ 350 m squares over Chaoyang (measured: 11 edges tested per outside point, against 18 with 1,024). */
const TARGET_TILES = 4096

/**
 * Snap distances are compared rounded to the micrometre, so two cells at the
 * same distance (the same vertex, a shared edge) tie and the smaller code
 * wins, whatever the last bits of the arithmetic say.
 */
const TIE_QUANTUM_M = 1e-6

export class MemoryCellIndex implements CellIndex {
  readonly codes: readonly string[]
  readonly toleranceM: number
  readonly predicate: 'postgis' | 'exact'
  private readonly store: CellStore
  private readonly grid: BucketGrid
  private readonly boxes: Flatbush
  private readonly outside: OutsideDistance
  private readonly exact: boolean
  /** Buckets per outside-distance tile, along each axis. */
  private readonly tilesPer: number
  /** Scratch for one snap, reused: the index is single-threaded like everything in one JS realm. */
  private snapCell = -1
  private snapDist = 0

  /** Milliseconds spent in each build phase (the first, `store`, is measured by `build`). */
  readonly timings: { store: number; grid: number; boxes: number; outside: number }

  private constructor(store: CellStore, opts: Required<IndexOptions>, storeMs: number) {
    let t = performance.now()
    const lap = (): number => {
      const now = performance.now()
      const ms = now - t
      t = now
      return ms
    }
    this.store = store
    this.codes = store.codes
    this.toleranceM = opts.toleranceM
    this.predicate = opts.predicate
    this.exact = opts.predicate === 'exact'
    this.grid = buildBucketGrid(store, opts.toleranceM, opts.bucketsPerCell, this.exact)
    const gridMs = lap()
    this.boxes = new Flatbush(store.n)
    for (let c = 0; c < store.n; c++) {
      this.boxes.add(store.bbox[4 * c], store.bbox[4 * c + 1], store.bbox[4 * c + 2], store.bbox[4 * c + 3])
    }
    this.boxes.finish()
    const boxesMs = lap()
    const g = this.grid
    // Tiles are whole multiples of buckets, so a bucket's tile is known without arithmetic on degrees.
    const per = Math.max(1, Math.round(Math.sqrt((g.nx * g.ny) / TARGET_TILES)))
    const bw = (g.x1 - g.x0) / g.nx
    const bh = (g.y1 - g.y0) / g.ny
    const tnx = Math.ceil(g.nx / per)
    const tny = Math.ceil(g.ny / per)
    this.outside = new OutsideDistance(store, { x0: g.x0, y0: g.y0, w: per * bw, h: per * bh, nx: tnx, ny: tny })
    this.tilesPer = per
    const outsideMs = lap()
    this.timings = { store: storeMs, grid: gridMs, boxes: boxesMs, outside: outsideMs }
  }

  /**
   * Builds an index over `cells` (any order; they are sorted by code).
   * Throws GeocoderError `invalid_cell` or `empty_grid` on bad input.
   *
   * @example
   * const index = MemoryCellIndex.build(cells, { toleranceM: 30 })
   * index.locate(116.4853, 39.9219) // { outside: false, code: '110105…', snapped: false, distanceM: 0, … }
   */
  static build(cells: readonly CellRecord[], options: IndexOptions = {}): MemoryCellIndex {
    const opts: Required<IndexOptions> = { ...DEFAULT_OPTIONS, ...stripUndefined(options) }
    if (!(opts.toleranceM >= 0) || !Number.isFinite(opts.toleranceM)) throw new RangeError('toleranceM must be a finite number ≥ 0')
    if (!(opts.bucketsPerCell > 0)) throw new RangeError('bucketsPerCell must be > 0')
    const t0 = performance.now()
    const store = buildCellStore(cells)
    return new MemoryCellIndex(store, opts, performance.now() - t0)
  }

  /**
   * Fills now the outside-distance tiles that points outside the district can
   * land in (otherwise each is filled on its first lookup, ≈ 50 µs). Returns the
   * milliseconds spent. Useful before swapping an index in, or before a benchmark.
   */
  prepareOutside(): number {
    const t0 = performance.now()
    const g = this.grid
    const per = this.tilesPer
    const tnx = Math.ceil(g.nx / per)
    const need = new Uint8Array(tnx * Math.ceil(g.ny / per))
    for (let row = 0; row < g.ny; row++) {
      for (let col = 0; col < g.nx; col++) {
        const k = g.kind[row * g.nx + col]
        if (k === FAR || k === NEAR) need[Math.floor(row / per) * tnx + Math.floor(col / per)] = 1
      }
    }
    const tiles: number[] = []
    for (let k = 0; k < need.length; k++) if (need[k]) tiles.push(k)
    this.outside.prepareTiles(tiles)
    return performance.now() - t0
  }

  get size(): number {
    return this.store.n
  }

  cell(ordinal: number): CellCodes {
    const s = this.store
    if (!(ordinal >= 0 && ordinal < s.n)) throw new RangeError(`no cell ordinal ${ordinal}`)
    return { code: s.codes[ordinal], communityCode: s.communityCodes[ordinal], subdistrictCode: s.subdistrictCodes[ordinal] }
  }

  locate(lon: number, lat: number): LocateResult {
    assertLonLat(lon, lat)
    const c = this.find(lon, lat)
    if (c >= 0) return { outside: false, code: this.codes[c], ordinal: c, snapped: false, distanceM: 0 }
    if (this.snapCell >= 0) {
      return { outside: false, code: this.codes[this.snapCell], ordinal: this.snapCell, snapped: true, distanceM: this.snapDist }
    }
    return { outside: true, code: null, distanceM: this.outside.distance(lon, lat) }
  }

  locateMany(coords: Float64Array, options: BatchOptions = {}): BatchResult {
    if (coords.length % 2 !== 0) throw new RangeError('coords must hold lon,lat pairs')
    const n = coords.length / 2
    const cells = new Int32Array(n)
    const snapped = new Uint8Array(n)
    const dist = new Float64Array(n)
    const wantOutside = options.outsideDistance !== false
    for (let i = 0; i < n; i++) {
      const x = coords[2 * i]
      const y = coords[2 * i + 1]
      if (!validLon(x) || !validLat(y)) {
        cells[i] = INVALID
        dist[i] = NaN
        continue
      }
      const c = this.find(x, y)
      if (c >= 0) {
        cells[i] = c
      } else if (this.snapCell >= 0) {
        cells[i] = this.snapCell
        snapped[i] = 1
        dist[i] = this.snapDist
      } else {
        cells[i] = OUTSIDE
        dist[i] = wantOutside ? this.outside.distance(x, y) : NaN
      }
    }
    return { cells, snapped, distanceM: dist }
  }

  memoryBytes(): number {
    const s = this.store
    const g = this.grid
    const typed =
      s.blob.byteLength + s.blobStart.byteLength + s.ringStart.byteLength + s.ringVerts.byteLength +
      s.polyRingStart.byteLength + s.cellPolyStart.byteLength + s.bbox.byteLength +
      g.kind.byteLength + g.lists.byteLength + this.boxes.data.byteLength
    // Strings: a cell code is a 15-byte one-byte string with a ~16-byte header;
    // community and subdistrict codes are interned, so mostly shared. Plus the
    // three arrays' slots. The caller's GeoJSON is not kept.
    const strings = s.n * (32 + 3 * 8) + new Set(s.communityCodes).size * 32 + new Set(s.subdistrictCodes).size * 32
    return typed + strings + this.outside.memoryBytes()
  }

  /** Build statistics, for the benchmark and the service's status. */
  stats(): { cells: number; buckets: number; bucketsX: number; bucketsY: number; mixedBuckets: number; listInts: number; boundaryEdges: number; outsideTiles: number } {
    const g = this.grid
    return {
      cells: this.store.n,
      buckets: g.nx * g.ny,
      bucketsX: g.nx,
      bucketsY: g.ny,
      mixedBuckets: g.mixed,
      listInts: g.lists.length,
      boundaryEdges: this.outside.count,
      outsideTiles: this.outside.preparedTiles(),
    }
  }

  /**
   * The covering cell with the smallest code, or −1; on −1, `snapCell` and
   * `snapDist` hold the snap (snapCell −1 when there is none within tolerance).
   */
  private find(x: number, y: number): number {
    const g = this.grid
    this.snapCell = -1
    if (x < g.x0 || x > g.x1 || y < g.y0 || y > g.y1) return -1
    const k = g.kind[bucketOf(g, x, y)]
    if (k >= 0) return k
    if (k === FAR) return -1
    if (k !== NEAR) {
      const lists = g.lists
      const blob = this.store.blob
      const L = -3 - k
      for (let j = L + 2, e = L + 2 + 2 * lists[L]; j < e; j += 2) {
        const o = lists[j + 1]
        if (x < blob[o] || y < blob[o + 1] || x > blob[o + 2] || y > blob[o + 3]) continue
        if (cellStatusAt(blob, o, x, y, this.exact) !== OUTSIDE_RING) return lists[j]
      }
      const d = lists[L + 1]
      if (d >= 0) return d
    }
    this.snap(x, y)
    return -1
  }

  /** Nearest cell within the tolerance (ties → smallest code) into snapCell/snapDist. */
  private snap(x: number, y: number): void {
    const g = this.grid
    const found = this.boxes.search(x - g.tolLon, y - g.tolLat, x + g.tolLon, y + g.tolLat)
    if (found.length === 0) return
    found.sort((a, b) => a - b)
    const kx = metresPerDegLon(y)
    const ky = metresPerDegLat(y)
    let bestQ = Infinity
    let best = -1
    let bestD = Infinity
    for (const c of found) {
      const d = this.cellDistance(c, x, y, kx, ky)
      const q = Math.round(d / TIE_QUANTUM_M)
      if (q < bestQ) {
        bestQ = q
        best = c
        bestD = d
      }
    }
    if (best >= 0 && bestD <= this.toleranceM) {
      this.snapCell = best
      this.snapDist = bestD
    }
  }

  /** Metres from an uncovered point to a cell's nearest edge (any ring). */
  private cellDistance(c: number, x: number, y: number, kx: number, ky: number): number {
    const { blob, ringStart, ringVerts, polyRingStart, cellPolyStart } = this.store
    let best = Infinity
    let bi = -1
    for (let r = polyRingStart[cellPolyStart[c]], re = polyRingStart[cellPolyStart[c + 1]]; r < re; r++) {
      for (let i = ringStart[r], e = i + 2 * (ringVerts[r] - 1); i < e; i += 2) {
        const d2 = segmentDist2(x, y, blob[i], blob[i + 1], blob[i + 2], blob[i + 3], kx, ky)
        if (d2 < best) {
          best = d2
          bi = i
        }
      }
    }
    if (bi < 0) return Infinity
    const ax = blob[bi]
    const ay = blob[bi + 1]
    const t = nearestT(x, y, ax, ay, blob[bi + 2], blob[bi + 3], kx, ky)
    return distanceM(x, y, ax + t * (blob[bi + 2] - ax), ay + t * (blob[bi + 3] - ay))
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
