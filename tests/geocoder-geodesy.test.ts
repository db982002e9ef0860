/**
 * The local ellipsoidal plane against Vincenty's inverse on WGS84: the
 * accuracy the geocoder's documentation promises (< 0.1 %; in fact far less).
 */
import t from 'tap'
import { distanceM, metresPerDegLat, metresPerDegLon, segmentDist2 } from '../geocoder/geodesy.ts'
import { segmentRectDist2 } from '../geocoder/outside.ts'
import { seededRandom } from '../geocoder/synthetic-grid.ts'

/** Vincenty (1975) inverse on WGS84, metres; converges to ~0.1 mm for these distances. */
function vincenty(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const a = 6378137
  const f = 1 / 298.257223563
  const b = a * (1 - f)
  const rad = Math.PI / 180
  const L = (lon2 - lon1) * rad
  const U1 = Math.atan((1 - f) * Math.tan(lat1 * rad))
  const U2 = Math.atan((1 - f) * Math.tan(lat2 * rad))
  const sinU1 = Math.sin(U1)
  const cosU1 = Math.cos(U1)
  const sinU2 = Math.sin(U2)
  const cosU2 = Math.cos(U2)
  let lambda = L
  let sinSigma = 0
  let cosSigma = 1
  let sigma = 0
  let cos2Alpha = 1
  let cos2SigmaM = 0
  for (let i = 0; i < 200; i++) {
    const sinL = Math.sin(lambda)
    const cosL = Math.cos(lambda)
    sinSigma = Math.sqrt((cosU2 * sinL) ** 2 + (cosU1 * sinU2 - sinU1 * cosU2 * cosL) ** 2)
    if (sinSigma === 0) return 0
    cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosL
    sigma = Math.atan2(sinSigma, cosSigma)
    const sinAlpha = (cosU1 * cosU2 * sinL) / sinSigma
    cos2Alpha = 1 - sinAlpha * sinAlpha
    cos2SigmaM = cos2Alpha === 0 ? 0 : cosSigma - (2 * sinU1 * sinU2) / cos2Alpha
    const C = (f / 16) * cos2Alpha * (4 + f * (4 - 3 * cos2Alpha))
    const prev = lambda
    lambda = L + (1 - C) * f * sinAlpha * (sigma + C * sinSigma * (cos2SigmaM + C * cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM)))
    if (Math.abs(lambda - prev) < 1e-13) break
  }
  const u2 = (cos2Alpha * (a * a - b * b)) / (b * b)
  const A = 1 + (u2 / 16384) * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)))
  const B = (u2 / 1024) * (256 + u2 * (-128 + u2 * (74 - 47 * u2)))
  const dSigma =
    B * sinSigma * (cos2SigmaM + (B / 4) * (cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM) - (B / 6) * cos2SigmaM * (-3 + 4 * sinSigma * sinSigma) * (-3 + 4 * cos2SigmaM * cos2SigmaM)))
  return b * A * (sigma - dSigma)
}

t.test('mid-latitude plane vs Vincenty around Chaoyang', async (t) => {
  const rnd = seededRandom(5)
  const worst: Record<string, number> = { '100 m': 0, '5 km': 0, '50 km': 0 }
  for (const [label, span] of [['100 m', 0.001], ['5 km', 0.05], ['50 km', 0.5]] as const) {
    for (let i = 0; i < 2000; i++) {
      const lon1 = 116.3 + rnd() * 0.4
      const lat1 = 39.8 + rnd() * 0.3
      const ang = rnd() * 2 * Math.PI
      const lon2 = lon1 + span * Math.cos(ang)
      const lat2 = lat1 + span * Math.sin(ang)
      const ref = vincenty(lon1, lat1, lon2, lat2)
      worst[label] = Math.max(worst[label], Math.abs(distanceM(lon1, lat1, lon2, lat2) - ref) / ref)
    }
  }
  t.ok(worst['100 m'] < 1e-7, `≈ 100 m: worst relative error ${worst['100 m'].toExponential(1)}`)
  t.ok(worst['5 km'] < 1e-6, `≈ 5 km: ${worst['5 km'].toExponential(1)}`)
  t.ok(worst['50 km'] < 1e-5, `≈ 50 km: ${worst['50 km'].toExponential(1)} (the documented bound is 0.1 %)`)
})

t.test('scales at 40° N', async (t) => {
  t.ok(Math.abs(metresPerDegLon(40) - 85_394.6) < 1, String(metresPerDegLon(40)))
  t.ok(Math.abs(metresPerDegLat(40) - 111_034.6) < 1, String(metresPerDegLat(40)))
})

t.test('segment distances', async (t) => {
  // Unit square plane: point above the middle, beyond an end, on the segment.
  t.equal(segmentDist2(0.5, 1, 0, 0, 1, 0, 1, 1), 1)
  t.equal(segmentDist2(2, 0, 0, 0, 1, 0, 1, 1), 1)
  t.equal(segmentDist2(0.25, 0, 0, 0, 1, 0, 1, 1), 0)
  t.equal(segmentDist2(3, 4, 0, 0, 0, 0, 1, 1), 25, 'a zero-length segment is its point')
  // Segment against the rectangle [-1, 1]²: crossing, inside, apart, corner.
  t.equal(segmentRectDist2(-5, 0, 5, 0, 1, 1), 0)
  t.equal(segmentRectDist2(0, 0, 0.5, 0.5, 1, 1), 0)
  t.equal(segmentRectDist2(3, -5, 3, 5, 1, 1), 4)
  t.equal(segmentRectDist2(2, 3, 3, 2, 1, 1), 4.5, 'nearest to the corner (1, 1)')
  t.equal(segmentRectDist2(4, 2, 4, 2, 1, 1), 10, 'a point')
})
