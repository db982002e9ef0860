/**
 * Cells flattened into typed arrays, sorted by code, so the hot loops read
 * numbers from a few contiguous buffers instead of chasing GeoJSON arrays.
 *
 * Vertices keep their stored order and their exact double values: the
 * PostGIS edge test depends on both (see predicates.ts).
 */
import type { Position } from 'geojson'
import { GeocoderError, GeocoderErrorCode, validLat, validLon } from './errors.ts'
import type { CellRecord } from './types.ts'

export interface CellStore {
  /** Number of cells. */
  readonly n: number
  /** Codes sorted ascending; position = ordinal. */
  readonly codes: readonly string[]
  /** Community and subdistrict code per ordinal (interned: one string per community). */
  readonly communityCodes: readonly string[]
  readonly subdistrictCodes: readonly string[]
  /**
   * Every cell's geometry in one buffer, each cell contiguous so that testing a
   * point touches one or two cache lines. At blobStart[c]:
   * minX, minY, maxX, maxY, polygon count, then per polygon its ring count and
   * per ring its vertex count followed by x0, y0, x1, y1, … (ring closed).
   */
  readonly blob: Float64Array
  readonly blobStart: Uint32Array
  /** Ring r's first x is blob[ringStart[r]]; it has ringVerts[r] vertices, the last equal to the first. */
  readonly ringStart: Uint32Array
  readonly ringVerts: Uint32Array
  /** Polygon p has rings polyRingStart[p] … polyRingStart[p + 1] − 1, the first one exterior. */
  readonly polyRingStart: Uint32Array
  /** Cell c has polygons cellPolyStart[c] … cellPolyStart[c + 1] − 1. */
  readonly cellPolyStart: Uint32Array
  /** minX, minY, maxX, maxY per cell (also at the head of each blob entry). */
  readonly bbox: Float64Array
  /** Bounds of all cells. */
  readonly minX: number
  readonly minY: number
  readonly maxX: number
  readonly maxY: number
}

function bad(code: string, field: string, reason: string): GeocoderError {
  return new GeocoderError(GeocoderErrorCode.invalidCell, `cell ${code}: ${field}: ${reason}`, `${code}:${field}`)
}

function isCode(code: unknown): code is string {
  if (typeof code !== 'string' || code.length !== 15) return false
  for (let i = 0; i < 15; i++) {
    const ch = code.charCodeAt(i)
    if (ch < 48 || ch > 57) return false
  }
  return true
}

/** The polygons of a cell's geometry, or null if it is not a non-empty Polygon/MultiPolygon. */
function polygonsOf(g: CellRecord['geometry'] | undefined): unknown[] | null {
  const parts: unknown = g?.type === 'Polygon' ? [g.coordinates] : g?.type === 'MultiPolygon' ? g.coordinates : null
  return Array.isArray(parts) && parts.length > 0 ? parts : null
}

/**
 * Checks one ring the way PostGIS's geometry input would refuse it (closed,
 * ≥ 4 positions) plus finite WGS84 ranges; returns its vertex count.
 */
function checkRing(code: string, p: number, k: number, ring: unknown): number {
  const field = `geometry.coordinates[${p}][${k}]`
  if (!Array.isArray(ring) || ring.length < 4) throw bad(code, field, 'a ring needs at least 4 positions')
  for (let i = 0; i < ring.length; i++) {
    const pos: unknown = ring[i]
    if (!Array.isArray(pos) || pos.length < 2) throw bad(code, `${field}[${i}]`, 'not a position')
    const x: unknown = pos[0]
    const y: unknown = pos[1]
    if (typeof x !== 'number' || typeof y !== 'number' || !validLon(x) || !validLat(y)) {
      throw bad(code, `${field}[${i}]`, 'coordinates must be finite WGS84 lon/lat')
    }
  }
  const first = ring[0] as Position
  const last = ring[ring.length - 1] as Position
  if (first[0] !== last[0] || first[1] !== last[1]) throw bad(code, field, 'ring is not closed')
  return ring.length
}

/**
 * Validates and flattens cells. Throws GeocoderError `invalid_cell` (bad code,
 * duplicate code, bad geometry) or `empty_grid`.
 */
