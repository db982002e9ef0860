/**
 * WGS84 WKB → tile geometry, doing what PostGIS's ST_AsMVTGeom does, in the same
 * order, so the JavaScript renderer's tiles match ST_AsMVT's within a unit:
 * project to tile units, drop points closer than half a unit, Douglas–Peucker at
 * half a unit, clip to the tile grown by the buffer (and half a unit), snap to the
 * integer grid (round half to even, as rint), drop what collapsed, and wind
 * polygons as the MVT spec wants (exterior rings clockwise on screen, y down).
 * Self-intersections that snapping may create are not repaired (ST_AsMVTGeom runs
 * wagyu for that); renderers draw them alike.
 */
import { EXTENT, BUFFER, latToMercY, lonToMercX, tileBounds, type TileCoord } from './tile-math.ts'

export const GEOM_POINT = 1
export const GEOM_LINE = 2
export const GEOM_POLYGON = 3

/** Integer tile coordinates, flat [x0, y0, x1, y1, …]; rings are open (no repeated first point). */
export type TileGeometry =
  | { type: typeof GEOM_POINT; parts: number[][] }
  | { type: typeof GEOM_LINE; parts: number[][] }
  | { type: typeof GEOM_POLYGON; parts: number[][] }

/** lon/lat → tile units (floating), for one tile. */
export interface Projection {
  x(lon: number): number
  y(lat: number): number
}

export function tileProjection(t: TileCoord, extent = EXTENT): Projection {
  const [xmin, , xmax, ymax] = tileBounds(t)
  const scale = extent / (xmax - xmin)
  return {
    x: (lon) => (lonToMercX(lon) - xmin) * scale,
    y: (lat) => (ymax - latToMercY(lat)) * scale,
  }
}

interface Parsed {
  kind: 1 | 2 | 3
  /** points: one part of all points; lines: one part each; polygons: rings, closed as in WKB */
  polygons: number[][][]
}

class WkbReader {
  private off = 0
  private little = true
  private readonly view: DataView
  constructor(bytes: Uint8Array, private readonly p: Projection) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }
  private u32(): number {
    const v = this.view.getUint32(this.off, this.little)
    this.off += 4
    return v
  }
  private f64(): number {
    const v = this.view.getFloat64(this.off, this.little)
    this.off += 8
    return v
  }
  private header(): number {
    this.little = this.view.getUint8(this.off++) === 1
    const type = this.u32()
    if (type > 7) throw new Error(`WKB type ${type}: only 2D geometries are tiled`)
    return type
  }
  private points(n: number): number[] {
    const out = new Array<number>(2 * n)
    for (let i = 0; i < n; i++) {
      out[2 * i] = this.p.x(this.f64())
      out[2 * i + 1] = this.p.y(this.f64())
    }
    return out
  }
  private rings(): number[][] {
    const n = this.u32()
    const rings: number[][] = []
    for (let i = 0; i < n; i++) rings.push(this.points(this.u32()))
    return rings
  }
  read(): Parsed {
    const type = this.header()
    switch (type) {
      case 1: return { kind: 1, polygons: [[this.points(1)]] }
      case 2: return { kind: 2, polygons: [[this.points(this.u32())]] }
      case 3: return { kind: 3, polygons: [this.rings()] }
      case 4: {
        const n = this.u32()
        const pts: number[] = []
        for (let i = 0; i < n; i++) {
          this.header()
          pts.push(...this.points(1))
        }
        return { kind: 1, polygons: [[pts]] }
      }
      case 5: {
        const n = this.u32()
        const lines: number[][] = []
        for (let i = 0; i < n; i++) {
          this.header()
          lines.push(this.points(this.u32()))
        }
        return { kind: 2, polygons: [lines] }
      }
      case 6: {
        const n = this.u32()
        const polys: number[][][] = []
        for (let i = 0; i < n; i++) {
          this.header()
          polys.push(this.rings())
        }
        return { kind: 3, polygons: polys }
      }
      default: throw new Error(`WKB type ${type} (geometry collection) is not tiled`)
    }
  }
}

/** Drops points within `tol` of the last kept one; the last point replaces a kept one it nearly repeats. */
function removeRepeated(a: number[], tol: number, minPoints: number): number[] {
  const n = a.length / 2
  if (n <= minPoints) return a
  const tol2 = tol * tol
  const out: number[] = [a[0], a[1]]
  for (let i = 1; i < n; i++) {
    const x = a[2 * i]
    const y = a[2 * i + 1]
    const dx = x - out[out.length - 2]
    const dy = y - out[out.length - 1]
    if (dx * dx + dy * dy <= tol2) {
      if (i < n - 1) continue
      if (out.length > 2) out.length -= 2
    }
    out.push(x, y)
  }
  return out
}

function segDist2(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  let dx = bx - ax
  let dy = by - ay
  if (dx !== 0 || dy !== 0) {
    const t = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)
    if (t > 1) { ax = bx; ay = by } else if (t > 0) { ax += dx * t; ay += dy * t }
  }
  dx = px - ax
  dy = py - ay
  return dx * dx + dy * dy
}

