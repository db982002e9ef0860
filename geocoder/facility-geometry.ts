/**
 * Geometry for facility lookups: the plane they are ranked in, distances in it
 * computed the way PostGIS computes them, WKB decoding, and point-in-ring.
 *
 * The plane is lon/lat scaled by two constants (metres per degree at 39.95° N,
 * the district's middle). PostGIS holds the same plane in `facilities.geom_m`
 * (`facility_plane()` in server/migrations/002_facilities.sql, same constants),
 * and both sides compute `x = lon · KX` with one IEEE multiplication, so the
 * in-memory index and `ORDER BY geom_m <-> point` rank by identical numbers.
 * Ranking in plain lon/lat degrees would not do: a degree of longitude is 0.77
 * of a degree of latitude here, so an item 25 m east would beat one 20 m north.
 */
import type { Geometry, Position } from 'geojson'

/** Metres per degree of longitude at 39.95° N on the WGS84 ellipsoid (N·cos φ·π/180), to 0.1 m. */
export const PLANE_KX = 85456.1
/** Metres per degree of latitude at 39.95° N on the WGS84 ellipsoid (M·π/180), to 0.1 m. */
export const PLANE_KY = 111033.7

/** Distance between two plane points, as PostGIS's lw_dist2d_pt_pt computes it. */
export function ptPt(px: number, py: number, ax: number, ay: number): number {
  const h = ax - px
  const v = ay - py
  return Math.sqrt(h * h + v * v)
}

/** Distance from p to segment a–b, as PostGIS's lw_dist2d_pt_seg computes it. */
export function ptSeg(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  if (ax === bx && ay === by) return ptPt(px, py, ax, ay)
  const r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / ((bx - ax) * (bx - ax) + (by - ay) * (by - ay))
  if (r < 0) return ptPt(px, py, ax, ay)
  if (r >= 1) return ptPt(px, py, bx, by)
  if ((ay - py) * (bx - ax) === (ax - px) * (by - ay)) return 0
  return ptPt(px, py, ax + r * (bx - ax), ay + r * (by - ay))
}

/**
 * Distance from p to a vertex run of `coords` (interleaved x, y; `start`, `end`
 * in numbers, not vertices), each vertex mapped by x·kx, y·ky first.
 */
export function ptRun(px: number, py: number, coords: Float64Array, start: number, end: number, kx: number, ky: number): number {
  let ax = coords[start] * kx
  let ay = coords[start + 1] * ky
  let best = ptPt(px, py, ax, ay)
  for (let i = start + 2; i < end && best > 0; i += 2) {
    const bx = coords[i] * kx
    const by = coords[i + 1] * ky
    const d = ptSeg(px, py, ax, ay, bx, by)
    if (d < best) best = d
    ax = bx
    ay = by
  }
  return best
}

/**
 * Where p lies against a closed ring: 1 inside, 0 on its boundary, -1 outside
 * (crossing number, boundary first). Coordinates mapped by kx, ky like ptRun.
 */
export function ringSide(px: number, py: number, coords: Float64Array, start: number, end: number, kx: number, ky: number): number {
  let inside = false
  let ax = coords[start] * kx
  let ay = coords[start + 1] * ky
  for (let i = start + 2; i < end; i += 2) {
    const bx = coords[i] * kx
    const by = coords[i + 1] * ky
    const cross = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
    if (cross === 0 && px >= Math.min(ax, bx) && px <= Math.max(ax, bx) && py >= Math.min(ay, by) && py <= Math.max(ay, by)) return 0
    if ((ay > py) !== (by > py) && px < ((bx - ax) * (py - ay)) / (by - ay) + ax) inside = !inside
    ax = bx
    ay = by
  }
  return inside ? 1 : -1
}

/**
 * A line or polygon geometry flattened: lon/lat pairs in `coords`, grouped in
 * runs (a linestring, or a ring) and runs grouped in parts (a polygon's shell
 * and holes; one run per line part). Points are kept apart, as two numbers.
 */
