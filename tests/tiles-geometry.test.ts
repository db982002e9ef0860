/**
 * The JavaScript tile path without a database: WKB → tile units (projection,
 * simplification, clipping, snapping, winding) and the MVT writer, decoded back
 * with @mapbox/vector-tile, Mapbox's reader that MapLibre uses.
 */
import t from 'tap'
import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { GEOM_LINE, GEOM_POINT, GEOM_POLYGON, ringArea2, tileGeometry, type Projection } from '../server/tiles/geometry.ts'
import { encodeTile, geometryCommands } from '../server/tiles/encode.ts'
import { MERCATOR_HALF, selectionBox, tileAt, tileBounds, tilesCovering, mercXToLon, mercYToLat } from '../server/tiles/tile-math.ts'
import { tileProjection } from '../server/tiles/geometry.ts'

/** A projection that is the identity: WKB coordinates are tile units already. */
const units: Projection = { x: (v) => v, y: (v) => v }

function wkb(type: number, body: (w: (n: number) => void, f: (n: number) => void) => void): Uint8Array {
  const bytes: number[] = []
  const buf = Buffer.alloc(8)
  const u32 = (n: number): void => { buf.writeUInt32LE(n, 0); bytes.push(...buf.subarray(0, 4)) }
  const f64 = (n: number): void => { buf.writeDoubleLE(n, 0); bytes.push(...buf.subarray(0, 8)) }
  bytes.push(1)
  u32(type)
  body(u32, f64)
  return Uint8Array.from(bytes)
}
const point = (x: number, y: number): Uint8Array => wkb(1, (_u, f) => { f(x); f(y) })
const line = (pts: number[][]): Uint8Array => wkb(2, (u, f) => { u(pts.length); for (const [x, y] of pts) { f(x); f(y) } })
const polygon = (rings: number[][][]): Uint8Array => wkb(3, (u, f) => {
  u(rings.length)
  for (const r of rings) { u(r.length); for (const [x, y] of r) { f(x); f(y) } }
})

t.test('tile bounds are ST_TileEnvelope\'s and tileAt finds the tile of a point', async (t) => {
  t.same(tileBounds({ z: 0, x: 0, y: 0 }), [-MERCATOR_HALF, -MERCATOR_HALF, MERCATOR_HALF, MERCATOR_HALF])
  // ST_TileEnvelope(14, 13490, 6200) on PostGIS 3.6: 12958828.027355641 4869955.946105149, 12961274.012260769 4872401.931010274
  const b = tileBounds({ z: 14, x: 13490, y: 6200 })
  t.ok(Math.abs(b[0] - 12958828.027355641) < 1e-6 && Math.abs(b[1] - 4869955.946105149) < 1e-6)
  t.ok(Math.abs(b[2] - 12961274.012260769) < 1e-6 && Math.abs(b[3] - 4872401.931010274) < 1e-6)
  const c = tileAt(116.4536, 39.9208, 14)
  const cb = tileBounds(c)
  const lon = mercXToLon(cb[0]), lat = mercYToLat(cb[3])
  t.ok(lon <= 116.4536 && lat >= 39.9208, 'the point is east and south of the tile\'s north-west corner')
  t.equal(tilesCovering([116.34, 39.81, 116.65, 40.08], 12).length, 25, 'the district (≈ 26 × 29 km) straddles tile edges: 5 × 5 tiles at z12 (≈ 7.5 km each)')
  const box = selectionBox(c)
  t.ok(box[0] < lon && box[3] > lat, 'the selection box is the tile grown by the buffer')
})

t.test('points: snapped to the grid (half to even, like rint), dropped outside tile + buffer', async (t) => {
  t.same(tileGeometry(point(10.4, 20.6), units), { type: GEOM_POINT, parts: [[10, 21]] })
  t.same(tileGeometry(point(10.5, 11.5), units), { type: GEOM_POINT, parts: [[10, 12]] }, '10.5 → 10, 11.5 → 12')
  t.same(tileGeometry(point(-128.4, 4224.4), units), { type: GEOM_POINT, parts: [[-128, 4224]] }, 'within the 128-unit buffer')
  t.equal(tileGeometry(point(-129, 100), units), null)
  t.equal(tileGeometry(point(100, 4225), units), null)
})