/** Douglas–Peucker with tolerance `tol`; first and last points stay. */
function simplify(a: number[], tol: number): number[] {
  const n = a.length / 2
  if (n <= 2) return a
  const keep = new Uint8Array(n)
  keep[0] = 1
  keep[n - 1] = 1
  const tol2 = tol * tol
  const stack: number[] = [0, n - 1]
  while (stack.length) {
    const last = stack.pop() as number
    const first = stack.pop() as number
    let maxD = -1
    let idx = -1
    for (let i = first + 1; i < last; i++) {
      const d = segDist2(a[2 * i], a[2 * i + 1], a[2 * first], a[2 * first + 1], a[2 * last], a[2 * last + 1])
      if (d > maxD) { maxD = d; idx = i }
    }
    if (idx >= 0 && maxD > tol2) {
      keep[idx] = 1
      stack.push(first, idx, idx, last)
    }
  }
  const out: number[] = []
  for (let i = 0; i < n; i++) if (keep[i]) out.push(a[2 * i], a[2 * i + 1])
  return out
}

type Box = [number, number, number, number]

function bboxOf(parts: number[][][]): Box {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity
  for (const poly of parts) {
    for (const a of poly) {
      for (let i = 0; i < a.length; i += 2) {
        if (a[i] < x0) x0 = a[i]
        if (a[i] > x1) x1 = a[i]
        if (a[i + 1] < y0) y0 = a[i + 1]
        if (a[i + 1] > y1) y1 = a[i + 1]
      }
    }
  }
  return [x0, y0, x1, y1]
}

/** Sutherland–Hodgman against an axis-aligned box; `ring` and the result are open. */
function clipRing(ring: number[], b: Box): number[] {
  let pts = ring
  for (let edge = 0; edge < 4 && pts.length; edge++) {
    const axis = edge % 2 // 0: x, 1: y
    const limit = b[edge]
    const keepGreater = edge < 2
    const inside = (v: number): boolean => (keepGreater ? v >= limit : v <= limit)
    const out: number[] = []
    const n = pts.length / 2
    for (let i = 0; i < n; i++) {
      const cx = pts[2 * i], cy = pts[2 * i + 1]
      const j = (i + n - 1) % n
      const px = pts[2 * j], py = pts[2 * j + 1]
      const cIn = inside(axis === 0 ? cx : cy)
      const pIn = inside(axis === 0 ? px : py)
      if (cIn !== pIn) {
        const t = axis === 0 ? (limit - px) / (cx - px) : (limit - py) / (cy - py)
        if (axis === 0) out.push(limit, py + (cy - py) * t)
        else out.push(px + (cx - px) * t, limit)
      }
      if (cIn) out.push(cx, cy)
    }
    pts = out
  }
  return pts
}

/** Liang–Barsky per segment, joining consecutive inside pieces into lines. */
function clipLine(a: number[], b: Box): number[][] {
  const out: number[][] = []
  let cur: number[] | null = null
  for (let i = 0; i + 3 < a.length; i += 2) {
    const x0 = a[i], y0 = a[i + 1], x1 = a[i + 2], y1 = a[i + 3]
    const dx = x1 - x0, dy = y1 - y0
    let t0 = 0, t1 = 1
    let ok = true
    for (const [p, q] of [[-dx, x0 - b[0]], [dx, b[2] - x0], [-dy, y0 - b[1]], [dy, b[3] - y0]] as const) {
      if (p === 0) {
        if (q < 0) { ok = false; break }
      } else {
        const r = q / p
        if (p < 0) { if (r > t1) { ok = false; break } if (r > t0) t0 = r } else { if (r < t0) { ok = false; break } if (r < t1) t1 = r }
      }
    }
    if (!ok) { cur = null; continue }
    const sx = x0 + dx * t0, sy = y0 + dy * t0, ex = x0 + dx * t1, ey = y0 + dy * t1
    if (!cur || t0 > 0) {
      cur = [sx, sy]
      out.push(cur)
    }
    cur.push(ex, ey)
    if (t1 < 1) cur = null
  }
  return out
}

/** rint: round half to even, as PostGIS snaps to the grid. */
function rint(v: number): number {
  const r = Math.round(v)
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r
}

/** Rounds and drops consecutive duplicates (and, for rings, a last point equal to the first). */
function snap(a: number[], ring: boolean): number[] {
  const out: number[] = []
  for (let i = 0; i < a.length; i += 2) {
    const x = rint(a[i]), y = rint(a[i + 1])
    const k = out.length
    if (k && out[k - 2] === x && out[k - 1] === y) continue
    out.push(x, y)
  }
  if (ring) {
    while (out.length >= 4 && out[0] === out[out.length - 2] && out[1] === out[out.length - 1]) out.length -= 2
  }
  return out
}

/**
 * Drops ring vertices in line with both neighbours: points along a straight edge, and
 * the zero-width spikes Sutherland–Hodgman leaves along the box where a polygon goes
 * out and comes back (wagyu, in ST_AsMVTGeom, removes the same). Exact on integers.
 */