export interface FlatGeometry {
  /** 'line' for (Multi)LineString, 'polygon' for (Multi)Polygon, 'multipoint' for MultiPoint. */
  kind: 'line' | 'polygon' | 'multipoint'
  coords: Float64Array
  /** Run r spans coords[runStart[r]] … coords[runStart[r + 1]] (numbers, not vertices). */
  runStart: Uint32Array
  /** Part p has runs partStart[p] … partStart[p + 1] − 1; for polygons the first is the shell. */
  partStart: Uint32Array
  /** lon/lat bounds. */
  minX: number
  minY: number
  maxX: number
  maxY: number
}

/**
 * Distance from plane point (px, py) to a flat geometry in the plane given by
 * kx, ky (the ranking plane, or a local one for metres), as PostGIS measures:
 * 0 inside a polygon, else to the nearest edge.
 */
export function ptFlat(px: number, py: number, g: FlatGeometry, kx: number, ky: number): number {
  let best = Infinity
  for (let p = 0; p + 1 < g.partStart.length && best > 0; p++) {
    const r0 = g.partStart[p]
    const r1 = g.partStart[p + 1]
    if (g.kind === 'polygon') {
      const shell = ringSide(px, py, g.coords, g.runStart[r0], g.runStart[r0 + 1], kx, ky)
      let d: number
      if (shell < 0) d = ptRun(px, py, g.coords, g.runStart[r0], g.runStart[r0 + 1], kx, ky)
      else {
        d = 0
        for (let r = r0 + 1; r < r1; r++) {
          if (ringSide(px, py, g.coords, g.runStart[r], g.runStart[r + 1], kx, ky) >= 0) {
            d = ptRun(px, py, g.coords, g.runStart[r], g.runStart[r + 1], kx, ky)
            break
          }
        }
      }
      if (d < best) best = d
    } else {
      for (let r = r0; r < r1; r++) {
        const d = ptRun(px, py, g.coords, g.runStart[r], g.runStart[r + 1], kx, ky)
        if (d < best) best = d
      }
    }
  }
  return best
}

/** Whether a flat geometry intersects the lon/lat box (edges count). */
export function flatIntersectsBox(g: FlatGeometry, x0: number, y0: number, x1: number, y1: number): boolean {
  if (g.maxX < x0 || g.minX > x1 || g.maxY < y0 || g.minY > y1) return false
  const c = g.coords
  for (let i = 0; i < c.length; i += 2) if (c[i] >= x0 && c[i] <= x1 && c[i + 1] >= y0 && c[i + 1] <= y1) return true
  if (g.kind === 'multipoint') return false
  // no vertex inside: an edge crosses the box, or the box lies inside a polygon
  for (let r = 0; r + 1 < g.runStart.length; r++) {
    for (let i = g.runStart[r]; i + 3 < g.runStart[r + 1]; i += 2) {
      if (segmentHitsBox(c[i], c[i + 1], c[i + 2], c[i + 3], x0, y0, x1, y1)) return true
    }
  }
  return g.kind === 'polygon' && ptFlat(x0, y0, g, 1, 1) === 0
}

function segmentHitsBox(ax: number, ay: number, bx: number, by: number, x0: number, y0: number, x1: number, y1: number): boolean {
  // Liang–Barsky clipping of the segment against the box
  let t0 = 0
  let t1 = 1
  const dx = bx - ax
  const dy = by - ay
  const edges: [number, number][] = [[-dx, ax - x0], [dx, x1 - ax], [-dy, ay - y0], [dy, y1 - ay]]
  for (const [p, q] of edges) {
    if (p === 0) {
      if (q < 0) return false
    } else {
      const t = q / p
      if (p < 0) { if (t > t1) return false; if (t > t0) t0 = t } else { if (t < t0) return false; if (t < t1) t1 = t }
    }
  }
  return true
}

