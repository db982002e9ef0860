/**
 * A small hand-built grid with one of every edge case, and probe points whose
 * answers follow from the edge rule by hand. Shared by the in-memory, PostGIS
 * and golden tests. All edges are axis-parallel and every probe on an edge is
 * built from the same doubles as the edge, so "on the edge" is exact.
 *
 * Layout, in steps of 0.001° (≈ 85 m east, 111 m north) from (116.49, 39.95):
 *
 *   y 4–5   [M ][N ][M ]            M: one MultiPolygon cell in two parts, N between
 *   y 0–2   [NW][NE]  [R  R  R]  [E  E  E]     four cells round one vertex (1, 1);
 *           [SW][SE]  [R (H) R]  [E ( ) E]     R with a hole filled by cell H;
 *                     [R  R  R]  [E  E  E]     E with an empty hole (a district enclave)
 */
import type { Position } from 'geojson'
import type { CellRecord } from '../types.ts'

export const LON0 = 116.49
export const LAT0 = 39.95
export const STEP = 0.001

/** Vertex (i, j) in grid steps; the same arithmetic everywhere, so shared vertices are identical doubles. */
export function vx(i: number): number {
  return LON0 + i * STEP
}
export function vy(j: number): number {
  return LAT0 + j * STEP
}

/** Counter-clockwise closed ring of the box [i0, i1] × [j0, j1]. */
export function box(i0: number, j0: number, i1: number, j1: number): Position[] {
  return [[vx(i0), vy(j0)], [vx(i1), vy(j0)], [vx(i1), vy(j1)], [vx(i0), vy(j1)], [vx(i0), vy(j0)]]
}

const cell = (code: string, geometry: CellRecord['geometry']): CellRecord => ({
  code,
  communityCode: code.slice(0, 12),
  subdistrictCode: code.slice(0, 9),
  geometry,
})

/** Codes chosen so that "smallest code" is not simply "first in reading order". */
export const CODES = {
  SW: '110105001001004',
  SE: '110105001001002',
  NW: '110105001001003',
  NE: '110105001001001',
  R: '110105001002001',
  H: '110105001002002',
  E: '110105001003001',
  M: '110105002001001',
  N: '110105002001002',
} as const

export function edgeGrid(): CellRecord[] {
  return [
    cell(CODES.SW, { type: 'Polygon', coordinates: [box(0, 0, 1, 1)] }),
    cell(CODES.SE, { type: 'Polygon', coordinates: [box(1, 0, 2, 1)] }),
    cell(CODES.NW, { type: 'Polygon', coordinates: [box(0, 1, 1, 2)] }),
    cell(CODES.NE, { type: 'Polygon', coordinates: [box(1, 1, 2, 2)] }),
    // The hole is listed clockwise, as GeoJSON wants; H lists the same vertices counter-clockwise.
    cell(CODES.R, { type: 'Polygon', coordinates: [box(3, 0, 6, 3), box(4, 1, 5, 2).reverse()] }),
    cell(CODES.H, { type: 'Polygon', coordinates: [box(4, 1, 5, 2)] }),
    cell(CODES.E, { type: 'Polygon', coordinates: [box(7, 0, 10, 3), box(8, 1, 9, 2).reverse()] }),
    cell(CODES.M, { type: 'MultiPolygon', coordinates: [[box(0, 4, 1, 5)], [box(2, 4, 3, 5)]] }),
    cell(CODES.N, { type: 'Polygon', coordinates: [box(1, 4, 2, 5)] }),
  ]
}

export interface Probe {
  name: string
  lon: number
  lat: number
  /** Expected cell code, or null for outside. */
  code: string | null
  snapped: boolean
  /** Expected distance in metres, when the test pins it (±0.5 %). */
  distanceM?: number
}

/** Metres per degree near the grid (for expected distances; the tests allow 0.5 %). */
const M_LON = 85_456
const M_LAT = 111_034

/** Degrees of longitude / latitude for `m` metres near the grid. */
const dLon = (m: number): number => m / M_LON
const dLat = (m: number): number => m / M_LAT

