/**
 * Conversions between GeoJSON cells and the lattice arrangement, and the
 * small geometric helpers every operation needs (areas, reading order,
 * stitching new vertices into neighbours).
 */
import type { LineString, Polygon, Position } from 'geojson'
import { area as turfArea } from '@turf/turf'
import { arrange, fromLattice, insideRings, interiorPoint, ringArea2, toLattice, type Face, type LPoint, type Path } from './planar.ts'
import { RedrawError, RedrawErrorCode, type CellGeometry, type RedrawCell } from './types.ts'

/** Rings of a cell on the lattice, without the closing point. */
export function latticeRings(g: CellGeometry): LPoint[][] {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates
  return polys.flatMap((p) => p.map((ring) => {
    const pts = ring.map(toLattice)
    if (pts.length > 1 && pts[0][0] === pts[pts.length - 1][0] && pts[0][1] === pts[pts.length - 1][1]) pts.pop()
    return pts
  }))
}

export const cellPaths = (g: CellGeometry): Path[] => latticeRings(g).map((points) => ({ points, closed: true, fixed: true }))

const closeRing = (r: LPoint[]): Position[] => [...r, r[0]].map(fromLattice)

/** A face as a GeoJSON Polygon (RFC 7946: exterior counter-clockwise, holes clockwise). */
export function faceToPolygon(f: Face): Polygon {
  const holes = f.holes.map((h) => (ringArea2(h) > 0 ? [...h].reverse() : h))
  return { type: 'Polygon', coordinates: [closeRing(f.shell), ...holes.map(closeRing)] }
}

/** One face: a Polygon; several: a MultiPolygon. */
export function facesToGeometry(faces: Face[]): CellGeometry {
  if (faces.length === 1) return faceToPolygon(faces[0])
  return { type: 'MultiPolygon', coordinates: faces.map((f) => faceToPolygon(f).coordinates) }
}

/** Geodesic area in m² (spherical, as Turf computes it; PostGIS's spheroid differs by < 0.5 %). */
export const areaM2 = (g: CellGeometry): number => turfArea(g)

/** Is a lattice point inside the cell (not on its boundary)? */
export const insideCell = (x: number, y: number, rings: LPoint[][]): boolean => insideRings(x, y, rings)

/** A point inside the cell, in lattice units. */
export const cellInterior = (g: CellGeometry): [number, number] => {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates
  // The first component is the one the cell is known by.
  return interiorPoint(latticeRings({ type: 'Polygon', coordinates: polys[0] }))
}

/**
 * Orders new cells the way codes are given out: rows north to south, west to
 * east inside a row. A row is as tall as half a typical cell.
 */
export function readingOrder<T>(items: T[], geometry: (t: T) => CellGeometry): T[] {
  const pts = items.map((t) => cellInterior(geometry(t)))
  const sizes = items.map((t) => Math.sqrt(Math.abs(latticeRings(geometry(t)).reduce((s, r) => s + ringArea2(r), 0)) / 2))
  const band = Math.max(1, (sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length)) / 2)
  const top = Math.max(...pts.map((p) => p[1]))
  return items
    .map((t, i) => ({ t, row: Math.floor((top - pts[i][1]) / band), x: pts[i][0] }))
    .sort((a, b) => a.row - b.row || a.x - b.x)
    .map((e) => e.t)
}

/**
 * A drawn line on the lattice, checked: at least two distinct points, finite
 * coordinates, and simple (it neither crosses nor doubles back on itself).
 */
export function checkedLine(line: LineString | undefined, field: string, closed = false): LPoint[] {
  const coords = line?.coordinates
  if (!Array.isArray(coords) || coords.some((p) => !Array.isArray(p) || !Number.isFinite(p[0]) || !Number.isFinite(p[1]))) {
    throw new RedrawError(RedrawErrorCode.invalidLine, 'a line is a list of [longitude, latitude] positions', field)
  }
  const pts: LPoint[] = []
  for (const p of coords.map(toLattice)) {
    const last = pts[pts.length - 1]
    if (!last || last[0] !== p[0] || last[1] !== p[1]) pts.push(p)
  }
  if (closed && pts.length > 1 && pts[0][0] === pts[pts.length - 1][0] && pts[0][1] === pts[pts.length - 1][1]) pts.pop()
  if (pts.length < (closed ? 3 : 2)) {
    throw new RedrawError(closed ? RedrawErrorCode.invalidPolygon : RedrawErrorCode.invalidLine,
      closed ? 'the polygon needs at least 3 distinct corners' : 'the line needs at least 2 distinct positions', field)
  }
  const where = selfIntersection(pts, closed)
  if (where) {
    throw new RedrawError(closed ? RedrawErrorCode.invalidPolygon : RedrawErrorCode.selfIntersectingLine,
      `the ${closed ? 'polygon' : 'line'} crosses itself near [${fromLattice(where).join(', ')}]`, field)
  }
  return pts
}

