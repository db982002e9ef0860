/**
 * The in-memory facility index: k nearest, within a radius, in a cell, in a
 * bbox, filtered by subclass and owner. Immutable once built; the server
 * builds a new one after each import and swaps it in.
 *
 * Points live in k-d trees over the facility plane (facility-kd.ts), lines and
 * polygons in bucket grids (facility-grid.ts): one layer over everything and
 * one per subclass, so "the nearest power cover" reads power covers only. An item is ranked by its exact distance in the plane,
 * computed as PostGIS computes it, and ties are broken by id: items are stored
 * in id order, so "by id" is "by position".
 */
import { metresPerDegLat, metresPerDegLon, minMetresPerDegLon, MIN_METRES_PER_DEG_LAT } from './geodesy.ts'
import { PLANE_KX, PLANE_KY, flatIntersectsBox, flatten, ptFlat, ptPt, type FlatGeometry } from './facility-geometry.ts'
import { FacilityGrid, TopK } from './facility-grid.ts'
import { PointKD } from './facility-kd.ts'
import {
  FACILITY_STATUSES, type Bbox, type FacilityFilter, type FacilityHit, type FacilityLookup, type FacilityRecord,
  type FacilityStatus, type ListOptions, type NearestOptions, type WithinOptions,
} from './facility-types.ts'

const NONE = 0xffff

/** The items of one subclass (or all): points in a k-d tree, lines and polygons in a grid. */
class Layer {
  readonly kd: PointKD
  readonly shapes: FacilityGrid
  readonly count: number
  constructor(members: number[], px: Float64Array, py: Float64Array, src: ConstructorParameters<typeof FacilityGrid>[0]) {
    const pts = members.filter((p) => px[p] === px[p])
    this.kd = new PointKD(Int32Array.from(pts), px, py)
    this.shapes = new FacilityGrid(src, Int32Array.from(members.filter((p) => px[p] !== px[p])))
    this.count = members.length
  }
  nearest(x: number, y: number, top: TopK, maxD: number, ok: ((pos: number) => boolean) | null, stamp: Int32Array, qid: number): void {
    this.kd.nearest(x, y, top, maxD, ok)
    this.shapes.nearest(x, y, top, maxD, ok, stamp, qid)
  }
  search(x0: number, y0: number, x1: number, y1: number, visit: (pos: number, px: number, py: number) => void, stamp: Int32Array, qid: number): void {
    this.kd.range(x0, y0, x1, y1, visit)
    this.shapes.search(x0, y0, x1, y1, visit, stamp, qid)
  }
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
  private readonly all: Layer
  private readonly bySubclass: Layer[]
  /** Subclasses each owner has items of. */
  private readonly ownerSubclasses = new Map<number, number[]>()
  private readonly top = new TopK()
  private scaleLat = NaN
  private kx0 = 0
  private ky0 = 0
  private dkx = 0
  private dky = 0
  /** Per item: the last query that measured it (lines and polygons sit in several buckets). */
  private readonly stamp: Int32Array
  private qid = 0

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
    const src = { px: this.px, py: this.py, flat: this.flat, boxes }
    this.all = new Layer(Array.from({ length: n }, (_, i) => i), this.px, this.py, src)
    const members: number[][] = this.subclassCodes.map(() => [])
    for (let i = 0; i < n; i++) members[this.subclassOf[i]].push(i)
    this.bySubclass = members.map((m) => new Layer(m, this.px, this.py, src))
    this.stamp = new Int32Array(n)
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

  /** The grids to search for a filter, or null when the filter matches nothing. */
  private gridsFor(f: FacilityFilter): Layer[] | null {
    const owner = f.owner === undefined ? undefined : this.orgCodes.indexOf(f.owner)
    if (owner === -1) return null
    let subs: number[] | null = null
    if (f.subclasses?.length) subs = f.subclasses.map((s) => this.subclassCodes.indexOf(s)).filter((s) => s >= 0)
    if (owner !== undefined) {
      const own = this.ownerSubclasses.get(owner) ?? []
      subs = subs ? subs.filter((s) => own.includes(s)) : own
    }
    if (subs === null) return [this.all]
    const grids = subs.map((s) => this.bySubclass[s]).filter((g) => g.count > 0)
    return grids.length ? grids : null
  }

  /** The predicate an item must pass beyond being in one of the grids: its owner, when asked for. */
  private matcher(f: FacilityFilter): ((pos: number) => boolean) | null {
    if (f.owner === undefined) return null
    const owner = this.orgCodes.indexOf(f.owner)
    const ownerOf = this.ownerOf
    return (pos) => ownerOf[pos] === owner
  }

  private planeDist(pos: number, x: number, y: number): number {
    const px = this.px[pos]
    if (px === px) return ptPt(x, y, px, this.py[pos])
    return ptFlat(x, y, this.flat.get(pos)!, PLANE_KX, PLANE_KY)
  }

