/**
 * npm start listens before the facility index is built (server/main.ts): until
 * then the snapshot holds only the names and every lookup is answered by
 * PostGIS, with the same answers the in-memory index gives once it is in.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'

const ctx = await testApp('chaoyang', {}, { backgroundIndexes: true })
t.teardown(() => ctx.close())
const { app } = ctx

interface HitList { engine: string; count: number; facilities: { id: string; owner: string; owner_name: string | null; distance_m: number | null }[] }
interface OwnerAt { found: boolean; facility: { id: string } | null; owner: { uscc: string; name: string } | null; confidence: { level: string } }
interface ClassCount { code: string; count: number }

// A spot among the fixture's covers: the first component's own point.
const first = (await ctx.db.query<{ lon: number; lat: number; subclass: string }>(
  'SELECT ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat, subclass FROM facilities ORDER BY id LIMIT 1')).rows[0]
const q = `lon=${first.lon + 0.0001}&lat=${first.lat + 0.00005}`

async function answers(): Promise<{ nearest: HitList; within: HitList; ownerAt: OwnerAt; classes: ClassCount[] }> {
  const get = async <T>(url: string): Promise<T> => {
    const res = await app.inject({ url })
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
    return res.json<T>()
  }
  return {
    nearest: await get<HitList>(`/api/facilities/nearest?${q}&k=10`),
    within: await get<HitList>(`/api/facilities/within?${q}&radius=150`),
    ownerAt: await get<OwnerAt>(`/api/facilities/owner-at?${q}&subclass=${first.subclass}`),
    classes: await get<ClassCount[]>('/api/component-classes'),
  }
}

t.test('before the index is built, PostGIS answers, with the names already there', async (t) => {
  const s = app.facilities.current()
  t.equal(s.ready, false, 'no index yet')
  t.equal(s.index.size, 0)
  t.ok(s.organisations.size > 50, `${s.organisations.size} organisations known`)
  t.ok(s.classes.size >= 150, 'component classes known')
  const health = await app.inject({ url: '/healthz' })
  t.equal(health.json<{ facility_index: string }>().facility_index, 'building', '/healthz says the index is being built')
  const before = await answers()
  t.equal(before.nearest.engine, 'postgis')
  t.equal(before.nearest.count, 10)
  t.ok(before.nearest.facilities.every((f) => f.owner_name !== null), 'owners named from the start')
  t.equal(before.within.engine, 'postgis')
  t.ok(before.within.count > 0)
  t.equal(before.ownerAt.found, true)
  t.ok(before.classes.some((c) => c.count > 0), 'subclass counts from SQL')

  const built = await app.facilities.rebuild()
  t.equal(built.ready, true)
  await app.facilities.whenReady()
  t.equal((await app.inject({ url: '/healthz' })).json<{ facility_index: string }>().facility_index, 'ready')
  const after = await answers()
  t.equal(after.nearest.engine, 'memory', 'the index answers once it is in')
  t.same(after.nearest.facilities.map((f) => f.id), before.nearest.facilities.map((f) => f.id), 'nearest: the same components in the same order')
  t.same(after.within.facilities.map((f) => f.id), before.within.facilities.map((f) => f.id), 'within: the same components')
  t.same(after.ownerAt.facility, before.ownerAt.facility, 'owner-at: the same component')
  t.same(after.ownerAt.owner, before.ownerAt.owner, 'owner-at: the same owner')
  t.same(after.classes, before.classes, 'the same counts per subclass')
})

t.test('the address index is read on first use when start-up left it for later', async (t) => {
  const place = (await ctx.db.query<{ address: string }>("SELECT address FROM places WHERE kind = 'building' AND address IS NOT NULL ORDER BY id LIMIT 1")).rows[0]
  const res = await app.inject({ url: `/api/geocode?address=${encodeURIComponent(place.address)}` })
  t.equal(res.statusCode, 200, res.body.slice(0, 200))
  t.match(res.json<{ cell: string }>().cell, /^[0-9]{15}$/, 'an address is placed in a cell')
})
