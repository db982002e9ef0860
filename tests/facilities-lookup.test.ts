/**
 * The facility registry on the fixture district ('chaoyang' template: the grid
 * and 40,000 components, TEST_FACILITIES in fixtures/cases.ts): IDs, cells,
 * the in-memory index against the PostGIS reference, owner-at, layers and
 * counts, and bad parameters.
 */
import t from 'tap'
import type { FeatureCollection } from 'geojson'
import { testApp } from './helpers/app.ts'
import { createRandom } from '../grids/random.ts'
import { fromWgs84 } from '../geocoder/crs.ts'
import type { FacilityHit } from '../geocoder/facility-types.ts'

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { app, db } = ctx
const index = app.facilities.current().index
const postgis = app.facilities.postgis

/** Random points over the district's extent (some fall outside it: the lookups answer anyway). */
function randomPoints(n: number, seed: number): { lons: number[]; lats: number[] } {
  const rand = createRandom(seed)
  const lons: number[] = []
  const lats: number[] = []
  for (let i = 0; i < n; i++) {
    lons.push(116.34 + rand.next() * 0.3)
    lats.push(39.82 + rand.next() * 0.26)
  }
  return { lons, lats }
}

const ids = (hs: FacilityHit[]): string[] => hs.map((h) => h.id)

t.test('the fixture is loaded and indexed', async (t) => {
  const n = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM facilities')).rows[0].n
  t.ok(n >= 30_000, `${n} components`)
  t.equal(index.size, n, 'the in-memory index holds every component')
})

