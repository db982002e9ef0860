/**
 * The facility library without a database: the in-memory index on hand-made
 * cases (ties, lines, polygons, filters, an empty registry), the plane and
 * distances, WKB, CSV and WKT reading, and row validation.
 */
import t from 'tap'
import { MemoryFacilityIndex, planeRadius } from '../geocoder/facility-index.ts'
import { PLANE_KX, PLANE_KY, ptSeg, wkbToGeometry } from '../geocoder/facility-geometry.ts'
import { parseCsv, parseWkt, csvField } from '../geocoder/facility-csv.ts'
import { readFacilityCsv, readFacilityGeoJSON, validateFacilities } from '../geocoder/facility-validate.ts'
import { distanceM, metresPerDegLat, metresPerDegLon } from '../geocoder/geodesy.ts'
import { makeUscc } from '../grids/uscc.ts'
import type { FacilityRecord } from '../geocoder/facility-types.ts'

const OWNER_A = makeUscc('9', '1', '110000', 1)
const OWNER_B = makeUscc('9', '1', '110000', 2)
const X0 = 116.49
const Y0 = 39.95
/** A point `dx`, `dy` metres from (X0, Y0). */
const at = (dx: number, dy: number): [number, number] => [X0 + dx / metresPerDegLon(Y0), Y0 + dy / metresPerDegLat(Y0)]

function rec(seq: number, sub: string, [lon, lat]: [number, number], owner = OWNER_A, extra: Partial<FacilityRecord> = {}): FacilityRecord {
  return { id: `110105${sub}${String(seq).padStart(6, '0')}`, subclass: sub, owner, maintainer: null, authority: null, status: 'intact', cell: '110105001001001', lon, lat, geometry: null, ...extra }
}

t.test('the plane constants are metres per degree at 39.95° N', async (t) => {
  t.ok(Math.abs(PLANE_KX - metresPerDegLon(39.95)) < 0.1)
  t.ok(Math.abs(PLANE_KY - metresPerDegLat(39.95)) < 0.1)
  t.ok(planeRadius(39.95, 30) >= 30 && planeRadius(39.95, 30) < 30.01, 'at the reference latitude a metre is a plane metre')
  t.ok(planeRadius(40.1, 30) > 30, 'north of it the plane stretches east–west')
})

t.test('nearest ranks by metres, not degrees, breaks ties by id, and filters', async (t) => {
  // 25 m east is nearer than 28 m north, though 28 m north is fewer degrees away
  const idx = new MemoryFacilityIndex([
    rec(3, '01005', at(0, 28)),
    rec(2, '01005', at(25, 0)),
    rec(9, '01001', at(5, 0), OWNER_B),
    rec(7, '01005', at(-40, 0)),
    rec(6, '01005', at(-40, 0)), // same spot as 7: 6 comes first
    rec(1, '04013', [X0, Y0], OWNER_B, { geometry: { type: 'Polygon', coordinates: [[at(100, 100), at(120, 100), at(120, 120), at(100, 120), at(100, 100)]] } }),
    rec(4, '02017', [X0, Y0], OWNER_B, { geometry: { type: 'LineString', coordinates: [at(-10, -60), at(10, -60)] } }),
  ])
  t.equal(idx.size, 7)
  const ids = (o: Parameters<typeof idx.nearest>[2], p = at(0, 0)): string[] => idx.nearest(p[0], p[1], o).map((h) => h.id.slice(-1))
  t.same(ids({ k: 3 }), ['9', '2', '3'])
  t.same(ids({ k: 10, subclasses: ['01005'] }), ['2', '3', '6', '7'], 'ties at the same spot by id')
  t.same(ids({ k: 1, subclasses: ['01005'] }, at(-40, 0)), ['6'], 'k = 1 at a tie still gives the smaller id')
  t.same(ids({ k: 5, owner: OWNER_B }), ['9', '4', '1'], 'a line is as near as its nearest point; a polygon as its nearest edge')
  t.same(ids({ k: 5, subclasses: ['01005'], maxDistanceM: 30 }), ['2', '3'])
  const inside = idx.nearest(...at(110, 110), { k: 1 })[0]
  t.equal(inside.id.slice(-1), '1')
  t.equal(inside.distanceM, 0, 'inside a polygon is 0 m away')
  const line = idx.nearest(...at(0, -50), { k: 1, subclasses: ['02017'] })[0]
  t.ok(Math.abs(line.distanceM! - 10) < 0.01, `10 m from the line: ${line.distanceM}`)
  const d = idx.nearest(...at(0, 0), { k: 1 })[0].distanceM!
  t.ok(Math.abs(d - 5) < 0.001, `5 m: ${d}`)
  t.same(ids({ k: 3, subclasses: ['09999'] }), [], 'an unknown subclass matches nothing')
  t.same(ids({ k: 3, owner: makeUscc('9', '1', '110000', 3) }), [])
  t.same(idx.within(...at(0, 0), { radiusM: 30 }).map((h) => h.id.slice(-1)), ['9', '2', '3'])
  t.same(idx.inBbox([X0 - 0.001, Y0 - 0.001, X0 + 0.001, Y0 + 0.001]).map((h) => h.id.slice(-1)), ['9', '2', '3', '6', '7', '4'], 'by id')
  t.same(idx.inCell('110105001001001', { subclasses: ['01005'] }).map((h) => h.id.slice(-1)), ['2', '3', '6', '7'])
  t.equal(idx.get('11010501005000002')?.owner, OWNER_A)
  t.equal(idx.get('11010501005000099'), null)
  t.same(idx.subclassCounts(), { '01005': 4, '01001': 1, '04013': 1, '02017': 1 })
})

