/**
 * Geocoding through the API on the Chaoyang fixture: single points in every
 * CRS, the outside and invalid answers, and streamed batches in every format.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { fromWgs84 } from '../geocoder/crs.ts'

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { app, db } = ctx

/** A point well inside a known cell (its PostGIS point-on-surface) and the cell's code. */
const known = (await db.query<{ code: string; lon: number; lat: number; community: string; subdistrict: string }>(`
  SELECT c.code, ST_X(p) AS lon, ST_Y(p) AS lat, c.community_code AS community, c.subdistrict_code AS subdistrict
  FROM (SELECT *, ST_PointOnSurface(geom) AS p FROM cells WHERE subdistrict_code = '110105003' ORDER BY code LIMIT 1) c`)).rows[0]

t.test('a WGS84 point lands in its cell with community, subdistrict and units', async (t) => {
  const res = await app.inject(`/api/geocode?lon=${known.lon}&lat=${known.lat}`)
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.equal(body.cell, known.code)
  t.same(body.community.code, known.community)
  t.same(body.subdistrict, { code: '110105003', name: '呼家楼街道' })
  t.equal(body.district.code, '110105')
  t.equal(body.snapped, false)
  t.equal(body.distance_m, 0)
  t.ok(body.responsible_units.length >= 1 && /网格化服务管理中心$/.test(body.responsible_units[0].name), 'the command centre answers for the cell')
  t.equal(body.grid_version, 1)
})

t.test('GCJ-02 and BD-09 inputs land in the same cell as the WGS84 point they came from', async (t) => {
  for (const crs of ['gcj02', 'bd09'] as const) {
    const [x, y] = fromWgs84(known.lon, known.lat, crs)
    const shift = Math.hypot((x - known.lon) * 85_000, (y - known.lat) * 111_000)
    t.ok(shift > 300 && shift < 1500, `${crs} is offset by ${Math.round(shift)} m here`)
    const res = await app.inject(`/api/geocode?lon=${x}&lat=${y}&crs=${crs}`)
    t.equal(res.statusCode, 200, res.body)
    const body = res.json()
    t.equal(body.cell, known.code, `${crs} → same cell`)
    t.ok(Math.abs(body.point.lon - known.lon) < 1e-7 && Math.abs(body.point.lat - known.lat) < 1e-7, `${crs}: the WGS84 point used is returned, within 1 cm`)
    const naive = (await app.inject(`/api/geocode?lon=${x}&lat=${y}`)).json()
    t.not(naive.cell, known.code, `${crs} read as WGS84 would land elsewhere`)
  }
})

t.test('outside the district: snapped within 30 m, 422 beyond', async (t) => {
  const edge = (await db.query<{ lon: number; lat: number; code: string }>(`
    WITH b AS (SELECT ST_Boundary(geom) AS g FROM districts), e AS (SELECT ST_XMax(geom) AS x FROM districts)
    SELECT ST_X(p) AS lon, ST_Y(p) AS lat, (SELECT code FROM cells WHERE ST_Covers(geom, p) ORDER BY code LIMIT 1) AS code
    FROM (SELECT ST_ClosestPoint(b.g, ST_SetSRID(ST_MakePoint(e.x + 1, 39.95), 4326)) AS p FROM b, e) q`)).rows[0]
  const near = await app.inject(`/api/geocode?lon=${edge.lon + 0.0002}&lat=${edge.lat}`)
  t.equal(near.statusCode, 200, near.body)
  t.equal(near.json().snapped, true)
  t.ok(near.json().distance_m > 10 && near.json().distance_m <= 30, `snapped ${near.json().distance_m} m`)
  t.equal(near.json().cell, edge.code)
  const far = await app.inject(`/api/geocode?lon=${edge.lon + 0.01}&lat=${edge.lat}`)
  t.equal(far.statusCode, 422)
  t.equal(far.json().error.code, 'outside_district')
  t.ok(far.json().error.details.distance_m > 500, 'says how far')
  const onBoundary = await app.inject(`/api/geocode?lon=${edge.lon}&lat=${edge.lat}`)
  t.equal(onBoundary.json().snapped, false, 'a point on the district boundary is inside')
})

t.test('bad coordinates are 400 naming the field', async (t) => {
  for (const [q, field] of [['lon=200&lat=39.9', 'lon'], ['lon=116.4&lat=-91', 'lat'], ['lon=abc&lat=39.9', 'lon'], ['lon=116.4', 'lat'], ['lon=NaN&lat=39.9', 'lon'], ['lon=116.4&lat=39.9&crs=utm', 'crs'], ['lon=Infinity&lat=1', 'lon']] as const) {
    const res = await app.inject(`/api/geocode?${q}`)
    t.equal(res.statusCode, 400, `${q}: ${res.body}`)
    t.match(JSON.stringify(res.json().error), field, `${q} names ${field}`)
  }
})

