/** Small planar helpers on lon/lat rings: enough for label points and framing, not for measurement. */
import type { Position } from 'geojson'
import type { CellGeometry } from '../types.ts'

/** Area-weighted centroid of a polygon's outer ring(s) (shoelace formula, in degrees). */
export function centroid(g: CellGeometry): [number, number] {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates
  let a = 0
  let cx = 0
  let cy = 0
  for (const poly of polys) {
    const ring = poly[0]
    // Relative to the first vertex, so the products stay small and exact enough.
    const [x0, y0] = ring[0]
    for (let i = 0; i + 1 < ring.length; i++) {
      const x1 = ring[i][0] - x0
      const y1 = ring[i][1] - y0
      const x2 = ring[i + 1][0] - x0
      const y2 = ring[i + 1][1] - y0
      const cross = x1 * y2 - x2 * y1
      a += cross
      cx += (x1 + x2) * cross + 3 * x0 * cross
      cy += (y1 + y2) * cross + 3 * y0 * cross
    }
  }
  if (a === 0) {
    const p = polys[0][0][0]
    return [p[0], p[1]]
  }
  return [cx / (3 * a), cy / (3 * a)]
}

export type BBox = [number, number, number, number]

export function bbox(g: CellGeometry): BBox {
  const b: BBox = [Infinity, Infinity, -Infinity, -Infinity]
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates
  for (const poly of polys) for (const p of poly[0]) extend(b, p)
  return b
}

export function extend(b: BBox, p: Position): void {
  if (p[0] < b[0]) b[0] = p[0]
  if (p[1] < b[1]) b[1] = p[1]
  if (p[0] > b[2]) b[2] = p[0]
  if (p[1] > b[3]) b[3] = p[1]
}

/** Ray casting: is the point inside the polygon (holes respected)? */
export function contains(g: CellGeometry, x: number, y: number): boolean {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates
  for (const poly of polys) {
    let inside = false
    for (const ring of poly) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i]
        const [xj, yj] = ring[j]
        if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside
      }
    }
    if (inside) return true
  }
  return false
}

/**
 * Where to put the label of a group of cells: the member cell whose centroid is
 * nearest the group's area-weighted centre, so the label is always on the group
 * even when the group is crescent-shaped.
 */
export function labelPoint(members: { centroid: [number, number]; area: number }[]): [number, number] {
  let w = 0
  let x = 0
  let y = 0
  for (const m of members) {
    w += m.area
    x += m.centroid[0] * m.area
    y += m.centroid[1] * m.area
  }
  if (w === 0) return members[0].centroid
  x /= w
  y /= w
  let best = members[0].centroid
  let bestD = Infinity
  for (const m of members) {
    const d = (m.centroid[0] - x) ** 2 + (m.centroid[1] - y) ** 2
    if (d < bestD) {
      bestD = d
      best = m.centroid
    }
  }
  return best
}
