/**
 * The in-memory facility index: k nearest, within a radius, in a cell, in a
 * bbox, filtered by subclass and owner. Immutable once built; the server
 * builds a new one after each import and swaps it in.
 *
 * Items are packed Hilbert R-trees (flatbush) over boxes in the facility plane
 * (see facility-geometry.ts): one over everything and one per subclass, so a
 * "nearest power cover" query walks a tree of power covers only. The k-nearest
 * search is our own best-first walk over flatbush's nodes, because flatbush's
 * `neighbors` ranks by box distance (wrong for lines and polygons) and leaves
 * ties in queue order; here an item is ranked by its exact distance, computed
 * as PostGIS computes it, and ties at the k-th distance are broken by id.
 * Items are stored in id order, so "by id" is "by position".
 */
import Flatbush from 'flatbush'
import { metresPerDegLat, metresPerDegLon, minMetresPerDegLon, MIN_METRES_PER_DEG_LAT } from './geodesy.ts'
import { PLANE_KX, PLANE_KY, flatIntersectsBox, flatten, ptFlat, ptPt, type FlatGeometry } from './facility-geometry.ts'
import {
  FACILITY_STATUSES, type Bbox, type FacilityFilter, type FacilityHit, type FacilityLookup, type FacilityRecord,
  type FacilityStatus, type ListOptions, type NearestOptions, type WithinOptions,
} from './facility-types.ts'

const NONE = 0xffff

/** A tree over some items; `items[i]` is the position of the tree's i-th item (absent: identity). */
interface Tree {
  fb: Flatbush
  items: Int32Array | null
}

/**
 * Radius in the facility plane that holds every point within `radiusM` metres
 * (on the ellipsoid) of latitude `lat`: the plane stretches a metre by at most
 * KX / (metres per degree of longitude) east–west, KY / (… latitude) north–south.
 */
export function planeRadius(lat: number, radiusM: number): number {
  const dLat = radiusM / MIN_METRES_PER_DEG_LAT
  const lo = Math.max(-89.9, lat - dLat)
  const hi = Math.min(89.9, lat + dLat)
  const kx = minMetresPerDegLon(lo, hi)
  // a degree of latitude is shortest at the equator: take it at the latitude nearest to it
  const ky = metresPerDegLat(lo <= 0 && hi >= 0 ? 0 : Math.min(Math.abs(lo), Math.abs(hi)))
  return radiusM * Math.max(PLANE_KX / kx, PLANE_KY / ky) * (1 + 1e-9) + 1e-6
}

/** A binary min-heap of (key, value) in typed arrays, reused between queries. */
class Heap {
  keys = new Float64Array(1024)
  vals = new Int32Array(1024)
  length = 0
  clear(): void { this.length = 0 }
  push(key: number, val: number): void {
    if (this.length === this.keys.length) {
      const k = new Float64Array(this.length * 2); k.set(this.keys); this.keys = k
      const v = new Int32Array(this.length * 2); v.set(this.vals); this.vals = v
    }
    let i = this.length++
    const keys = this.keys
    const vals = this.vals
    while (i > 0) {
      const p = (i - 1) >> 1
      if (keys[p] <= key) break
      keys[i] = keys[p]; vals[i] = vals[p]; i = p
    }
    keys[i] = key; vals[i] = val
  }
  /** Removes the top; read `keys[0]`, `vals[0]` before. */
  pop(): void {
    const n = --this.length
    if (n <= 0) return
    const keys = this.keys
    const vals = this.vals
    const key = keys[n]
    const val = vals[n]
    let i = 0
    for (;;) {
      let c = 2 * i + 1
      if (c >= n) break
      if (c + 1 < n && keys[c + 1] < keys[c]) c++
      if (keys[c] >= key) break
      keys[i] = keys[c]; vals[i] = vals[c]; i = c
    }
    keys[i] = key; vals[i] = val
  }
}

/** Position and plane distance of one candidate. */
interface Found { pos: number; d: number }