t.test('lines: clipped to the buffered tile, split where they leave and come back', async (t) => {
  const g = tileGeometry(line([[-500, 100], [100, 100], [100, 5000], [200, 5000], [200, 100]]), units)
  t.ok(g && g.type === GEOM_LINE)
  if (!g) return
  t.same(g.parts, [[-128, 100, 100, 100, 100, 4224], [200, 4224, 200, 100]])
  t.equal(tileGeometry(line([[-500, -500], [-400, -500]]), units), null, 'wholly outside')
  t.same(tileGeometry(line([[1, 1], [1.2, 1.1], [50, 50]]), units)?.parts, [[1, 1, 50, 50]], 'a point within half a unit of the last is dropped')
})

t.test('polygons: exterior clockwise on screen, holes the other way, clipped, collapsed rings dropped', async (t) => {
  // counter-clockwise on screen (y down): must come out reversed
  const ccw = tileGeometry(polygon([[[0, 0], [0, 100], [100, 100], [100, 0], [0, 0]]]), units)
  t.ok(ccw && ccw.type === GEOM_POLYGON)
  if (!ccw) return
  t.ok(ringArea2(ccw.parts[0]) > 0, 'exterior ring has positive area (clockwise, y down)')
  t.equal(ccw.parts[0].length, 8, 'four corners, open ring')
  const holed = tileGeometry(polygon([
    [[0, 0], [1000, 0], [1000, 1000], [0, 1000], [0, 0]],
    [[100, 100], [200, 100], [200, 200], [100, 200], [100, 100]],
    [[500, 500], [500.2, 500], [500.2, 500.2], [500, 500]],
  ]), units)
  t.ok(holed)
  if (!holed) return
  t.equal(holed.parts.length, 2, 'the sub-unit hole collapsed and is gone')
  t.ok(ringArea2(holed.parts[0]) > 0 && ringArea2(holed.parts[1]) < 0, 'hole wound against the exterior')
  const clipped = tileGeometry(polygon([[[-1000, -1000], [5000, -1000], [5000, 2000], [-1000, 2000], [-1000, -1000]]]), units)
  t.ok(clipped)
  if (!clipped) return
  const xs = clipped.parts[0].filter((_, i) => i % 2 === 0)
  const ys = clipped.parts[0].filter((_, i) => i % 2 === 1)
  t.same([Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)], [-128, 4224, -128, 2000], 'clipped to the buffer')
  t.equal(tileGeometry(polygon([[[10, 10], [10.3, 10], [10.3, 10.3], [10, 10]]]), units), null, 'a polygon smaller than a unit disappears')
  const zigzag: number[][] = [[0, 0]]
  for (let i = 1; i < 100; i++) zigzag.push([i * 10, i % 2 ? 0.2 : 0])
  zigzag.push([1000, 500], [0, 500], [0, 0])
  const simplified = tileGeometry(polygon([zigzag]), units)
  t.equal(simplified?.parts[0].length, 8, 'points within half a unit of the simplified edge are dropped (Douglas–Peucker)')
})

t.test('MultiPoint, MultiLineString and MultiPolygon WKB', async (t) => {
  const multi = (type: number, inner: Uint8Array[]): Uint8Array => {
    const head = wkb(type, (u) => u(inner.length))
    return Uint8Array.from([...head, ...inner.flatMap((b) => [...b])])
  }
  t.same(tileGeometry(multi(4, [point(1, 2), point(3, 4)]), units), { type: GEOM_POINT, parts: [[1, 2, 3, 4]] })
  t.same(tileGeometry(multi(5, [line([[0, 0], [10, 0]]), line([[0, 5], [10, 5]])]), units)?.parts, [[0, 0, 10, 0], [0, 5, 10, 5]])
  const mpoly = tileGeometry(multi(6, [polygon([[[0, 0], [10, 0], [10, 10], [0, 0]]]), polygon([[[20, 20], [30, 20], [30, 30], [20, 20]]])]), units)
  t.equal(mpoly?.parts.length, 2)
  t.throws(() => tileGeometry(wkb(7, (u) => u(0)), units), /collection/)
})