/** Flattens a GeoJSON line, polygon or multipoint geometry (not a Point). */
export function flatten(geom: Geometry): FlatGeometry {
  const coords: number[] = []
  const runStart: number[] = [0]
  const partStart: number[] = [0]
  const run = (ps: Position[]): void => {
    for (const p of ps) coords.push(p[0], p[1])
    runStart.push(coords.length)
  }
  let kind: FlatGeometry['kind']
  switch (geom.type) {
    case 'LineString': kind = 'line'; run(geom.coordinates); partStart.push(1); break
    case 'MultiLineString': kind = 'line'; for (const l of geom.coordinates) { run(l); partStart.push(runStart.length - 1) } break
    case 'Polygon': kind = 'polygon'; for (const r of geom.coordinates) run(r); partStart.push(runStart.length - 1); break
    case 'MultiPolygon': kind = 'polygon'; for (const p of geom.coordinates) { for (const r of p) run(r); partStart.push(runStart.length - 1) } break
    case 'MultiPoint': kind = 'multipoint'; for (const p of geom.coordinates) { run([p]); partStart.push(runStart.length - 1) } break
    default: throw new TypeError(`cannot flatten a ${geom.type}`)
  }
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity
  for (let i = 0; i < coords.length; i += 2) {
    if (coords[i] < minX) minX = coords[i]
    if (coords[i] > maxX) maxX = coords[i]
    if (coords[i + 1] < minY) minY = coords[i + 1]
    if (coords[i + 1] > maxY) maxY = coords[i + 1]
  }
  return { kind, coords: Float64Array.from(coords), runStart: Uint32Array.from(runStart), partStart: Uint32Array.from(partStart), minX, minY, maxX, maxY }
}

/**
 * Decodes 2D WKB (OGC or EWKB, either byte order) of the six simple types into
 * GeoJSON. Z/M ordinates are read past and dropped.
 */
export function wkbToGeometry(wkb: Uint8Array): Geometry {
  const view = new DataView(wkb.buffer, wkb.byteOffset, wkb.byteLength)
  let off = 0
  const read = (): Geometry => {
    const le = view.getUint8(off) === 1
    off += 1
    const raw = view.getUint32(off, le)
    off += 4
    // EWKB flags in the high bits, ISO dimensions as thousands
    const hasZ = (raw & 0x80000000) !== 0 || (raw % 10000 >= 1000 && raw % 10000 < 2000) || raw % 10000 >= 3000
    const hasM = (raw & 0x40000000) !== 0 || (raw % 10000 >= 2000)
    if (raw & 0x20000000) off += 4
    const type = (raw & 0x0fffffff) % 1000
    const dims = 2 + (hasZ ? 1 : 0) + (hasM ? 1 : 0)
    const u32 = (): number => { const v = view.getUint32(off, le); off += 4; return v }
    const pos = (): Position => { const p = [view.getFloat64(off, le), view.getFloat64(off + 8, le)]; off += 8 * dims; return p }
    const points = (): Position[] => { const n = u32(); const ps: Position[] = []; for (let i = 0; i < n; i++) ps.push(pos()); return ps }
    const rings = (): Position[][] => { const n = u32(); const rs: Position[][] = []; for (let i = 0; i < n; i++) rs.push(points()); return rs }
    const parts = <G extends Geometry>(): G[] => { const n = u32(); const gs: G[] = []; for (let i = 0; i < n; i++) gs.push(read() as G); return gs }
    switch (type) {
      case 1: return { type: 'Point', coordinates: pos() }
      case 2: return { type: 'LineString', coordinates: points() }
      case 3: return { type: 'Polygon', coordinates: rings() }
      case 4: return { type: 'MultiPoint', coordinates: parts<{ type: 'Point'; coordinates: Position }>().map((g) => g.coordinates) }
      case 5: return { type: 'MultiLineString', coordinates: parts<{ type: 'LineString'; coordinates: Position[] }>().map((g) => g.coordinates) }
      case 6: return { type: 'MultiPolygon', coordinates: parts<{ type: 'Polygon'; coordinates: Position[][] }>().map((g) => g.coordinates) }
      default: throw new TypeError(`WKB geometry type ${type} is not supported`)
    }
  }
  return read()
}
