/**
 * Service coverage on the 10 × 10 test grid (cell centres 300 m apart): every
 * kind at every cell centre except a planted gap — no kindergarten at (4, 4),
 * no public toilet (a component, 03001) at (6, 2). Within 250 m those two cells
 * are under-served; within 400 m their edge neighbours reach them.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { bearer, buildDistrict, cellCentre, cellCode, DISTRICT, N, ORG } from './helpers/analysis.ts'

const { app, db, close } = await testApp('empty')
t.teardown(close)
const users = await buildDistrict(db)
const leader = bearer(users.leader)
const planner = bearer(users.planner)

const NO_KINDERGARTEN = cellCode(4, 4)
const NO_TOILET = cellCode(6, 2)

t.test('planners add outlets; kinds are checked', async (t) => {
  const outlets: { kind: string; name: string; lon: number; lat: number }[] = []
  let seq = 0
  for (let col = 0; col < N; col++) {
    for (let row = 0; row < N; row++) {
      const p = cellCentre(col, row)
      for (const kind of ['community_service', 'health', 'elderly_care', 'grocery', 'kindergarten']) {
        if (kind === 'kindergarten' && cellCode(col, row) === NO_KINDERGARTEN) continue
        outlets.push({ kind, name: `${kind} ${col}-${row}`, lon: p.lon, lat: p.lat })
      }
      // Public toilets are management components (03001), not outlets.
      if (cellCode(col, row) !== NO_TOILET) {
        seq++
        await db.query(`INSERT INTO facilities (id, subclass, geom, owner, cell_code) VALUES ($1, '03001', ST_SetSRID(ST_MakePoint($2, $3), 4326), $4, $5)`,
          [`${DISTRICT}03001${String(seq).padStart(6, '0')}`, p.lon, p.lat, ORG.sanitation, cellCode(col, row)])
      }
    }
  }
  const r = await app.inject({ method: 'POST', url: '/api/service-outlets', headers: planner, payload: { outlets } })
  t.equal(r.statusCode, 201, r.body)
  t.equal(r.json().ids.length, 499)
  const bad = await app.inject({ method: 'POST', url: '/api/service-outlets', headers: planner, payload: { outlets: [{ kind: 'casino', name: 'x', lon: 116.46, lat: 39.93 }] } })
  t.equal(bad.statusCode, 422)
  t.equal(bad.json().error.code, 'unknown_service_kind')
  t.equal(bad.json().error.details[0].field, 'body.outlets.0.kind')
  const forbidden = await app.inject({ method: 'POST', url: '/api/service-outlets', headers: leader, payload: { outlets: [{ kind: 'health', name: 'x', lon: 116.46, lat: 39.93 }] } })
  t.equal(forbidden.statusCode, 403)
  const list = await app.inject({ method: 'GET', url: '/api/service-outlets?kind=kindergarten' })
  t.equal(list.json().features.length, 99)
})

interface Cov { distance_m: number; kinds: { code: string }[]; cells: { code: string; counts: number[]; nearest_m: (number | null)[] }[] }

t.test('within 250 m the planted cells are under-served, and only they', async (t) => {
  const r = await app.inject({ method: 'GET', url: '/api/analysis/coverage/underserved?distance_m=250', headers: leader })
  t.equal(r.statusCode, 200, r.body)
  const body = r.json() as { cells_checked: number; total: number; items: { code: string; missing: string[]; nearest_m: number[] }[] }
  t.equal(body.cells_checked, 100)
  t.same(body.items.map((i) => [i.code, i.missing]), [[NO_KINDERGARTEN, ['kindergarten']], [NO_TOILET, ['public_toilet']]])
  for (const i of body.items) t.ok(Math.abs(i.nearest_m[0] - 300) < 5, `nearest ${i.missing[0]} of ${i.code} is the next cell, ${i.nearest_m[0]} m`)
})

t.test('within 400 m the edge neighbours reach them; counts per kind', async (t) => {
  const r = await app.inject({ method: 'GET', url: '/api/analysis/coverage/underserved?distance_m=400', headers: leader })
  t.equal(r.json().total, 0)
  const c = (await app.inject({ method: 'GET', url: `/api/analysis/coverage?distance_m=400&cell=${NO_KINDERGARTEN}`, headers: leader })).json() as Cov
  const kinds = c.kinds.map((k) => k.code)
  const counts = Object.fromEntries(kinds.map((k, i) => [k, c.cells[0].counts[i]]))
  // Its own centre and the four edge neighbours at 300 m; the diagonals are 424 m away.
  t.same(counts, { community_service: 5, health: 5, elderly_care: 5, grocery: 5, kindergarten: 4, public_toilet: 5 })
  const corner = (await app.inject({ method: 'GET', url: `/api/analysis/coverage?cell=${cellCode(0, 0)}`, headers: leader })).json() as Cov
  // Default 1 km from the corner cell: columns and rows 0–3 within 1,000 m of (0, 0): 12 centres (3·300, 3·300 is 1,273 m).
  t.equal(corner.distance_m, 1000)
  t.equal(corner.cells[0].counts[kinds.indexOf('health')], [0, 1, 2, 3].flatMap((a) => [0, 1, 2, 3].map((b) => Math.hypot(a, b) * 300)).filter((d) => d <= 1000).length)
  const sub = (await app.inject({ method: 'GET', url: '/api/analysis/coverage?subdistrict=110105101&kind=health,kindergarten', headers: leader })).json() as Cov
  t.equal(sub.cells.length, 50)
  t.same(sub.kinds.map((k) => k.code), ['health', 'kindergarten'])
})

t.test('bad parameters get 4xx', async (t) => {
  const r = await app.inject({ method: 'GET', url: '/api/analysis/coverage?kind=casino', headers: leader })
  t.equal(r.statusCode, 400)
  t.equal(r.json().error.code, 'unknown_service_kind')
  t.equal(r.json().error.details[0].field, 'querystring.kind')
  t.equal((await app.inject({ method: 'GET', url: '/api/analysis/coverage?distance_m=0', headers: leader })).statusCode, 400)
  t.equal((await app.inject({ method: 'GET', url: '/api/analysis/coverage', headers: bearer(users.resident) })).statusCode, 403)
})

t.test('an outlet given in GCJ-02 is stored in WGS84', async (t) => {
  const p = cellCentre(5, 5)
  const r = await app.inject({ method: 'POST', url: '/api/service-outlets', headers: planner, payload: { crs: 'gcj02', outlets: [{ kind: 'health', name: 'gcj', lon: p.lon, lat: p.lat }] } })
  t.equal(r.statusCode, 201)
  const d = (await db.query<{ d: number }>('SELECT ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography) AS d FROM service_outlets WHERE id = $1', [r.json().ids[0], p.lon, p.lat])).rows[0].d
  t.ok(d > 300 && d < 800, `moved ${Math.round(d)} m from the GCJ-02 coordinates`)
})