export class MemoryFacilityIndex implements FacilityLookup {
  readonly size: number
  private readonly ids: string[]
  private readonly byId = new Map<string, number>()
  private readonly subclassCodes: string[] = []
  private readonly subclassOf: Uint16Array
  private readonly orgCodes: string[] = []
  private readonly ownerOf: Uint16Array
  private readonly maintainerOf: Uint16Array
  private readonly authorityOf: Uint16Array
  private readonly statusOf: Uint8Array
  private readonly cellCodes: string[] = []
  private readonly cellIdx = new Map<string, number>()
  private readonly cellOf: Int32Array
  /** Items of cell c: cellItems[cellStart[c] … cellStart[c + 1]]. */
  private readonly cellStart: Int32Array
  private readonly cellItems: Int32Array
  private readonly lon: Float64Array
  private readonly lat: Float64Array
  /** Plane coordinates of point items (NaN for lines and polygons). */
  private readonly px: Float64Array
  private readonly py: Float64Array
  private readonly flat = new Map<number, FlatGeometry>()
  private readonly all: Tree
  private readonly bySubclass: (Tree | null)[]
  /** Subclasses each owner has items of. */
  private readonly ownerSubclasses = new Map<number, number[]>()
  private readonly heap = new Heap()

  /** Builds the index; `records` in any order. */
  constructor(records: readonly FacilityRecord[]) {
    const sorted = [...records].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const n = this.size = sorted.length
    this.ids = new Array<string>(n)
    this.subclassOf = new Uint16Array(n)
    this.ownerOf = new Uint16Array(n)
    this.maintainerOf = new Uint16Array(n)
    this.authorityOf = new Uint16Array(n)
    this.statusOf = new Uint8Array(n)
    this.cellOf = new Int32Array(n)
    this.lon = new Float64Array(n)
    this.lat = new Float64Array(n)
    this.px = new Float64Array(n)
    this.py = new Float64Array(n)
    const subclassIdx = new Map<string, number>()
    const orgIdx = new Map<string, number>()
    const cellIdx = this.cellIdx
    const intern = (m: Map<string, number>, list: string[], v: string): number => {
      let i = m.get(v)
      if (i === undefined) { i = list.length; list.push(v); m.set(v, i) }
      return i
    }
    const org = (v: string | null): number => (v === null ? NONE : intern(orgIdx, this.orgCodes, v))
    const boxes = new Float64Array(n * 4)
    for (let i = 0; i < n; i++) {
      const r = sorted[i]
      if (i > 0 && r.id === this.ids[i - 1]) throw new RangeError(`duplicate facility id ${r.id}`)
      this.ids[i] = r.id
      this.byId.set(r.id, i)
      this.subclassOf[i] = intern(subclassIdx, this.subclassCodes, r.subclass)
      this.ownerOf[i] = org(r.owner)
      this.maintainerOf[i] = org(r.maintainer)
      this.authorityOf[i] = org(r.authority)
      if (this.orgCodes.length >= NONE) throw new RangeError('more than 65,534 organisations')
      this.statusOf[i] = FACILITY_STATUSES.indexOf(r.status)
      this.cellOf[i] = r.cell === null ? -1 : intern(cellIdx, this.cellCodes, r.cell)
      this.lon[i] = r.lon
      this.lat[i] = r.lat
      const g = r.geometry
      if (g === null || g.type === 'Point') {
        const [x, y] = g === null ? [r.lon, r.lat] : g.coordinates
        this.px[i] = x * PLANE_KX
        this.py[i] = y * PLANE_KY
        boxes.set([this.px[i], this.py[i], this.px[i], this.py[i]], i * 4)
      } else {
        const f = flatten(g)
        this.flat.set(i, f)
        this.px[i] = NaN
        this.py[i] = NaN
        boxes.set([f.minX * PLANE_KX, f.minY * PLANE_KY, f.maxX * PLANE_KX, f.maxY * PLANE_KY], i * 4)
      }
    }
    this.all = this.tree(boxes, null)
    // per-subclass trees
    const members: number[][] = this.subclassCodes.map(() => [])
    for (let i = 0; i < n; i++) members[this.subclassOf[i]].push(i)
    this.bySubclass = members.map((m) => (m.length ? this.tree(boxes, Int32Array.from(m)) : null))
    for (let i = 0; i < n; i++) {
      const o = this.ownerOf[i]
      let list = this.ownerSubclasses.get(o)
      if (!list) this.ownerSubclasses.set(o, list = [])
      if (!list.includes(this.subclassOf[i])) list.push(this.subclassOf[i])
    }
    // cells: counting sort of positions by cell
    this.cellStart = new Int32Array(this.cellCodes.length + 1)
    for (let i = 0; i < n; i++) if (this.cellOf[i] >= 0) this.cellStart[this.cellOf[i] + 1]++
    for (let c = 0; c < this.cellCodes.length; c++) this.cellStart[c + 1] += this.cellStart[c]
    this.cellItems = new Int32Array(this.cellStart[this.cellCodes.length])
    const fill = this.cellStart.slice(0, -1)
    for (let i = 0; i < n; i++) if (this.cellOf[i] >= 0) this.cellItems[fill[this.cellOf[i]]++] = i
  }