export function buildCellStore(cells: readonly CellRecord[]): CellStore {
  if (cells.length === 0) throw new GeocoderError(GeocoderErrorCode.emptyGrid, 'no cells to index')
  const records = [...cells].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))
  const n = records.length
  // Pass 1: validate and count, so pass 2 fills exactly sized buffers.
  let nPoly = 0
  let nRing = 0
  let nVert = 0
  for (let c = 0; c < n; c++) {
    const r = records[c]
    if (!isCode(r.code)) throw bad(String(r.code), 'code', 'must be 15 digits')
    if (c > 0 && records[c - 1].code === r.code) throw bad(r.code, 'code', 'duplicate code')
    const parts = polygonsOf(r.geometry)
    if (!parts) throw bad(r.code, 'geometry', 'must be a non-empty Polygon or MultiPolygon')
    for (let p = 0; p < parts.length; p++) {
      const poly = parts[p]
      if (!Array.isArray(poly) || poly.length === 0) throw bad(r.code, `geometry.coordinates[${p}]`, 'empty polygon')
      nPoly++
      for (let k = 0; k < poly.length; k++) {
        nVert += checkRing(r.code, p, k, poly[k])
        nRing++
      }
    }
  }

  const blob = new Float64Array(n * 5 + nPoly + nRing + nVert * 2)
  const blobStart = new Uint32Array(n)
  const ringStart = new Uint32Array(nRing)
  const ringVerts = new Uint32Array(nRing)
  const polyRingStart = new Uint32Array(nPoly + 1)
  const cellPolyStart = new Uint32Array(n + 1)
  const bbox = new Float64Array(n * 4)
  let o = 0
  let ri = 0
  let pi = 0
  let minX = Infinity
  let minY = Infinity
  let maxX = -Infinity
  let maxY = -Infinity
  for (let c = 0; c < n; c++) {
    const parts = polygonsOf(records[c].geometry) as Position[][][]
    cellPolyStart[c] = pi
    blobStart[c] = o
    const head = o
    o += 4
    blob[o++] = parts.length
    let x0 = Infinity
    let y0 = Infinity
    let x1 = -Infinity
    let y1 = -Infinity
    for (let p = 0; p < parts.length; p++) {
      const poly = parts[p]
      polyRingStart[pi++] = ri
      blob[o++] = poly.length
      for (let k = 0; k < poly.length; k++) {
        const ring = poly[k]
        blob[o++] = ring.length
        ringStart[ri] = o
        ringVerts[ri++] = ring.length
        for (let v = 0; v < ring.length; v++) {
          const x = ring[v][0]
          const y = ring[v][1]
          blob[o++] = x
          blob[o++] = y
          if (x < x0) x0 = x
          if (x > x1) x1 = x
          if (y < y0) y0 = y
          if (y > y1) y1 = y
        }
      }
    }
    blob[head] = bbox[4 * c] = x0
    blob[head + 1] = bbox[4 * c + 1] = y0
    blob[head + 2] = bbox[4 * c + 2] = x1
    blob[head + 3] = bbox[4 * c + 3] = y1
    if (x0 < minX) minX = x0
    if (y0 < minY) minY = y0
    if (x1 > maxX) maxX = x1
    if (y1 > maxY) maxY = y1
  }
  polyRingStart[pi] = ri
  cellPolyStart[n] = pi
  const codes = new Array<string>(n)
  const communityCodes = new Array<string>(n)
  const subdistrictCodes = new Array<string>(n)
  const interned = new Map<string, string>()
  const intern = (s: string): string => {
    const known = interned.get(s)
    if (known !== undefined) return known
    interned.set(s, s)
    return s
  }
  for (let c = 0; c < n; c++) {
    const r = records[c]
    codes[c] = r.code
    communityCodes[c] = intern(String(r.communityCode))
    subdistrictCodes[c] = intern(String(r.subdistrictCode))
  }
  return { n, codes, communityCodes, subdistrictCodes, blob, blobStart, ringStart, ringVerts, polyRingStart, cellPolyStart, bbox, minX, minY, maxX, maxY }
}