t.test('geometry commands follow the MVT spec (its own examples)', async (t) => {
  // spec 4.3.5.1: point (25, 17)
  t.same(geometryCommands({ type: GEOM_POINT, parts: [[25, 17]] }), [9, 50, 34])
  // spec 4.3.5.3: linestring (2,2) (2,10) (10,10)
  t.same(geometryCommands({ type: GEOM_LINE, parts: [[2, 2, 2, 10, 10, 10]] }), [9, 4, 4, 18, 0, 16, 16, 0])
  // spec 4.3.5.5: polygon (3,6) (8,12) (20,34)
  t.same(geometryCommands({ type: GEOM_POLYGON, parts: [[3, 6, 8, 12, 20, 34]] }), [9, 6, 12, 18, 10, 12, 24, 44, 15])
})

t.test('an encoded tile decodes with @mapbox/vector-tile: ids, typed attributes, nulls left out', async (t) => {
  const bytes = encodeTile([{
    name: 'things',
    fields: { name: 'string', n: 'int', score: 'double', ok: 'bool' },
    features: [
      { id: 110105001001001, geometry: { type: GEOM_POINT, parts: [[10, 20]] }, properties: { name: '建外', n: -3, score: 91.25, ok: true } },
      { id: 2, geometry: { type: GEOM_POLYGON, parts: [[0, 0, 100, 0, 100, 100, 0, 100]] }, properties: { name: '建外', n: 7, score: null, ok: false } },
      { geometry: { type: GEOM_LINE, parts: [[0, 0, 10, 10]] }, properties: { name: "quote's \"here\"" } },
    ],
  }, { name: 'empty', fields: { a: 'string' }, features: [] }], 4096)
  const vt = new VectorTile(new PbfReader(bytes))
  t.same(Object.keys(vt.layers), ['things'], 'a layer without features is left out')
  const l = vt.layers.things
  t.equal(l.version, 2)
  t.equal(l.extent, 4096)
  t.equal(l.length, 3)
  const f0 = l.feature(0)
  t.equal(f0.id, 110105001001001, 'a 15-digit id survives (below 2^53)')
  t.same(f0.properties, { name: '建外', n: -3, score: 91.25, ok: true })
  t.same(f0.loadGeometry().map((r) => r.map((p) => [p.x, p.y])), [[[10, 20]]])
  t.same(l.feature(1).properties, { name: '建外', n: 7, ok: false }, 'null attribute left out')
  t.equal(l.feature(1).type, 3)
  t.same(l.feature(1).loadGeometry()[0].map((p) => [p.x, p.y]), [[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]], 'ClosePath closes the ring')
  t.equal(l.feature(2).id, undefined)
  t.same(l.feature(2).properties, { name: "quote's \"here\"" })
  t.equal(encodeTile([{ name: 'x', fields: {}, features: [] }], 4096).byteLength, 0, 'no features: zero bytes, like ST_AsMVT on no rows')
})

t.test('a real lon/lat point lands where toGeoJSON puts it back', async (t) => {
  const c = tileAt(116.4536, 39.9208, 16)
  const g = tileGeometry(point(116.4536, 39.9208), tileProjection(c))
  t.ok(g)
  if (!g) return
  const bytes = encodeTile([{ name: 'p', fields: {}, features: [{ geometry: g, properties: {} }] }], 4096)
  const back = new VectorTile(new PbfReader(bytes)).layers.p.feature(0).toGeoJSON(c.x, c.y, c.z)
  const [lon, lat] = (back.geometry as { coordinates: number[] }).coordinates
  // one unit at z16 is 611.5 m / 4096 ≈ 0.15 m (× cos φ)
  t.ok(Math.abs(lon - 116.4536) < 2e-6 && Math.abs(lat - 39.9208) < 2e-6, `${lon}, ${lat}`)
})
