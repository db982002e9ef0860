/**
 * Distances in metres between WGS84 lon/lat points, by a local ellipsoidal
 * plane: one degree of longitude is N(φ)·cos φ·π/180 metres and one degree of
 * latitude M(φ)·π/180, with N and M the ellipsoid's prime-vertical and
 * meridional radii of curvature at the latitude φ where the measure is taken.
 *
 * Why not a full geodesic: the geocoder measures thousands of point–edge
 * distances per millisecond, and at the scale of a district the plane is exact
 * enough. With the scales taken at the mid-latitude of the two points, the
 * relative error against the ellipsoidal geodesic is O((d/R)²): measured
 * against Vincenty's inverse around Chaoyang (tests/geocoder-geodesy.test.ts),
 * at most 3e-9 at 100 m, 2e-8 at 5 km and 2e-6 at 50 km — far inside the
 * 0.1 % the geocoder promises. PostGIS's reference, ST_Distance(geography),
 * measures on the spheroid too, so the two agree to that order — except that
 * geography treats an edge as a great-circle arc while geometry (and ST_Covers,
 * and this module) treats it as straight in lon/lat; over a 1 km east–west edge
 * at 40° N the two lines are about 1.5 cm apart.
 */

/** WGS84 semi-major axis, metres. */
const A = 6378137
/** WGS84 flattening. */
const F = 1 / 298.257223563
/** First eccentricity squared. */
const E2 = F * (2 - F)
const RAD = Math.PI / 180

/** Metres per degree of longitude at latitude `lat` (degrees). */
export function metresPerDegLon(lat: number): number {
  const s = Math.sin(lat * RAD)
  return ((A / Math.sqrt(1 - E2 * s * s)) * Math.cos(lat * RAD)) * RAD
}

/** Metres per degree of latitude at latitude `lat` (degrees). */
export function metresPerDegLat(lat: number): number {
  const s = Math.sin(lat * RAD)
  const w = 1 - E2 * s * s
  return ((A * (1 - E2)) / (w * Math.sqrt(w))) * RAD
}

/** Smallest metres-per-degree-of-longitude over the latitudes [lat0, lat1]: at the one farthest from the equator. */
export function minMetresPerDegLon(lat0: number, lat1: number): number {
  const far = Math.min(89.999, Math.max(Math.abs(lat0), Math.abs(lat1)))
  return metresPerDegLon(far)
}

/** Smallest metres-per-degree-of-latitude anywhere (M grows towards the poles, so at the equator). */
export const MIN_METRES_PER_DEG_LAT = metresPerDegLat(0)

/**
 * Distance in metres between two points, scales taken at their mid-latitude.
 *
 * @example distanceM(116.40, 39.90, 116.41, 39.90) // ≈ 855.2
 */
export function distanceM(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const mid = (lat1 + lat2) / 2
  const dx = (lon2 - lon1) * metresPerDegLon(mid)
  const dy = (lat2 - lat1) * metresPerDegLat(mid)
  return Math.sqrt(dx * dx + dy * dy)
}

/**
 * Parameter t ∈ [0, 1] of the point of segment a→b nearest to p, in a plane
 * scaled by kx, ky metres per degree. Coordinates are taken relative to p so
 * the subtraction is exact for nearby points.
 */
export function nearestT(px: number, py: number, ax: number, ay: number, bx: number, by: number, kx: number, ky: number): number {
  const ux = (ax - px) * kx
  const uy = (ay - py) * ky
  const dx = (bx - ax) * kx
  const dy = (by - ay) * ky
  const len2 = dx * dx + dy * dy
  if (len2 === 0) return 0
  const t = -(ux * dx + uy * dy) / len2
  return t <= 0 ? 0 : t >= 1 ? 1 : t
}

/** Squared distance in the kx/ky-scaled plane from p to segment a→b (metres²). */
export function segmentDist2(px: number, py: number, ax: number, ay: number, bx: number, by: number, kx: number, ky: number): number {
  const ux = (ax - px) * kx
  const uy = (ay - py) * ky
  const dx = (bx - ax) * kx
  const dy = (by - ay) * ky
  const len2 = dx * dx + dy * dy
  let t = len2 === 0 ? 0 : -(ux * dx + uy * dy) / len2
  t = t <= 0 ? 0 : t >= 1 ? 1 : t
  const cx = ux + t * dx
  const cy = uy + t * dy
  return cx * cx + cy * cy
}
