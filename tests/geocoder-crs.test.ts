/**
 * GCJ-02 and BD-09: the forward formulas are gcoord's to the bit, the inverses
 * round-trip to well under a centimetre, and bad input is refused with a code.
 */
import t from 'tap'
import gcoordModule from 'gcoord'
import { fromWgs84, gcj02ToBd09, parseCrs, toWgs84, wgs84ToGcj02, type Crs } from '../geocoder/crs.ts'
import { distanceM } from '../geocoder/geodesy.ts'
import { GeocoderError, InvalidCoordinatesError } from '../geocoder/errors.ts'
import { seededRandom } from '../geocoder/synthetic-grid.ts'

type Gcoord = typeof import('gcoord').default
const gcoord: Gcoord = ((gcoordModule as unknown as { default?: Gcoord }).default ?? gcoordModule) as Gcoord

/** Random points over Beijing's municipality and a little beyond. */
function beijingPoints(n: number): [number, number][] {
  const rnd = seededRandom(2024)
  return Array.from({ length: n }, () => [115.4 + rnd() * 2.2, 39.4 + rnd() * 1.7] as [number, number])
}

t.test('forward transforms equal gcoord to the last bit', async (t) => {
  let same = 0
  const pts = beijingPoints(2000)
  for (const [lon, lat] of pts) {
    const g = gcoord.transform([lon, lat], gcoord.WGS84, gcoord.GCJ02)
    const b = gcoord.transform([lon, lat], gcoord.WGS84, gcoord.BD09)
    const mine = wgs84ToGcj02(lon, lat)
    const mineB = gcj02ToBd09(mine[0], mine[1])
    if (mine[0] === g[0] && mine[1] === g[1] && mineB[0] === b[0] && mineB[1] === b[1]) same++
  }
  t.equal(same, pts.length)
})

t.test('round trips land within 0.01 m (measured: micrometres)', async (t) => {
  let worst = { gcj02: 0, bd09: 0 }
  for (const [lon, lat] of beijingPoints(2000)) {
    for (const crs of ['gcj02', 'bd09'] as const) {
      const [x, y] = fromWgs84(lon, lat, crs)
      const [bx, by] = toWgs84(x, y, crs)
      worst = { ...worst, [crs]: Math.max(worst[crs], distanceM(lon, lat, bx, by)) }
    }
  }
  t.ok(worst.gcj02 < 0.01 && worst.bd09 < 0.01, `worst round trip: GCJ-02 ${worst.gcj02.toExponential(2)} m, BD-09 ${worst.bd09.toExponential(2)} m`)
  t.ok(worst.gcj02 < 1e-4 && worst.bd09 < 1e-4, 'in fact below 0.1 mm')
})

t.test('our inverse beats gcoord’s own', async (t) => {
  const [lon, lat] = [116.4853, 39.9219]
  const [gx, gy] = fromWgs84(lon, lat, 'gcj02')
  const theirs = gcoord.transform([gx, gy], gcoord.GCJ02, gcoord.WGS84)
  const ours = toWgs84(gx, gy, 'gcj02')
  const oursM = distanceM(lon, lat, ours[0], ours[1])
  const theirsM = distanceM(lon, lat, theirs[0], theirs[1])
  t.ok(oursM < 1e-4 && oursM <= theirsM, `ours ${oursM.toExponential(2)} m, gcoord's ${theirsM.toExponential(2)} m`)
})

t.test('offsets at Chaoyang: GCJ-02 ≈ 500 m, BD-09 more', async (t) => {
  const [lon, lat] = [116.4853, 39.9219] // near Chaoyang's centre
  const [gx, gy] = fromWgs84(lon, lat, 'gcj02')
  const [bx, by] = fromWgs84(lon, lat, 'bd09')
  const g = distanceM(lon, lat, gx, gy)
  const b = distanceM(lon, lat, bx, by)
  t.ok(g > 400 && g < 700, `GCJ-02 offset ${g.toFixed(0)} m`)
  t.ok(gx > lon && gy > lat, 'GCJ-02 shifts north-east here')
  t.ok(b > g, `BD-09 offset ${b.toFixed(0)} m`)
  t.same(fromWgs84(lon, lat, 'wgs84'), [lon, lat])
  t.same(toWgs84(lon, lat, 'wgs84'), [lon, lat])
})

t.test('outside China GCJ-02 is the identity', async (t) => {
  t.same(toWgs84(2.35, 48.85, 'gcj02'), [2.35, 48.85])
})

t.test('bad coordinates and CRS names are refused with a code and field', async (t) => {
  const cases: [number, number, Crs, string][] = [
    [NaN, 39.9, 'gcj02', 'lon'],
    [116.4, NaN, 'bd09', 'lat'],
    [Infinity, 39.9, 'wgs84', 'lon'],
    [-181, 39.9, 'gcj02', 'lon'],
    [116.4, 91, 'gcj02', 'lat'],
  ]
  for (const [lon, lat, crs, field] of cases) {
    for (const f of [toWgs84, fromWgs84]) {
      try {
        f(lon, lat, crs)
        t.fail(`${lon}, ${lat} accepted`)
      } catch (err) {
        t.ok(err instanceof InvalidCoordinatesError && err.code === 'invalid_coordinates' && err.field === field, `${f.name}(${lon}, ${lat}): ${field}`)
      }
    }
  }
  t.equal(parseCrs('GCJ-02'), 'gcj02')
  t.equal(parseCrs('BD09'), 'bd09')
  t.equal(parseCrs(undefined), 'wgs84')
  for (const bad of ['utm', 'EPSG:3857', 42]) {
    try {
      parseCrs(bad)
      t.fail(`${String(bad)} accepted`)
    } catch (err) {
      t.ok(err instanceof GeocoderError && err.code === 'unsupported_crs' && err.field === 'crs', String(bad))
    }
  }
  try {
    toWgs84(116.4, 39.9, 'utm' as Crs)
    t.fail('utm accepted')
  } catch (err) {
    t.ok(err instanceof GeocoderError && err.code === 'unsupported_crs')
  }
})