  /** Metres on the ellipsoid from (lon, lat) to an item (local plane at the mid-latitude). */
  distanceM(pos: number, lon: number, lat: number): number {
    if (lat !== this.scaleLat) this.setScales(lat)
    const f = this.px[pos] === this.px[pos] ? undefined : this.flat.get(pos)
    const tlat = f ? Math.min(Math.max(lat, f.minY), f.maxY) : this.lat[pos]
    // the scales at the mid-latitude, to first order from those at the query's (exact to 1e-12 within kilometres)
    const dm = (tlat - lat) / 2
    const kx = this.kx0 + this.dkx * dm
    const ky = this.ky0 + this.dky * dm
    if (!f) {
      const dx = (this.lon[pos] - lon) * kx
      const dy = (this.lat[pos] - lat) * ky
      return Math.sqrt(dx * dx + dy * dy)
    }
    return ptFlat(lon * kx, lat * ky, f, kx, ky)
  }

  /** Metres per degree at `lat` and their rates of change, kept for the queries at that latitude. */
  private setScales(lat: number): void {
    const h = 1e-3
    this.scaleLat = lat
    this.kx0 = metresPerDegLon(lat)
    this.ky0 = metresPerDegLat(lat)
    this.dkx = (metresPerDegLon(lat + h) - metresPerDegLon(lat - h)) / (2 * h)
    this.dky = (metresPerDegLat(lat + h) - metresPerDegLat(lat - h)) / (2 * h)
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
    const top = this.search(lon, lat, opts)
    const out: FacilityHit[] = []
    if (!top) return out
    for (let i = 0; i < top.n; i++) {
      const m = this.distanceM(top.pos[i], lon, lat)
      if (opts.maxDistanceM === undefined || m <= opts.maxDistanceM) out.push(this.hit(top.pos[i], m))
    }
    return out
  }

  /** Positions and plane distances of the k nearest (for callers that want no objects). */
  nearestPositions(lon: number, lat: number, opts: NearestOptions): Found[] {
    const top = this.search(lon, lat, opts)
    const out: Found[] = []
    if (top) for (let i = 0; i < top.n; i++) out.push({ pos: top.pos[i], d: top.d[i] })
    return out
  }

  /** The k-nearest search; the answer is in the returned TopK until the next query. */
  private search(lon: number, lat: number, opts: NearestOptions): TopK | null {
    const k = Math.floor(opts.k)
    if (!(k >= 1) || this.size === 0) return null
    const grids = this.gridsFor(opts)
    if (!grids) return null
    const ok = this.matcher(opts)
    const x = lon * PLANE_KX
    const y = lat * PLANE_KY
    const maxD = opts.maxDistanceM === undefined ? Infinity : planeRadius(lat, opts.maxDistanceM)
    const top = this.top
    top.reset(k)
    const qid = this.nextQuery()
    for (const g of grids) g.nearest(x, y, top, maxD, ok, this.stamp, qid)
    return top
  }

  private nextQuery(): number {
    if (++this.qid === 0x7fffffff) { this.stamp.fill(0); this.qid = 1 }
    return this.qid
  }

  /**
   * Every component within `radiusM` metres (on the ellipsoid) of a point, nearest first.
   * @example index.within(116.4612, 39.9105, { radiusM: 30, subclasses: ['01005'] })
   */
  within(lon: number, lat: number, opts: WithinOptions): FacilityHit[] {
    const grids = this.gridsFor(opts)
    if (!grids || this.size === 0 || !(opts.radiusM >= 0)) return []
    const ok = this.matcher(opts)
    const x = lon * PLANE_KX
    const y = lat * PLANE_KY
    const r = planeRadius(lat, opts.radiusM)
    const found: Found[] = []
    const metres = new Map<number, number>()
    const qid = this.nextQuery()
    const visit = (pos: number, px: number, py: number): void => {
      if (ok !== null && !ok(pos)) return
      const d = px === px ? ptPt(x, y, px, py) : ptFlat(x, y, this.flat.get(pos)!, PLANE_KX, PLANE_KY)
      if (d > r) return
      const m = this.distanceM(pos, lon, lat)
      if (m > opts.radiusM) return
      found.push({ pos, d })
      metres.set(pos, m)
    }
    for (const g of grids) g.search(x - r, y - r, x + r, y + r, visit, this.stamp, qid)
    found.sort((a, b) => a.d - b.d || a.pos - b.pos)
    const limit = opts.limit ?? found.length
    return found.slice(0, limit).map((f) => this.hit(f.pos, metres.get(f.pos)!))
  }

  /** The components of one cell, by id. */
  inCell(code: string, opts: ListOptions = {}): FacilityHit[] {
    const c = this.cellIdx.get(code)
    if (c === undefined) return []
    if (!this.gridsFor(opts)) return []
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
    const grids = this.gridsFor(opts)
    if (!grids || this.size === 0) return []
    const ok = this.matcher(opts)
    const [x0, y0, x1, y1] = bbox
    const hits: number[] = []
    const qid = this.nextQuery()
    const visit = (pos: number, px: number): void => {
      if (ok !== null && !ok(pos)) return
      const f = px === px ? undefined : this.flat.get(pos)
      const inside = f ? flatIntersectsBox(f, x0, y0, x1, y1)
        : this.lon[pos] >= x0 && this.lon[pos] <= x1 && this.lat[pos] >= y0 && this.lat[pos] <= y1
      if (inside) hits.push(pos)
    }
    for (const g of grids) g.search(x0 * PLANE_KX, y0 * PLANE_KY, x1 * PLANE_KX, y1 * PLANE_KY, visit, this.stamp, qid)
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