t.test('IDs follow the 17-digit layout and are unique', async (t) => {
  const r = (await db.query<{ bad: number; dup: number; mismatch: number; district: number }>(`SELECT
    count(*) FILTER (WHERE id !~ '^[0-9]{17}$')::int AS bad,
    (count(*) - count(DISTINCT id))::int AS dup,
    count(*) FILTER (WHERE substr(id, 7, 5) <> subclass OR substr(id, 12, 6) = '000000')::int AS mismatch,
    count(*) FILTER (WHERE substr(id, 1, 6) <> '110105')::int AS district
    FROM facilities`)).rows[0]
  t.same(r, { bad: 0, dup: 0, mismatch: 0, district: 0 })
  const unknown = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM facilities f
    WHERE NOT EXISTS (SELECT 1 FROM component_classes k WHERE k.code = f.subclass)
       OR NOT EXISTS (SELECT 1 FROM organisations o WHERE o.uscc = f.owner)
       OR (f.maintainer IS NOT NULL AND NOT EXISTS (SELECT 1 FROM organisations o WHERE o.uscc = f.maintainer))`)).rows[0].n
  t.equal(unknown, 0, 'every subclass and organisation exists')
})

t.test('every component lies in the cell that covers it (smallest covering code, ST_Covers)', async (t) => {
  const wrong = (await db.query<{ id: string; cell_code: string | null; expected: string | null }>(`SELECT id, cell_code, expected FROM (
      SELECT f.id, f.cell_code, (SELECT c.code FROM cells c WHERE ST_Covers(c.geom, f.p) ORDER BY c.code LIMIT 1) AS expected
      FROM (SELECT id, cell_code, CASE WHEN GeometryType(geom) = 'POINT' THEN geom ELSE ST_PointOnSurface(geom) END AS p
        FROM facilities OFFSET 0) f) x
    WHERE cell_code IS DISTINCT FROM expected LIMIT 10`)).rows
  t.same(wrong, [], 'no component in another cell than the rule says')
  const outside = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM facilities WHERE cell_code IS NULL')).rows[0].n
  t.equal(outside, 0, 'none outside the grid')
})

t.test('nearest: the in-memory index and PostGIS KNN agree on 10,000 random points', async (t) => {
  const { lons, lats } = randomPoints(10_000, 1)
  for (const opts of [{ k: 5 }]) {
    let same = 0
    const diffs: string[] = []
    for (let s = 0; s < lons.length; s += 1000) {
      const ref = await postgis.nearestMany(lons.slice(s, s + 1000), lats.slice(s, s + 1000), opts)
      ref.forEach((r, j) => {
        const i = s + j
        const mem = index.nearest(lons[i], lats[i], opts)
        if (ids(mem).join() === ids(r).join()) same++
        else if (diffs.length < 5) diffs.push(`${lons[i]},${lats[i]}: ${ids(mem)} vs ${ids(r)}`)
        for (let m = 0; m < Math.min(mem.length, r.length); m++) {
          if (mem[m].id === r[m].id && Math.abs(mem[m].distanceM! - r[m].distanceM!) > 0.02 + 1e-5 * r[m].distanceM!) {
            diffs.push(`${mem[m].id}: ${mem[m].distanceM} m vs ${r[m].distanceM} m`)
          }
        }
      })
    }
    t.equal(same, lons.length, `k=${opts.k}: same ids in the same order at every point ${diffs.join('; ')}`)
  }
})

t.test('nearest with filters agrees too, and ties are broken by id', async (t) => {
  const { lons, lats } = randomPoints(1000, 2)
  const power = (await db.query<{ owner: string }>(`SELECT owner FROM facilities WHERE subclass = '01005' LIMIT 1`)).rows[0].owner
  const cases = [
    { k: 1 },
    { k: 3, subclasses: ['01005'] },
    { k: 4, subclasses: ['01001', '01002', '01003'] },
    { k: 2, owner: power },
    { k: 3, subclasses: ['04013', '02017'] },
  ]
  for (const o of cases) {
    const ref = await postgis.nearestMany(lons, lats, o)
    const differ = ref.map((r, i) => [ids(index.nearest(lons[i], lats[i], o)).join(), ids(r).join()]).filter(([a, b]) => a !== b)
    t.same(differ, [], `${JSON.stringify(o)}: agree at all ${lons.length} points`)
  }
  const bounded = { k: 5, subclasses: ['01037'], maxDistanceM: 50 }
  for (let i = 0; i < 150; i++) {
    t.same(ids(index.nearest(lons[i], lats[i], bounded)), ids(await postgis.nearest(lons[i], lats[i], bounded)), `${JSON.stringify(bounded)} at ${lons[i]},${lats[i]}`)
  }
  // two components at the very same spot: the smaller id comes first on both sides
  const twin = (await db.query<{ lon: number; lat: number }>(`SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM facilities
    WHERE GeometryType(geom) = 'POINT' ORDER BY id LIMIT 1`)).rows[0]
  const at = index.nearest(twin.lon, twin.lat, { k: 3 })
  t.same(ids(at), ids(await postgis.nearest(twin.lon, twin.lat, { k: 3 })))
  t.equal(at[0].distanceM, 0)
})

t.test('within, in a cell and in a bbox agree with PostGIS', async (t) => {
  const { lons, lats } = randomPoints(300, 3)
  for (let i = 0; i < lons.length; i++) {
    const mem = index.within(lons[i], lats[i], { radiusM: 60 })
    const ref = await postgis.within(lons[i], lats[i], { radiusM: 60 })
    // a component within a centimetre of the circle may fall either side of it
    const edge = (h: FacilityHit): boolean => Math.abs(h.distanceM! - 60) < 0.01
    t.same(ids(mem.filter((h) => !edge(h))), ids(ref.filter((h) => !edge(h))), `within 60 m of ${lons[i]},${lats[i]}`)
  }
  const cells = (await db.query<{ code: string }>('SELECT code FROM cells ORDER BY code LIMIT 40')).rows
  for (const { code } of cells) t.same(ids(index.inCell(code)), ids(await postgis.inCell(code)), `cell ${code}`)
  for (let i = 0; i < 40; i++) {
    const b: [number, number, number, number] = [lons[i], lats[i], lons[i] + 0.004, lats[i] + 0.003]
    t.same(ids(index.inBbox(b)), ids(await postgis.inBbox(b)), `bbox ${b.join(',')}`)
    t.same(ids(index.inBbox(b, { subclasses: ['04002'] })), ids(await postgis.inBbox(b, { subclasses: ['04002'] })), `trees in bbox ${b.join(',')}`)
  }
})

t.test('owner-at finds the power utility for a 01005 cover', async (t) => {
  const cover = (await db.query<{ id: string; lon: number; lat: number; owner: string; name: string }>(`SELECT f.id, ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat, f.owner, o.name
    FROM facilities f JOIN organisations o ON o.uscc = f.owner WHERE f.subclass = '01005' ORDER BY f.id LIMIT 1`)).rows[0]
  t.equal(cover.name, '国网北京市电力公司朝阳供电公司')
  // a supervisor's phone puts the report a few metres off
  const lon = cover.lon + 2 / 85_456
  const lat = cover.lat + 1.5 / 111_034
  const res = await app.inject(`/api/facilities/owner-at?lon=${lon}&lat=${lat}&subclass=01005`)
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.equal(body.found, true)
  t.equal(body.facility.id, cover.id)
  t.equal(body.owner.name, '国网北京市电力公司朝阳供电公司')
  t.equal(body.owner.duty_phone, '95598')
  t.ok(body.confidence.distance_m > 2 && body.confidence.distance_m < 3, `≈ 2.5 m away: ${body.confidence.distance_m}`)
  t.ok(['high', 'medium'].includes(body.confidence.level), body.confidence.reason)
  t.ok(body.facility.cell_responsible_unit.name.endsWith('网格化服务管理中心'), 'and the command centre that answers for the place')
  const ref = (await app.inject(`/api/facilities/owner-at?lon=${lon}&lat=${lat}&subclass=01005&engine=postgis`)).json()
  t.equal(ref.facility.id, cover.id, 'the PostGIS engine says the same')
  t.equal(ref.confidence.candidates, body.confidence.candidates)
  // the same spot as AMap reports it (GCJ-02, ≈ 500 m off)
  const [glon, glat] = fromWgs84(lon, lat, 'gcj02')
  const g = (await app.inject(`/api/facilities/owner-at?lon=${glon}&lat=${glat}&subclass=01005&crs=gcj02`)).json()
  t.equal(g.facility.id, cover.id, 'a GCJ-02 point finds the same cover')
  // far from any component: not found, with the distance to the nearest
  const none = (await app.inject(`/api/facilities/owner-at?lon=116.0&lat=39.5&subclass=01005`)).json()
  t.equal(none.found, false)
  t.equal(none.confidence.level, 'none')
})

t.test('HTTP lookups carry owner, maintainer (names and codes), distance and cell', async (t) => {
  const res = await app.inject('/api/facilities/nearest?lon=116.4612&lat=39.9205&k=3&subclass=01001,01005')
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.equal(body.count, 3)
  for (const f of body.facilities) {
    t.match(f, { id: /^[0-9]{17}$/, subclass: /^010(01|05)$/, owner: { code: /^[0-9A-Z]{18}$/, name: String }, cell_code: /^[0-9]{15}$/ })
    t.ok(f.maintainer === null || typeof f.maintainer.name === 'string')
    t.type(f.distance_m, 'number')
  }
  const ref = (await app.inject('/api/facilities/nearest?lon=116.4612&lat=39.9205&k=3&subclass=01001,01005&engine=postgis')).json()
  t.same(ref.facilities.map((f: { id: string }) => f.id), body.facilities.map((f: { id: string }) => f.id))
  const cell = body.facilities[0].cell_code
  const inCell = (await app.inject(`/api/facilities/in-cell/${cell}`)).json()
  t.ok(inCell.facilities.some((f: { id: string }) => f.id === body.facilities[0].id))
  const within = (await app.inject('/api/facilities/within?lon=116.4612&lat=39.9205&radius=80')).json()
  t.ok(within.facilities.every((f: { distance_m: number }) => f.distance_m <= 80))
  const one = await app.inject(`/api/facilities/${body.facilities[0].id}`)
  t.equal(one.statusCode, 200)
  t.match(one.json(), { type: 'Feature', properties: { id: body.facilities[0].id, owner_name: String, cell_code: cell } })
})

t.test('layers by owner and counts per owner per cell', async (t) => {
  const orgs = (await app.inject('/api/organisations?kind=utility')).json() as { uscc: string; name: string; owned: number }[]
  const power = orgs.find((o) => o.name === '国网北京市电力公司朝阳供电公司')!
  t.ok(power.owned > 0)
  const layer = await app.inject(`/api/facilities?bbox=116.42,39.88,116.50,39.94&owner=${power.uscc}&subclass=01005`)
  t.equal(layer.statusCode, 200, layer.body)
  const fc = layer.json() as FeatureCollection
  t.ok(fc.features.length > 0)
  t.ok(fc.features.every((f) => f.properties?.owner === power.uscc && f.properties?.subclass === '01005'))
  const mem = index.inBbox([116.42, 39.88, 116.50, 39.94], { owner: power.uscc, subclasses: ['01005'] })
  t.same(fc.features.map((f) => f.id), ids(mem), 'the layer is what the index holds there')
  const counts = (await app.inject(`/api/facilities/counts?owner=${power.uscc}`)).json() as { total: number; rows: { cell_code: string; owner: string; count: number }[] }
  t.equal(counts.total, power.owned, 'counts per cell add up to what the owner owns')
  t.ok(counts.rows.every((r) => r.owner === power.uscc))
  const classes = (await app.inject('/api/component-classes')).json() as { code: string; count: number }[]
  t.equal(classes.length, 153)
  t.ok(classes.find((c) => c.code === '01005')!.count > 0)
})

t.test('bad parameters are answered 4xx with the place', async (t) => {
  const urls = [
    '/api/facilities/nearest?lat=39.9', '/api/facilities/nearest?lon=116.4&lat=91', '/api/facilities/nearest?lon=abc&lat=39.9',
    '/api/facilities/nearest?lon=116.4&lat=39.9&k=0', '/api/facilities/nearest?lon=116.4&lat=39.9&k=1000',
    '/api/facilities/nearest?lon=116.4&lat=39.9&subclass=1005', '/api/facilities/nearest?lon=116.4&lat=39.9&subclass=09999',
    '/api/facilities/nearest?lon=116.4&lat=39.9&owner=91110000000000000X', '/api/facilities/nearest?lon=116.4&lat=39.9&owner=abc',
    '/api/facilities/nearest?lon=116.4&lat=39.9&crs=utm', '/api/facilities/nearest?lon=116.4&lat=39.9&engine=oracle',
    '/api/facilities/within?lon=116.4&lat=39.9', '/api/facilities/within?lon=116.4&lat=39.9&radius=-1', '/api/facilities/within?lon=116.4&lat=39.9&radius=100000',
    '/api/facilities/owner-at?lon=116.4', '/api/facilities/owner-at?lon=116.4&lat=39.9&tolerance=0', '/api/facilities/owner-at?lon=116.4&lat=39.9&nope=1',
    '/api/facilities/in-cell/123', '/api/facilities?bbox=1,2,3', '/api/facilities?bbox=117,40,116,39', '/api/facilities?limit=0',
    '/api/facilities/counts?cell=12', '/api/facilities/export?format=shp', '/api/facilities/12345', '/api/organisations?kind=DROP%20TABLE',
  ]
  for (const url of urls) {
    const res = await app.inject(url)
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${url}: ${res.statusCode}`)
    const err = res.json().error
    t.ok(err?.code && err.message, `${url}: ${err?.code}: ${err?.message}`)
  }
  t.equal((await app.inject('/api/facilities/11010501005999999')).statusCode, 404)
  const typo = (await app.inject('/api/facilities/nearest?lon=116.4&lat=39.9&subclass=09999')).json()
  t.match(typo.error, { code: 'unknown_subclass', details: { field: 'querystring.subclass' } })
})