  private tree(boxes: Float64Array, items: Int32Array | null): Tree {
    const count = items ? items.length : boxes.length / 4
    const fb = new Flatbush(Math.max(1, count), 16)
    for (let j = 0; j < count; j++) {
      const b = (items ? items[j] : j) * 4
      fb.add(boxes[b], boxes[b + 1], boxes[b + 2], boxes[b + 3])
    }
    if (count === 0) fb.add(0, 0, 0, 0) // an empty registry still answers (nothing): see `matches`
    fb.finish()
    return { fb, items }
  }

  /** The trees to search for a filter, or null when the filter matches nothing. */
  private treesFor(f: FacilityFilter): Tree[] | null {
    const owner = f.owner === undefined ? undefined : this.orgCodes.indexOf(f.owner)
    if (owner === -1) return null
    let subs: number[] | null = null
    if (f.subclasses?.length) subs = f.subclasses.map((s) => this.subclassCodes.indexOf(s)).filter((s) => s >= 0)
    if (owner !== undefined) {
      const own = this.ownerSubclasses.get(owner) ?? []
      subs = subs ? subs.filter((s) => own.includes(s)) : own
    }
    if (subs === null) return [this.all]
    const trees = subs.map((s) => this.bySubclass[s]).filter((t): t is Tree => t !== null)
    return trees.length ? trees : null
  }

  /** The predicate a filtered item must pass beyond its tree (owner; subclass only on the all-items tree). */
  private matcher(f: FacilityFilter, trees: Tree[]): ((pos: number) => boolean) {
    const owner = f.owner === undefined ? -1 : this.orgCodes.indexOf(f.owner)
    const n = this.size
    if (owner >= 0) return (pos) => pos < n && this.ownerOf[pos] === owner
    if (trees.length === 1 && trees[0] === this.all && f.subclasses?.length) {
      const subs = new Set(f.subclasses.map((s) => this.subclassCodes.indexOf(s)))
      return (pos) => pos < n && subs.has(this.subclassOf[pos])
    }
    return (pos) => pos < n
  }

  private planeDist(pos: number, x: number, y: number): number {
    const px = this.px[pos]
    if (px === px) return ptPt(x, y, px, this.py[pos])
    return ptFlat(x, y, this.flat.get(pos)!, PLANE_KX, PLANE_KY)
  }

  /** Metres on the ellipsoid from (lon, lat) to an item (local plane at the mid-latitude). */
  distanceM(pos: number, lon: number, lat: number): number {
    const f = this.flat.get(pos)
    const tlat = f ? Math.min(Math.max(lat, f.minY), f.maxY) : this.lat[pos]
    const mid = (lat + tlat) / 2
    const kx = metresPerDegLon(mid)
    const ky = metresPerDegLat(mid)
    if (!f) return ptPt(lon * kx, lat * ky, this.lon[pos] * kx, this.lat[pos] * ky)
    return ptFlat(lon * kx, lat * ky, f, kx, ky)
  }

