/**
 * Grid import through the API: a good file makes a version; every kind of bad
 * file is answered 4xx with the features and reasons, and leaves nothing behind.
 */
import t, { type Test } from 'tap'
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import type { FeatureCollection, Polygon } from 'geojson'
import { testApp } from './helpers/app.ts'
import { smallGrid, square, cellFeature } from './helpers/grids.ts'
import { createUser } from '../fixtures/users.ts'

const SHARED = new URL('../../shared/data/geojson-fixtures/', import.meta.url)

const ctx = await testApp('empty')
t.teardown(() => ctx.close())
const { app, db } = ctx
// Importing a grid is for planners (and admins).
const planner = await createUser(db, 'planner')

interface ErrorReply { error: { code: string; message: string; details?: { problems?: { index: number | null; code: string | null; field: string; error: string; reason: string }[] } } }

async function counts(): Promise<string> {
  const r = await db.query<{ cells: number; versions: number; history: number; codes: number; communities: number }>(`SELECT
    (SELECT count(*) FROM cells)::int AS cells, (SELECT count(*) FROM grid_versions)::int AS versions,
    (SELECT count(*) FROM cell_history)::int AS history, (SELECT count(*) FROM cell_codes)::int AS codes,
    (SELECT count(*) FROM communities)::int AS communities`)
  return JSON.stringify(r.rows[0])
}