t.test('an empty registry answers with nothing', async (t) => {
  const idx = new MemoryFacilityIndex([])
  t.same(idx.nearest(X0, Y0, { k: 5 }), [])
  t.same(idx.within(X0, Y0, { radiusM: 100 }), [])
  t.same(idx.inBbox([116, 39, 117, 40]), [])
  t.throws(() => new MemoryFacilityIndex([rec(1, '01005', [X0, Y0]), rec(1, '01005', [X0, Y0])]), /duplicate/)
})

t.test('nearest agrees with brute force on random points', async (t) => {
  let seed = 7
  const rnd = (): number => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
  const recs: FacilityRecord[] = []
  for (let i = 1; i <= 3000; i++) recs.push(rec(i, i % 3 ? '01005' : '01001', [X0 + rnd() * 0.02, Y0 + rnd() * 0.02]))
  const idx = new MemoryFacilityIndex(recs)
  for (let q = 0; q < 300; q++) {
    const x = X0 + rnd() * 0.02
    const y = Y0 + rnd() * 0.02
    const brute = recs.filter((r) => r.subclass === '01005')
      .map((r) => ({ id: r.id, d: Math.hypot((r.lon * PLANE_KX) - x * PLANE_KX, (r.lat * PLANE_KY) - y * PLANE_KY) }))
      .sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : 1)).slice(0, 4).map((r) => r.id)
    t.same(idx.nearest(x, y, { k: 4, subclasses: ['01005'] }).map((h) => h.id), brute)
  }
})

t.test('distances: segment like PostGIS, metres like geodesy', async (t) => {
  t.equal(ptSeg(0, 1, -1, 0, 1, 0), 1)
  t.equal(ptSeg(3, 0, -1, 0, 1, 0), 2)
  t.equal(ptSeg(0, 0, -1, 0, 1, 0), 0)
  const idx = new MemoryFacilityIndex([rec(1, '01005', at(300, 400))])
  const d = idx.nearest(X0, Y0, { k: 1 })[0].distanceM!
  t.ok(Math.abs(d - distanceM(X0, Y0, ...at(300, 400))) < 1e-6, `${d}`)
})