  /** Best-first k-nearest walk of one tree; appends to `out`; returns the k-th distance bound. */
  private knnTree(t: Tree, x: number, y: number, k: number, bound: number, ok: (pos: number) => boolean, out: Found[]): number {
    const { fb, items } = t
    const boxes = fb._boxes
    const indices = fb._indices
    const levelBounds = fb._levelBounds
    const numItems4 = fb.numItems * 4
    const nodeSize4 = fb.nodeSize * 4
    const h = this.heap
    h.clear()
    h.push(0, boxes.length - 4)
    let found = 0
    while (h.length) {
      const key = h.keys[0]
      const val = h.vals[0]
      if (key > bound) break
      h.pop()
      if (val < 0) {
        out.push({ pos: -val - 1, d: key })
        if (++found >= k && key < bound) bound = key
        continue
      }
      let level = 0
      while (val >= levelBounds[level]) level++
      const end = Math.min(val + nodeSize4, levelBounds[level])
      const leaf = val < numItems4
      for (let p = val; p < end; p += 4) {
        const idx = indices[p >> 2]
        if (leaf) {
          const pos = items ? items[idx] : idx
          if (!ok(pos)) continue
          const d = this.planeDist(pos, x, y)
          if (d <= bound) h.push(d, -pos - 1)
        } else {
          const dx = x < boxes[p] ? boxes[p] - x : x > boxes[p + 2] ? x - boxes[p + 2] : 0
          const dy = y < boxes[p + 1] ? boxes[p + 1] - y : y > boxes[p + 3] ? y - boxes[p + 3] : 0
          const d = Math.sqrt(dx * dx + dy * dy)
          if (d <= bound) h.push(d, idx)
        }
      }
    }
    return bound
  }

  private hit(pos: number, distanceM: number | null): FacilityHit {
    const m = this.maintainerOf[pos]
    const a = this.authorityOf[pos]
    const c = this.cellOf[pos]
    return {
      id: this.ids[pos],
      subclass: this.subclassCodes[this.subclassOf[pos]],
      owner: this.orgCodes[this.ownerOf[pos]],
      maintainer: m === NONE ? null : this.orgCodes[m],
      authority: a === NONE ? null : this.orgCodes[a],
      status: FACILITY_STATUSES[this.statusOf[pos]] as FacilityStatus,
      cell: c < 0 ? null : this.cellCodes[c],
      lon: this.lon[pos],
      lat: this.lat[pos],
      distanceM,
    }
  }

  /**
   * The k components nearest to a WGS84 point, nearest first, ties by id.
   * @example index.nearest(116.4612, 39.9105, { k: 3, subclasses: ['01005'] })
   */
  nearest(lon: number, lat: number, opts: NearestOptions): FacilityHit[] {
    const found = this.nearestPositions(lon, lat, opts)
    const out: FacilityHit[] = []
    for (const f of found) {
      const m = this.distanceM(f.pos, lon, lat)
      if (opts.maxDistanceM === undefined || m <= opts.maxDistanceM) out.push(this.hit(f.pos, m))
    }
    return out
  }

  /** Positions and plane distances of the k nearest (for callers that want no objects). */
  nearestPositions(lon: number, lat: number, opts: NearestOptions): Found[] {
    const k = Math.floor(opts.k)
    if (!(k >= 1) || this.size === 0) return []
    const trees = this.treesFor(opts)
    if (!trees) return []
    const ok = this.matcher(opts, trees)
    const x = lon * PLANE_KX
    const y = lat * PLANE_KY
    let bound = opts.maxDistanceM === undefined ? Infinity : planeRadius(lat, opts.maxDistanceM)
    const found: Found[] = []
    for (const t of trees) bound = this.knnTree(t, x, y, k, bound, ok, found)
    found.sort((a, b) => a.d - b.d || a.pos - b.pos)
    if (found.length > k) found.length = k
    return found
  }