/** The first point where a path touches itself other than at consecutive segments' shared end, or null. */
export function selfIntersection(pts: LPoint[], closed: boolean): LPoint | null {
  const n = pts.length
  const segs = closed ? n : n - 1
  const seg = (i: number): [LPoint, LPoint] => [pts[i], pts[(i + 1) % n]]
  const o = (a: LPoint, b: LPoint, c: LPoint): number => Math.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
  const onSeg = (p: LPoint, a: LPoint, b: LPoint): boolean =>
    o(a, b, p) === 0 && Math.min(a[0], b[0]) <= p[0] && p[0] <= Math.max(a[0], b[0]) && Math.min(a[1], b[1]) <= p[1] && p[1] <= Math.max(a[1], b[1])
  for (let i = 0; i < segs; i++) {
    for (let j = i + 1; j < segs; j++) {
      const [a, b] = seg(i)
      const [c, d] = seg(j)
      const adjacent = j === i + 1 || (closed && i === 0 && j === segs - 1)
      if (adjacent) {
        // Consecutive segments share one end; they may not fold back over each other.
        const shared = j === i + 1 ? b : a
        const farI = j === i + 1 ? a : b
        const farJ = j === i + 1 ? d : c
        if (o(farI, shared, farJ) === 0 && ((farJ[0] - shared[0]) * (farI[0] - shared[0]) + (farJ[1] - shared[1]) * (farI[1] - shared[1])) > 0) return shared
        continue
      }
      const o1 = o(a, b, c)
      const o2 = o(a, b, d)
      const o3 = o(c, d, a)
      const o4 = o(c, d, b)
      if (o1 * o2 < 0 && o3 * o4 < 0) return a
      if (onSeg(c, a, b)) return c
      if (onSeg(d, a, b)) return d
      if (onSeg(a, c, d)) return a
      if (onSeg(b, c, d)) return b
    }
  }
  return null
}

/** The faces of `rings ∪ blades` that lie inside the region bounded by `rings`. */
export function facesInside(rings: LPoint[][], blades: Path[]): Face[] {
  const arr = arrange([...rings.map((points) => ({ points, closed: true, fixed: true })), ...blades])
  return arr.faces.filter((f) => insideRings(f.inside[0], f.inside[1], rings))
}

/**
 * Puts the given new vertices into the rings of neighbouring cells where they
 * lie on an edge (within one lattice unit: the rounding of a new intersection),
 * so the neighbours share every vertex of the new boundary. Returns the
 * neighbours that changed.
 */
export function stitch(neighbours: RedrawCell[], points: LPoint[]): RedrawCell[] {
  if (!points.length) return []
  const changed: RedrawCell[] = []
  for (const n of neighbours) {
    let touched = false
    const polys = n.geometry.type === 'Polygon' ? [n.geometry.coordinates] : n.geometry.coordinates
    const out = polys.map((poly) => poly.map((ring) => {
      const pts = ring.map(toLattice)
      const res: LPoint[] = [pts[0]]
      for (let i = 1; i < pts.length; i++) {
        const a = pts[i - 1]
        const b = pts[i]
        const dx = b[0] - a[0]
        const dy = b[1] - a[1]
        const len2 = dx * dx + dy * dy
        const on = points
          .filter((p) => {
            if ((p[0] === a[0] && p[1] === a[1]) || (p[0] === b[0] && p[1] === b[1])) return false
            const t = (p[0] - a[0]) * dx + (p[1] - a[1]) * dy
            if (t <= 0 || t >= len2) return false
            const cross = dx * (p[1] - a[1]) - dy * (p[0] - a[0])
            return cross * cross <= len2
          })
          .sort((p, q) => ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) - ((q[0] - a[0]) * dx + (q[1] - a[1]) * dy))
        if (on.length) touched = true
        res.push(...on, b)
      }
      return res.map(fromLattice)
    }))
    if (touched) {
      changed.push({ ...n, geometry: n.geometry.type === 'Polygon' ? { type: 'Polygon', coordinates: out[0] } : { type: 'MultiPolygon', coordinates: out } })
    }
  }
  return changed
}

/** Vertices of `after` that are not vertices of `before`: what neighbours may need. */
export function newVertices(before: CellGeometry[], after: CellGeometry[]): LPoint[] {
  const had = new Set(before.flatMap((g) => latticeRings(g).flat().map((p) => `${p[0]},${p[1]}`)))
  const seen = new Set<string>()
  const out: LPoint[] = []
  for (const p of after.flatMap((g) => latticeRings(g).flat())) {
    const k = `${p[0]},${p[1]}`
    if (had.has(k) || seen.has(k)) continue
    seen.add(k)
    out.push(p)
  }
  return out
}

/** Bounding box in lattice units: [minX, minY, maxX, maxY]. */
export function latticeBBox(g: CellGeometry): [number, number, number, number] {
  const pts = latticeRings(g).flat()
  return [Math.min(...pts.map((p) => p[0])), Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[1]))]
}
