/**
 * The coordinate systems phones report in China, to and from WGS84.
 *
 * - GCJ-02 ("Mars coordinates", AMap, Tencent): WGS84 plus a deliberate,
 *   smoothly varying offset, about 500 m around Beijing.
 * - BD-09 (Baidu): GCJ-02 with a further small rotation and shift.
 *
 * The forward transforms (WGS84 → GCJ-02 → BD-09) are the published formulas
 * as gcoord implements them, written out here operation for operation because
 * gcoord.transform spends ~15 µs per call on argument checks and copies, too
 * much for a million-row batch; tests/geocoder-crs.test.ts checks they give
 * gcoord's results to the last bit. The inverses are not closed-form: gcoord's GCJ-02 → WGS84
 * stops iterating at 1e-6° (≈ 0.1 m) and its BD-09 → GCJ-02 is the usual
 * one-step approximation. For a cell boundary that is not good enough, so
 * `toWgs84` inverts the forward transform itself by fixed-point iteration to
 * 1e-10° (≈ 10 µm): the offset changes by a few parts in a thousand per unit of
 * position, so each step gains about three digits and 4–6 steps suffice.
 */
import { GeocoderError, GeocoderErrorCode, assertLonLat } from './errors.ts'

export type Crs = 'wgs84' | 'gcj02' | 'bd09'
export const CRS_VALUES: readonly Crs[] = ['wgs84', 'gcj02', 'bd09']

/** Krasovsky 1940 semi-major axis and eccentricity², as GCJ-02 uses them. */
const KRASOVSKY_A = 6378245
const KRASOVSKY_EE = 0.006693421622965823
const BAIDU_FACTOR = (Math.PI * 3000.0) / 180.0

/** Stop when the forward image is this close to the target, in degrees (≈ 10 µm). */
const CONVERGED_DEG = 1e-10
/** Iterations allowed; convergence takes 4–6 inside China. */
const MAX_STEPS = 30

/**
 * Checks a CRS name from a request. Throws GeocoderError `unsupported_crs` (field 'crs').
 *
 * @example parseCrs('GCJ02') // 'gcj02'
 */
export function parseCrs(value: unknown): Crs {
  const v = typeof value === 'string' ? value.toLowerCase().replace(/[^a-z0-9]/g, '') : ''
  const crs = v === '' || v === 'wgs84' || v === 'epsg4326' ? 'wgs84' : v === 'gcj02' ? 'gcj02' : v === 'bd09' || v === 'bd09ll' ? 'bd09' : null
  if (crs === null || (value !== undefined && typeof value !== 'string')) {
    throw new GeocoderError(GeocoderErrorCode.unsupportedCrs, `crs must be one of ${CRS_VALUES.join(', ')}, got ${String(value)}`, 'crs')
  }
  return crs
}

function transformLat(x: number, y: number): number {
  let ret = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x))
  ret += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3
  ret += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3
  ret += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3
  return ret
}

function transformLon(x: number, y: number): number {
  let ret = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x))
  ret += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3
  ret += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3
  ret += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3
  return ret
}

/** WGS84 → GCJ-02 (identity outside the China box, as every implementation does). */
export function wgs84ToGcj02(lon: number, lat: number): [number, number] {
  if (!(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271)) return [lon, lat]
  let dLon = transformLon(lon - 105, lat - 35)
  let dLat = transformLat(lon - 105, lat - 35)
  const radLat = (lat / 180) * Math.PI
  let magic = Math.sin(radLat)
  magic = 1 - KRASOVSKY_EE * magic * magic
  const sqrtMagic = Math.sqrt(magic)
  dLon = (dLon * 180) / ((KRASOVSKY_A / sqrtMagic) * Math.cos(radLat) * Math.PI)
  dLat = (dLat * 180) / (((KRASOVSKY_A * (1 - KRASOVSKY_EE)) / (magic * sqrtMagic)) * Math.PI)
  return [lon + dLon, lat + dLat]
}

/** GCJ-02 → BD-09. */
export function gcj02ToBd09(lon: number, lat: number): [number, number] {
  const z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * BAIDU_FACTOR)
  const theta = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * BAIDU_FACTOR)
  return [z * Math.cos(theta) + 0.0065, z * Math.sin(theta) + 0.006]
}

function forward(lon: number, lat: number, crs: Exclude<Crs, 'wgs84'>): [number, number] {
  const g = wgs84ToGcj02(lon, lat)
  return crs === 'gcj02' ? g : gcj02ToBd09(g[0], g[1])
}

/**
 * WGS84 → `crs`. Throws InvalidCoordinatesError on non-finite or out-of-range input.
 *
 * @example fromWgs84(116.4853, 39.9219, 'gcj02') // ≈ [116.4914, 39.9232]
 */
export function fromWgs84(lon: number, lat: number, crs: Crs): [number, number] {
  assertLonLat(lon, lat)
  return crs === 'wgs84' ? [lon, lat] : forward(lon, lat, crs)
}

/**
 * `crs` → WGS84, to about 10 µm. Throws InvalidCoordinatesError
 * (field 'lon' or 'lat') on non-finite or out-of-range input.
 *
 * @example toWgs84(116.4914, 39.9232, 'gcj02') // ≈ [116.4853, 39.9219]
 */
export function toWgs84(lon: number, lat: number, crs: Crs): [number, number] {
  assertLonLat(lon, lat)
  if (crs === 'wgs84') return [lon, lat]
  if (crs !== 'gcj02' && crs !== 'bd09') parseCrs(crs)
  // Solve forward(w) = (lon, lat): w ← w − (forward(w) − target).
  let x = lon
  let y = lat
  let bestX = x
  let bestY = y
  let bestErr = Infinity
  for (let step = 0; step < MAX_STEPS; step++) {
    const [fx, fy] = forward(x, y, crs)
    const dx = fx - lon
    const dy = fy - lat
    const err = Math.max(Math.abs(dx), Math.abs(dy))
    if (err < bestErr) {
      bestErr = err
      bestX = x
      bestY = y
    }
    if (err <= CONVERGED_DEG) break
    x -= dx
    y -= dy
    // The GCJ-02 offset stops at the edge of China; a target right at that edge
    // can make the iteration jump out of range. Keep the best iterate instead.
    if (!(x >= -180 && x <= 180 && y >= -90 && y <= 90)) break
  }
  return [bestX, bestY]
}