function dropCollinear(ring: number[]): number[] {
  let pts = ring
  for (let changed = true; changed && pts.length >= 6;) {
    changed = false
    const n = pts.length / 2
    const out: number[] = []
    for (let i = 0; i < n; i++) {
      const j = (i + n - 1) % n
      const k = (i + 1) % n
      const x = pts[2 * i], y = pts[2 * i + 1]
      const cross = (x - pts[2 * j]) * (pts[2 * k + 1] - y) - (y - pts[2 * j + 1]) * (pts[2 * k] - x)
      const same = x === pts[2 * j] && y === pts[2 * j + 1]
      if (cross === 0 || same) {
        changed = true
        continue
      }
      out.push(x, y)
    }
    pts = out
  }
  return pts.length >= 6 ? pts : []
}

/** Twice the signed area in tile units (y down): positive is clockwise on screen, an exterior ring in MVT. */
export function ringArea2(r: number[]): number {
  let s = 0
  const n = r.length / 2
  for (let i = 0, j = n - 1; i < n; j = i++) s += r[2 * j] * r[2 * i + 1] - r[2 * i] * r[2 * j + 1]
  return s
}

function reverseRing(r: number[]): number[] {
  const out = new Array<number>(r.length)
  const n = r.length / 2
  for (let i = 0; i < n; i++) {
    out[2 * i] = r[2 * (n - 1 - i)]
    out[2 * i + 1] = r[2 * (n - 1 - i) + 1]
  }
  return out
}

export interface ClipOptions {
  extent?: number
  buffer?: number
}

/**
 * One row's WKB as tile geometry, or null when nothing of it is left in the tile.
 * @example tileGeometry(wkbBytes, tileProjection({ z: 14, x: 13492, y: 6205 }))
 */
export function tileGeometry(wkb: Uint8Array, proj: Projection, opts: ClipOptions = {}): TileGeometry | null {
  const extent = opts.extent ?? EXTENT
  const buffer = opts.buffer ?? BUFFER
  const half = 0.5
  const parsed = new WkbReader(wkb, proj).read()
  const box: Box = [-buffer - half, -buffer - half, extent + buffer + half, extent + buffer + half]

  if (parsed.kind === GEOM_POINT) {
    const pts = parsed.polygons[0][0]
    const out: number[] = []
    for (let i = 0; i < pts.length; i += 2) {
      if (pts[i] < box[0] || pts[i] > box[2] || pts[i + 1] < box[1] || pts[i + 1] > box[3]) continue
      out.push(rint(pts[i]), rint(pts[i + 1]))
    }
    return out.length ? { type: GEOM_POINT, parts: [out] } : null
  }

  // Like ST_AsMVTGeom, lines and polygons are snapped first and then clipped on the
  // integer grid by the box [-buffer, extent + buffer]: clipping before snapping moves
  // the cut of an edge that runs nearly along the box by many units.
  const ib: Box = [-buffer, -buffer, extent + buffer, extent + buffer]
  const within = (bb: Box, b: Box): boolean => bb[0] >= b[0] && bb[2] <= b[2] && bb[1] >= b[1] && bb[3] <= b[3]
  const apart = (bb: Box, b: Box): boolean => bb[2] < b[0] || bb[0] > b[2] || bb[3] < b[1] || bb[1] > b[3]

  if (parsed.kind === GEOM_LINE) {
    const lines = parsed.polygons[0].map((l) => simplify(removeRepeated(l, half, 2), half)).filter((l) => l.length >= 4)
    if (!lines.length || apart(bboxOf([lines]), box)) return null
    const parts: number[][] = []
    for (const l of lines) {
      const sn = snap(l, false)
      if (sn.length < 4) continue
      if (within(bboxOf([[sn]]), ib)) parts.push(sn)
      else for (const piece of clipLine(sn, ib)) {
        const p = snap(piece, false)
        if (p.length >= 4) parts.push(p)
      }
    }
    return parts.length ? { type: GEOM_LINE, parts } : null
  }

  const polys: number[][][] = []
  for (const rings of parsed.polygons) {
    const kept: number[][] = []
    for (let r = 0; r < rings.length; r++) {
      const s = simplify(removeRepeated(rings[r], half, 4), half)
      if (s.length >= 8) kept.push(s)
      else if (r === 0) break
    }
    if (kept.length) polys.push(kept)
  }
  if (!polys.length || apart(bboxOf(polys), box)) return null
  const parts: number[][] = []
  for (const rings of polys) {
    for (let r = 0; r < rings.length; r++) {
      let ring = snap(rings[r], true)
      if (ring.length >= 6 && !within(bboxOf([[ring]]), ib)) ring = snap(clipRing(ring, ib), true)
      ring = dropCollinear(ring)
      const a = ring.length >= 6 ? ringArea2(ring) : 0
      if (a === 0) {
        if (r === 0) break
        continue
      }
      // exterior clockwise on screen (positive here), holes the other way
      if ((r === 0) !== (a > 0)) ring = reverseRing(ring)
      parts.push(ring)
    }
  }
  return parts.length ? { type: GEOM_POLYGON, parts } : null
}