  /**
   * Every component within `radiusM` metres (on the ellipsoid) of a point, nearest first.
   * @example index.within(116.4612, 39.9105, { radiusM: 30, subclasses: ['01005'] })
   */
  within(lon: number, lat: number, opts: WithinOptions): FacilityHit[] {
    const trees = this.treesFor(opts)
    if (!trees || this.size === 0 || !(opts.radiusM >= 0)) return []
    const ok = this.matcher(opts, trees)
    const x = lon * PLANE_KX
    const y = lat * PLANE_KY
    const r = planeRadius(lat, opts.radiusM)
    const found: Found[] = []
    const metres = new Map<number, number>()
    for (const t of trees) {
      t.fb.search(x - r, y - r, x + r, y + r, (idx) => {
        const pos = t.items ? t.items[idx] : idx
        if (!ok(pos)) return false
        const d = this.planeDist(pos, x, y)
        if (d > r) return false
        const m = this.distanceM(pos, lon, lat)
        if (m > opts.radiusM) return false
        found.push({ pos, d })
        metres.set(pos, m)
        return false
      })
    }
    found.sort((a, b) => a.d - b.d || a.pos - b.pos)
    const limit = opts.limit ?? found.length
    return found.slice(0, limit).map((f) => this.hit(f.pos, metres.get(f.pos)!))
  }

  /** The components of one cell, by id. */
  inCell(code: string, opts: ListOptions = {}): FacilityHit[] {
    const c = this.cellIdx.get(code)
    if (c === undefined) return []
    const trees = this.treesFor(opts)
    if (!trees) return []
    const subs = opts.subclasses?.length ? new Set(opts.subclasses) : null
    const out: FacilityHit[] = []
    const limit = opts.limit ?? Infinity
    for (let j = this.cellStart[c]; j < this.cellStart[c + 1] && out.length < limit; j++) {
      const pos = this.cellItems[j]
      if (subs && !subs.has(this.subclassCodes[this.subclassOf[pos]])) continue
      if (opts.owner !== undefined && this.orgCodes[this.ownerOf[pos]] !== opts.owner) continue
      out.push(this.hit(pos, null))
    }
    return out
  }

  /** The components that intersect a WGS84 box (edges count), by id. */
  inBbox(bbox: Bbox, opts: ListOptions = {}): FacilityHit[] {
    const trees = this.treesFor(opts)
    if (!trees || this.size === 0) return []
    const ok = this.matcher(opts, trees)
    const [x0, y0, x1, y1] = bbox
    const hits: number[] = []
    for (const t of trees) {
      t.fb.search(x0 * PLANE_KX, y0 * PLANE_KY, x1 * PLANE_KX, y1 * PLANE_KY, (idx) => {
        const pos = t.items ? t.items[idx] : idx
        if (!ok(pos)) return false
        const f = this.flat.get(pos)
        const inside = f ? flatIntersectsBox(f, x0, y0, x1, y1)
          : this.lon[pos] >= x0 && this.lon[pos] <= x1 && this.lat[pos] >= y0 && this.lat[pos] <= y1
        if (inside) hits.push(pos)
        return false
      })
    }
    hits.sort((a, b) => a - b)
    if (opts.limit !== undefined && hits.length > opts.limit) hits.length = opts.limit
    return hits.map((pos) => this.hit(pos, null))
  }

  get(id: string): FacilityHit | null {
    const pos = this.byId.get(id)
    return pos === undefined ? null : this.hit(pos, null)
  }

  /** Counts of items per subclass (for health and tests). */
  subclassCounts(): Record<string, number> {
    const out: Record<string, number> = {}
    for (let i = 0; i < this.size; i++) {
      const s = this.subclassCodes[this.subclassOf[i]]
      out[s] = (out[s] ?? 0) + 1
    }
    return out
  }
}