const batch = (payload: string, type: string, query = '') =>
  app.inject({ method: 'POST', url: `/api/geocode/batch${query}`, payload, headers: { 'content-type': type } })

t.test('batch: NDJSON in and out, bad rows do not fail the batch', async (t) => {
  const [gx, gy] = fromWgs84(known.lon, known.lat, 'gcj02')
  const input = [
    JSON.stringify({ id: 'a', lon: known.lon, lat: known.lat }),
    JSON.stringify({ id: 'b', lon: gx, lat: gy, crs: 'gcj02' }),
    JSON.stringify([known.lon, known.lat]),
    '{"id": "bad", "lon": "east", "lat": 39.9}',
    'not json at all',
    JSON.stringify({ id: 'far', lon: 118, lat: 40 }),
    JSON.stringify({ id: 'crs', lon: 116.4, lat: 39.9, crs: 'mars' }),
  ].join('\n')
  const res = await batch(input, 'application/x-ndjson')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /ndjson/)
  const rows = res.body.trim().split('\n').map((l) => JSON.parse(l))
  t.equal(rows.length, 7, 'one answer per row, in order')
  t.same(rows.map((r) => r.row), [1, 2, 3, 4, 5, 6, 7])
  t.same([rows[0].cell, rows[1].cell, rows[2].cell], [known.code, known.code, known.code])
  t.equal(rows[1].id, 'b')
  t.same(rows.slice(3).map((r) => r.error.code), ['invalid_coordinates', 'invalid_json', 'outside_district', 'unsupported_crs'])
  t.ok(rows[5].error.distance_m > 10_000)
})

t.test('batch: CSV in and out, JSON array in', async (t) => {
  const csv = await batch(`id,lon,lat\n"x,1",${known.lon},${known.lat}\ny,,39.9\n`, 'text/csv')
  t.equal(csv.statusCode, 200)
  t.match(csv.headers['content-type'], /text\/csv/)
  const lines = csv.body.trim().split('\n')
  t.equal(lines[0], 'row,id,cell,community,subdistrict,responsible_unit,snapped,distance_m,error')
  t.match(lines[1], new RegExp(`^1,"x,1",${known.code},${known.community},110105003,`))
  t.match(lines[2], /^2,y,.*invalid_coordinates$/)
  const arr = await batch(JSON.stringify([{ id: 1, lon: known.lon, lat: known.lat }, [known.lon, known.lat]]), 'application/json', '?format=csv')
  t.equal(arr.statusCode, 200)
  t.equal(arr.body.trim().split('\n').length, 3)
  const broken = await batch('[{"id": 1, "lon": 116.4, "lat": 39.9},', 'application/json')
  t.match(broken.body, /"invalid_json"/, 'a broken array ends with an error row')
  const noHeader = await batch('116.4,39.9\n', 'text/csv')
  t.match(noHeader.body, /invalid_csv/)
  const plain = await batch('116.4,39.9', 'text/plain')
  t.equal(plain.statusCode, 415)
  const long = await batch(`{"id":"${'x'.repeat(10_000)}"`, 'application/x-ndjson')
  t.match(long.body, /line_too_long/, 'an endless line is cut off, not buffered')
})

t.test('address text → best candidate → its cell; no match is 404 with the nearest names', async (t) => {
  const place = (await db.query<{ id: string; name: string; address: string | null; lon: number; lat: number; code: string }>(`
    SELECT p.id, p.name, p.address, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat,
      (SELECT code FROM cells c WHERE ST_Covers(c.geom, p.geom) ORDER BY code LIMIT 1) AS code
    FROM places p WHERE kind = 'building' AND address IS NOT NULL ORDER BY id LIMIT 1`)).rows[0]
  t.ok(place, 'the fixture has buildings with addresses')
  const res = await app.inject(`/api/geocode?address=${encodeURIComponent(place.address as string)}`)
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.equal(body.address.best.id, place.id, `${place.address} is found`)
  t.equal(body.address.best.score, 1)
  t.equal(body.cell, place.code, 'and located in the cell that covers it')
  t.ok(body.address.candidates.length >= 1)
  const fullWidth = place.name.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0))
  const fw = await app.inject(`/api/geocode?address=${encodeURIComponent(fullWidth)}`)
  t.equal(fw.json().address?.best.id, place.id, `full-width digits (${fullWidth}) are read as digits`)
  const none = await app.inject(`/api/geocode?address=${encodeURIComponent('火星基地99号')}`)
  t.equal(none.statusCode, 404)
  t.equal(none.json().error.code, 'address_not_found')
  t.ok(Array.isArray(none.json().error.details.nearest), 'suggests the nearest names')
  const both = await app.inject(`/api/geocode?address=x&lon=116.4&lat=39.9`)
  t.equal(both.statusCode, 400)
  const neither = await app.inject('/api/geocode')
  t.equal(neither.statusCode, 400)
})