t.test('WKB of every type decodes, either byte order', async (t) => {
  const le = Buffer.from('0102000000020000000000000000005d4000000000000044400000000000405d400000000000004440', 'hex')
  t.same(wkbToGeometry(le), { type: 'LineString', coordinates: [[116, 40], [117, 40]] })
  const be = Buffer.from('00000000014044000000000000405d000000000000', 'hex')
  t.same(wkbToGeometry(be), { type: 'Point', coordinates: [40, 116] })
  const poly = parseWkt('MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((2 2, 3 2, 3 3, 2 2)))')
  t.equal(poly.type, 'MultiPolygon')
})

t.test('CSV and WKT reading', async (t) => {
  const csv = parseCsv('\ufeffid,name\r\n1,"a, ""b"""\r\n\r\n2,"two\nlines"\n3,x')
  t.same(csv.header, ['id', 'name'])
  t.same(csv.records, [['1', 'a, "b"'], ['2', 'two\nlines'], ['3', 'x']])
  t.same(csv.lines, [2, 4, 6], 'line numbers as an editor shows them, blank lines and embedded newlines counted')
  t.throws(() => parseCsv('a\n"open'), /not closed/)
  t.equal(csvField('a,b'), '"a,b"')
  t.equal(csvField(null), '')
  t.same(parseWkt('POINT (116.4 39.9)'), { type: 'Point', coordinates: [116.4, 39.9] })
  t.same(parseWkt('MULTIPOINT (1 2, 3 4)'), parseWkt('MULTIPOINT ((1 2), (3 4))'))
  t.same(parseWkt('LINESTRING Z (1 2 3, 4 5 6)'), { type: 'LineString', coordinates: [[1, 2], [4, 5]] })
  t.throws(() => parseWkt('CIRCLE (1 2)'), /not supported/)
  t.throws(() => parseWkt('POINT (1 2'), /expected/)
})

t.test('validation reports each problem by row and keeps the good rows', async (t) => {
  const classes = new Set(['01005', '01001', '04013'])
  const { raws, problems } = readFacilityCsv(['id,lon,lat,owner,status', `11010501005000001,116.4,39.9,${OWNER_A},破损`,
    `11010501005000001,116.4,39.9,${OWNER_A},`, `11010501005000002,39.9,116.4,${OWNER_A},`, `11010501005000003,116.4,39.9,,`].join('\n'))
  t.same(problems, [])
  const v = validateFacilities(raws, { crs: 'wgs84', subclasses: classes })
  t.same(v.rows.map((r) => [r.row, r.id, r.subclass, r.status]), [[2, '11010501005000001', '01005', 'damaged']], 'the subclass comes from the ID when not given')
  t.same(v.problems.map((p) => [p.row, p.error]), [[3, 'duplicate_id'], [4, 'invalid_coordinates'], [5, 'missing_owner']])
  t.match(v.problems[1].reason, /swapped/)
  const gj = readFacilityGeoJSON({ type: 'FeatureCollection', features: [
    { type: 'Feature', id: '11010504013000001', geometry: { type: 'Polygon', coordinates: [[[116.4, 39.9], [116.41, 39.9], [116.41, 39.91], [116.4, 39.9]]] }, properties: { owner: OWNER_B } },
    { type: 'Feature', geometry: { type: 'Polygon', coordinates: [[[116.4, 39.9], [116.41, 39.9], [116.41, 39.91]]] }, properties: { id: '11010504013000002', owner: OWNER_B } },
  ] })
  const g = validateFacilities(gj.raws, { crs: 'gcj02', subclasses: classes })
  t.equal(g.rows.length, 1)
  t.ok((g.rows[0].geometry as { coordinates: number[][][] }).coordinates[0][0][0] < 116.4, 'GCJ-02 converted to WGS84')
  t.match(g.problems, [{ row: 2, index: 1, error: 'invalid_geometry', field: 'geometry.coordinates[0]' }])
  t.match(readFacilityGeoJSON({ type: 'FeatureCollection', crs: { type: 'name', properties: { name: 'EPSG:3857' } }, features: [] }).problems, [{ error: 'unsupported_crs' }])
})