const post = (payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/api/grids/import', payload: typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload), headers: { 'content-type': 'application/json', authorization: `Bearer ${planner.token}`, ...headers } })

t.test('a good grid imports as version 1 and is served back', async (t) => {
  const res = await post(smallGrid())
  t.equal(res.statusCode, 201, res.body)
  const s = res.json()
  t.match(s, { version: 1, cells: 6, added: 6, changed: 0, unchanged: 0, retired: 0, communities: 2, subdistricts: 1 })
  const cells = (await app.inject('/api/cells')).json() as FeatureCollection
  t.equal(cells.features.length, 6)
  const one = (await app.inject('/api/cells/110105001002003')).json()
  t.equal(one.properties.community_code, '110105001002')
  t.equal(one.properties.subdistrict_name, '街道001')
  t.match(one.properties.responsible_unit, /^[0-9A-Z]{18}$/, 'the subdistrict command centre is responsible by default')
  t.ok(one.properties.area_m2 > 9400 && one.properties.area_m2 < 9600, `0.001° × 0.001° at 39.95° N is 111 m × 85 m ≈ 9,490 m², got ${one.properties.area_m2}`)
  const sd = (await app.inject('/api/subdistricts')).json()
  t.equal(sd.length, 1)
  t.equal(sd[0].cells, 6)
  t.ok(sd[0].area_m2 > 6 * 8000, 'the subdistrict outline is the union of its cells')
  const filtered = (await app.inject('/api/cells?community=110105001001')).json() as FeatureCollection
  t.equal(filtered.features.length, 3)
  const boxed = (await app.inject('/api/cells?bbox=116.4901,39.9491,116.4909,39.9499')).json() as FeatureCollection
  t.same(boxed.features.map((f) => f.id), ['110105001001001'], 'bbox selects the cell under it (north-west corner)')
})

t.test('export → import round trip is lossless; GDAL reads the export', async (t) => {
  const exported = await app.inject('/api/grids/export')
  t.equal(exported.statusCode, 200)
  t.match(exported.headers['content-type'], /application\/geo\+json/)
  const fc = exported.json() as FeatureCollection
  const ring = (fc.features[0].geometry as Polygon).coordinates[0]
  let area2 = 0
  for (let i = 0; i < ring.length - 1; i++) area2 += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1]
  t.ok(area2 > 0, 'exterior ring is counter-clockwise (right-hand rule)')
  for (const f of fc.features) {
    for (const [x, y] of (f.geometry as Polygon).coordinates[0]) {
      t.ok(Math.abs(x * 1e7 - Math.round(x * 1e7)) < 1e-6 && Math.abs(y * 1e7 - Math.round(y * 1e7)) < 1e-6, 'at most 7 decimals')
    }
  }
  const again = await post(exported.body)
  t.equal(again.statusCode, 201, again.body)
  t.match(again.json(), { version: 2, cells: 6, added: 0, changed: 0, unchanged: 6, retired: 0 })
  const exported2 = await app.inject('/api/grids/export')
  t.equal(exported2.body, exported.body, 'the second export is byte-identical to the first: unchanged cells keep their version')

  const dir = mkdtempSync(join(tmpdir(), 'wangge-ogr-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'grid.geojson')
  writeFileSync(file, exported.body)
  const info = execFileSync('ogrinfo', ['-ro', '-al', '-so', file], { encoding: 'utf8' })
  t.match(info, /Feature Count: 6/)
  t.match(info, /Geometry: Polygon/)
  t.match(info, /code: String/)
  t.match(info, /WGS 84/)
})

t.test('a grid without one of its cells retires that code for good', async (t) => {
  const fc = smallGrid()
  fc.features = fc.features.filter((f) => f.properties?.code !== '110105001002003')
  const res = await post(fc)
  t.equal(res.statusCode, 201, res.body)
  t.match(res.json(), { cells: 5, retired: 1, unchanged: 5 })
  const before = await counts()
  const back = await post(smallGrid())
  t.equal(back.statusCode, 422)
  const body = back.json() as ErrorReply
  t.equal(body.error.code, 'invalid_grid')
  t.match(body.error.details?.problems?.[0], { index: 5, code: '110105001002003', error: 'retired_code' })
  t.equal(await counts(), before, 'nothing written')
  t.equal((await app.inject('/api/cells/110105001002003')).statusCode, 404)
})

t.test('every shared invalid GeoJSON fixture is rejected and nothing is written', async (t) => {
  const before = await counts()
  const root = new URL('invalid/', SHARED)
  for (const kind of readdirSync(root)) {
    for (const file of readdirSync(new URL(`${kind}/`, root))) {
      const text = readFileSync(new URL(`${kind}/${file}`, root), 'utf8')
      const res = await post(text)
      t.ok(res.statusCode >= 400 && res.statusCode < 500, `${kind}/${file}: ${res.statusCode}`)
      const body = res.json() as ErrorReply
      t.ok(body.error.code && body.error.message.length > 10, `${kind}/${file}: ${body.error.code}: ${body.error.details?.problems?.[0]?.reason ?? body.error.message}`)
    }
  }
  t.equal(await counts(), before)
})

/** Posts a grid made bad by `spoil`, expects 422 with the problem at `index`. */
async function rejects(t: Test, name: string, spoil: (fc: FeatureCollection) => unknown, expect: { index: number | null; error: string; field?: string | RegExp }): Promise<void> {
  const before = await counts()
  const fc = smallGrid()
  const body = spoil(fc) ?? fc
  const res = await post(body)
  t.equal(res.statusCode, 422, `${name}: ${res.body.slice(0, 300)}`)
  const err = res.json() as ErrorReply
  t.equal(err.error.code, 'invalid_grid', name)
  const problem = err.error.details?.problems?.find((p) => p.error === expect.error)
  t.ok(problem, `${name}: a ${expect.error} problem is listed: ${JSON.stringify(err.error.details?.problems?.slice(0, 3))}`)
  if (problem) {
    t.equal(problem.index, expect.index, `${name}: at feature ${expect.index}`)
    if (expect.field) t.match(problem.field, expect.field, `${name}: field`)
    t.ok(problem.reason.length > 5, `${name}: says why: ${problem.reason}`)
  }
  t.equal(await counts(), before, `${name}: nothing written`)
}

t.test('bad grids are answered 422 with the feature and reason', async (t) => {
  await rejects(t, 'self-intersecting ring', (fc) => {
    const [x, y] = [116.49, 39.95]
    fc.features[2].geometry = { type: 'Polygon', coordinates: [[[x, y], [x + 0.001, y - 0.001], [x + 0.001, y], [x, y - 0.001], [x, y]]] }
  }, { index: 2, error: 'invalid_geometry', field: 'geometry' })
  await rejects(t, 'unclosed ring', (fc) => {
    const g = fc.features[1].geometry as Polygon
    g.coordinates[0] = g.coordinates[0].slice(0, 4)
  }, { index: 1, error: 'ring_not_closed', field: /coordinates\[0\]/ })
  await rejects(t, 'wrong CRS', (fc) => ({ ...fc, crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::3857' } } }),
    { index: null, error: 'unsupported_crs', field: 'crs' })
  await rejects(t, 'projected coordinates', (fc) => {
    fc.features[4].geometry = { type: 'Polygon', coordinates: [[[12967000, 4858000], [12967100, 4858000], [12967100, 4858100], [12967000, 4858000]]] }
  }, { index: 4, error: 'coordinates_out_of_range' })
  await rejects(t, 'latitude over 90', (fc) => {
    ((fc.features[0].geometry as Polygon).coordinates[0][1])[1] = 91
  }, { index: 0, error: 'coordinates_out_of_range' })
  await rejects(t, 'duplicate code', (fc) => { fc.features[3].properties!.code = '110105001001001' },
    { index: 3, error: 'duplicate_code', field: 'properties.code' })
  await rejects(t, 'overlapping cells', (fc) => {
    fc.features.push(cellFeature({ code: '110105001002004', col: 0, row: 0 }, square(0.5, 0.5)))
  }, { index: 6, error: 'overlapping_cells' })
  await rejects(t, 'code of 14 digits', (fc) => { fc.features[5].properties!.code = '11010500100200' },
    { index: 5, error: 'invalid_code', field: 'properties.code' })
  await rejects(t, 'missing community name', (fc) => { delete fc.features[2].properties!.community_name },
    { index: 2, error: 'missing_property', field: 'properties.community_name' })
  await rejects(t, 'one community, two names', (fc) => { fc.features[1].properties!.community_name = '别的社区' },
    { index: 1, error: 'inconsistent_hierarchy' })
  await rejects(t, 'a point is not a cell', (fc) => { fc.features[0].geometry = { type: 'Point', coordinates: [116.49, 39.95] } },
    { index: 0, error: 'invalid_geometry_type' })
  await rejects(t, 'unknown responsible unit', (fc) => { fc.features[0].properties!.responsible_unit = '91110105MA00000000' },
    { index: 0, error: 'invalid_responsible_unit' })
  await rejects(t, 'empty collection', () => ({ type: 'FeatureCollection', features: [] }), { index: null, error: 'empty_grid' })
})

t.test('malformed bodies', async (t) => {
  const before = await counts()
  const broken = await post('{"type": "FeatureCollection", "features": [')
  t.equal(broken.statusCode, 400)
  t.equal(broken.json().error.code, 'invalid_json')
  const text = await post('hello', { 'content-type': 'text/plain' })
  t.equal(text.statusCode, 415)
  t.equal(text.json().error.code, 'unsupported_media_type')
  const big = await post(Buffer.alloc(50 * 1024 * 1024, 0x20))
  t.equal(big.statusCode, 413)
  t.equal(big.json().error.code, 'body_too_large')
  const geo = await post(JSON.stringify(smallGrid()), { 'content-type': 'application/geo+json' })
  t.equal(geo.statusCode, 422, 'application/geo+json is parsed too (here: retired code)')
  t.equal(await counts(), before)
})

t.test('bad query parameters', async (t) => {
  for (const url of ['/api/cells?bbox=1,2,3', '/api/cells?bbox=a,b,c,d', '/api/cells?bbox=117,40,116,39', '/api/cells?bbox=0,0,200,10', '/api/cells?community=12', '/api/cells/123', '/api/cells?limit=-1', '/api/cells?nope=1']) {
    const res = await app.inject(url)
    t.equal(res.statusCode, 400, url)
    t.ok(res.json().error.code, `${url}: ${res.json().error.code}`)
  }
  t.equal((await app.inject('/api/cells/110105999999999')).statusCode, 404)
  t.equal((await app.inject('/nope')).json().error.code, 'not_found')
})