export function edgeProbes(): Probe[] {
  const mid = (a: number, b: number): number => (a + b) / 2
  return [
    { name: 'inside SW', lon: mid(vx(0), vx(1)), lat: mid(vy(0), vy(1)), code: CODES.SW, snapped: false, distanceM: 0 },
    { name: 'inside NE', lon: mid(vx(1), vx(2)), lat: mid(vy(1), vy(2)), code: CODES.NE, snapped: false },
    { name: 'shared edge SW|SE → SE (002 < 004)', lon: vx(1), lat: mid(vy(0), vy(1)), code: CODES.SE, snapped: false },
    { name: 'shared edge SW|NW → NW (003 < 004)', lon: mid(vx(0), vx(1)), lat: vy(1), code: CODES.NW, snapped: false },
    { name: 'shared edge NW|NE → NE', lon: vx(1), lat: mid(vy(1), vy(2)), code: CODES.NE, snapped: false },
    { name: 'vertex shared by four cells → NE (001)', lon: vx(1), lat: vy(1), code: CODES.NE, snapped: false },
    { name: 'vertex shared by SW and SE on the outer boundary → SE', lon: vx(1), lat: vy(0), code: CODES.SE, snapped: false },
    { name: 'outer boundary of SW → inside', lon: mid(vx(0), vx(1)), lat: vy(0), code: CODES.SW, snapped: false, distanceM: 0 },
    { name: 'outer corner of SW → inside', lon: vx(0), lat: vy(0), code: CODES.SW, snapped: false },
    { name: 'inside R, outside its hole', lon: vx(3) + dLon(20), lat: mid(vy(0), vy(3)), code: CODES.R, snapped: false },
    { name: 'in the hole → H', lon: mid(vx(4), vx(5)), lat: mid(vy(1), vy(2)), code: CODES.H, snapped: false },
    { name: 'on the hole boundary → R (smaller than H)', lon: vx(4), lat: mid(vy(1), vy(2)), code: CODES.R, snapped: false },
    { name: 'hole corner → R', lon: vx(5), lat: vy(2), code: CODES.R, snapped: false },
    { name: 'first part of MultiPolygon M', lon: mid(vx(0), vx(1)), lat: mid(vy(4), vy(5)), code: CODES.M, snapped: false },
    { name: 'second part of MultiPolygon M', lon: mid(vx(2), vx(3)), lat: mid(vy(4), vy(5)), code: CODES.M, snapped: false },
    { name: 'N between the parts of M', lon: mid(vx(1), vx(2)), lat: mid(vy(4), vy(5)), code: CODES.N, snapped: false },
    { name: 'edge M|N → M', lon: vx(2), lat: mid(vy(4), vy(5)), code: CODES.M, snapped: false },
    { name: 'empty hole of E, centre: 42.7 m from E → outside', lon: mid(vx(8), vx(9)), lat: mid(vy(1), vy(2)), code: null, snapped: false, distanceM: 0.0005 * M_LON },
    { name: 'empty hole of E, 10 m from its west side → snapped to E', lon: vx(8) + dLon(10), lat: mid(vy(1), vy(2)), code: CODES.E, snapped: true, distanceM: 10 },
    { name: '20 m south of SW → snapped', lon: mid(vx(0), vx(1)), lat: vy(0) - dLat(20), code: CODES.SW, snapped: true, distanceM: 20 },
    { name: '20 m south of the SW|SE vertex → tie, SE', lon: vx(1), lat: vy(0) - dLat(20), code: CODES.SE, snapped: true, distanceM: 20 },
    { name: '29 m west of NW → snapped', lon: vx(0) - dLon(29), lat: mid(vy(1), vy(2)), code: CODES.NW, snapped: true, distanceM: 29 },
    { name: '31 m west of NW → outside', lon: vx(0) - dLon(31), lat: mid(vy(1), vy(2)), code: null, snapped: false, distanceM: 31 },
    { name: 'between SE and R (gap 85 m), 40 m from SE', lon: vx(2) + dLon(40), lat: mid(vy(0), vy(1)), code: null, snapped: false, distanceM: 40 },
    { name: '1 km south of SE → outside', lon: mid(vx(1), vx(2)), lat: vy(0) - dLat(1000), code: null, snapped: false, distanceM: 1000 },
    { name: '50 km north → outside', lon: vx(5), lat: vy(5) + dLat(50_000), code: null, snapped: false },
  ]
}
