/**
 * The comprehensive query (综合查询) against direct PostGIS counts: a
 * subdistrict, a community and a cell (what lies in their geometry), and a
 * drawn 1 km² polygon (what it intersects); named residents only for the roles
 * that need them; bad areas refused.
 */
import t, { type Test } from 'tap'
import { testApp } from './helpers/app.ts'
import { auth } from './helpers/cases.ts'

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { app, db } = ctx

interface Result {
  area: { kind: string; code: string | null; cells: number; area_m2: number }
  counts: Record<string, number>
  buildings: { count: number; by_use: Record<string, number> }
  people: { households: number; registered: number; resident: number; key_persons: { total: number; by_category: Record<string, number> }; personal_data: string; residents: { name: string; phone: string | null }[] | null }
  cases: { open: number; reported_in_window: number; by_status: Record<string, number>; open_items: { id: number }[] }
  facilities: { total: number; by_major: Record<string, number>; by_status: Record<string, number> }
  frontage_units: { count: number; length_m: number }
  lists: Record<string, { id: string; kind: string }[]>
}

// The template's history ends 2025-11-01; a window over its last 30 days.
const TO = '2025-11-01T00:00:00.000Z'
const FROM = '2025-10-02T00:00:00.000Z'

async function direct(geomSql: string, params: unknown[]): Promise<{ kinds: Record<string, number>; resident: number; households: number; keyPersons: number; open: number; inWindow: number; facilities: number }> {
  const kinds = Object.fromEntries((await db.query<{ kind: string; n: number }>(`WITH a AS (${geomSql}) SELECT b.kind, count(*)::int AS n FROM base_records b, a WHERE ST_Covers(a.g, b.geom) GROUP BY 1`, params)).rows.map((r) => [r.kind, r.n]))
  const p = (await db.query<{ resident: number; households: number }>(`WITH a AS (${geomSql}) SELECT coalesce(sum(pop_resident), 0)::float8 AS resident, coalesce(sum(households), 0)::float8 AS households FROM base_records b, a WHERE ST_Covers(a.g, b.geom)`, params)).rows[0]
  const k = (await db.query<{ n: number }>(`WITH a AS (${geomSql}) SELECT count(*)::int AS n FROM base_residents r JOIN base_records b ON b.id = r.building_id, a WHERE ST_Covers(a.g, b.geom)`, params)).rows[0].n
  const c = (await db.query<{ open: number; w: number }>(`WITH a AS (${geomSql}) SELECT count(*) FILTER (WHERE c.is_open)::int AS open,
      count(*) FILTER (WHERE c.reported_at >= $${params.length + 1} AND c.reported_at < $${params.length + 2})::int AS w FROM cases c, a WHERE ST_Covers(a.g, c.geom)`, [...params, FROM, TO])).rows[0]
  const f = (await db.query<{ n: number }>(`WITH a AS (${geomSql}) SELECT count(*)::int AS n FROM facilities f, a WHERE ST_Covers(a.g, ST_PointOnSurface(f.geom))`, params)).rows[0].n
  return { kinds, resident: p.resident, households: p.households, keyPersons: k, open: c.open, inWindow: c.w, facilities: f }
}

function agree(t: Test, r: Result, d: Awaited<ReturnType<typeof direct>>, what: string): void {
  for (const [kind, n] of Object.entries(r.counts)) t.equal(n, d.kinds[kind] ?? 0, `${what}: ${kind} as PostGIS counts them`)
  t.equal(r.people.resident, d.resident, `${what}: resident population`)
  t.equal(r.people.households, d.households, `${what}: households`)
  t.equal(r.people.key_persons.total, d.keyPersons, `${what}: named residents counted`)
  t.equal(r.cases.open, d.open, `${what}: open cases`)
  t.equal(r.cases.reported_in_window, d.inWindow, `${what}: cases reported in the window`)
  t.equal(r.facilities.total, d.facilities, `${what}: components`)
}

const busiest = (await db.query<{ sd: string; cm: string; cell: string }>(`SELECT subdistrict_code AS sd, community_code AS cm, cell_code AS cell FROM base_records
  GROUP BY 1, 2, 3 ORDER BY count(*) DESC, 3 LIMIT 1`)).rows[0]

t.test('a subdistrict, a community and a cell agree with ST_Covers over their geometry', async (t) => {
  for (const [kind, code, table] of [['subdistrict', busiest.sd, 'subdistricts'], ['community', busiest.cm, 'communities'], ['cell', busiest.cell, 'cells']] as const) {
    const res = await app.inject({ url: `/api/base/query?${kind}=${code}&from=${FROM}&to=${TO}`, headers: auth('leader') })
    t.equal(res.statusCode, 200, res.statusCode === 200 ? 'answered' : res.body.slice(0, 300))
    const r = res.json() as Result
    t.equal(r.area.code, code)
    t.ok(r.counts.building > 0, `${kind}: has buildings`)
    agree(t, r, await direct(`SELECT geom AS g FROM ${table} WHERE code = $1`, [code]), kind)
    const listed = Object.values(r.lists).flat()
    t.ok(listed.length > 0 && listed.every((l) => r.counts[l.kind] > 0), `${kind}: lists records of the kinds counted`)
    t.ok(Object.values(r.lists).every((l) => l.length <= 20), 'at most `limit` per kind')
  }
  const sd = (await app.inject({ url: `/api/base/query?subdistrict=${busiest.sd}&from=${FROM}&to=${TO}`, headers: auth('leader') })).json() as Result
  t.ok(sd.people.resident > 10_000, 'a subdistrict holds tens of thousands of residents')
  t.ok(sd.people.registered < sd.people.resident && sd.people.registered > 0.4 * sd.people.resident, 'registered are fewer than residents')
  t.equal(Object.values(sd.buildings.by_use).reduce((a, b) => a + b, 0), sd.counts.building, 'every building has a use')
})

t.test('a drawn 1 km² polygon agrees with ST_Intersects, frontage units included', async (t) => {
  const c = (await db.query<{ lon: number; lat: number }>(`SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM base_records WHERE cell_code = $1 ORDER BY id LIMIT 1`, [busiest.cell])).rows[0]
  // 1 km × 1 km: ±500 m at this latitude.
  const dx = 500 / 85_390
  const dy = 500 / 111_030
  const polygon = { type: 'Polygon', coordinates: [[[c.lon - dx, c.lat - dy], [c.lon + dx, c.lat - dy], [c.lon + dx, c.lat + dy], [c.lon - dx, c.lat + dy], [c.lon - dx, c.lat - dy]]] }
  const res = await app.inject({ method: 'POST', url: '/api/base/query', headers: auth('leader'), payload: { polygon, from: FROM, to: TO } })
  t.equal(res.statusCode, 200, res.statusCode === 200 ? 'answered' : res.body.slice(0, 300))
  const r = res.json() as Result
  t.ok(Math.abs(r.area.area_m2 - 1e6) < 1e4, `about 1 km² (${r.area.area_m2})`)
  const g = 'SELECT ST_SetSRID(ST_GeomFromGeoJSON($1), 4326) AS g'
  const d = await direct(g, [JSON.stringify(polygon)])
  agree(t, r, d, 'polygon')
  const fu = (await db.query<{ n: number }>(`WITH a AS (${g}) SELECT count(*)::int AS n FROM frontage_units u, a WHERE ST_Intersects(u.frontage, a.g)`, [JSON.stringify(polygon)])).rows[0].n
  t.equal(r.frontage_units.count, fu, 'frontage units that touch the polygon')
  t.ok(r.counts.building > 0 && r.cases.open + r.cases.reported_in_window > 0, 'the polygon holds buildings and cases')
  const facilities = (await db.query<{ n: number }>(`WITH a AS (${g}) SELECT count(*)::int AS n FROM facilities f, a WHERE ST_Intersects(f.geom, a.g)`, [JSON.stringify(polygon)])).rows[0].n
  t.equal(r.facilities.total, facilities, 'components that touch the polygon')
})

t.test('named residents: the command centre sees names, other roles counts', async (t) => {
  const sd = busiest.sd
  const names = (await db.query<{ name: string; phone: string }>(`SELECT name, phone FROM base_residents WHERE cell_code LIKE $1 || '%' ORDER BY id LIMIT 1`, [sd])).rows[0]
  t.ok(names, 'the subdistrict has named residents')
  const operator = await app.inject({ url: `/api/base/query?subdistrict=${sd}&limit=200`, headers: auth('operator') })
  const o = operator.json() as Result
  t.equal(o.people.personal_data, 'names')
  t.ok(o.people.residents && o.people.residents.length === Math.min(200, o.people.key_persons.total), 'names listed')
  t.ok(operator.body.includes(names.phone), 'with their phone numbers')
  for (const key of ['leader', 'supervisor', 'dispatcher', 'planner', 'power']) {
    const res = await app.inject({ url: `/api/base/query?subdistrict=${sd}&limit=200`, headers: auth(key) })
    t.equal(res.statusCode, 200, key)
    const r = res.json() as Result
    t.equal(r.people.personal_data, 'counts', `${key}: counts only`)
    t.equal(r.people.residents, null, `${key}: no names`)
    t.equal(r.people.key_persons.total, o.people.key_persons.total, `${key}: the same count`)
    t.notOk(res.body.includes(names.phone), `${key}: no phone number anywhere in the answer`)
  }
  t.equal((await app.inject({ url: `/api/base/query?subdistrict=${sd}`, headers: auth('resident') })).statusCode, 403, 'residents may not query')
  t.equal((await app.inject({ url: `/api/base/query?subdistrict=${sd}` })).statusCode, 401, 'signed in only')
})

t.test('bad areas are refused with a code, never a 500', async (t) => {
  const q = (payload: unknown) => app.inject({ method: 'POST', url: '/api/base/query', headers: auth('leader'), payload: payload as Record<string, unknown> })
  const bowtie = { type: 'Polygon', coordinates: [[[116.46, 39.92], [116.47, 39.93], [116.47, 39.92], [116.46, 39.93], [116.46, 39.92]]] }
  let r = await q({ polygon: bowtie })
  t.equal(r.statusCode, 422)
  t.equal(r.json().error.code, 'invalid_geometry', 'a self-intersecting polygon')
  r = await q({ polygon: { type: 'Point', coordinates: [116.46, 39.92] } })
  t.equal(r.statusCode, 400)
  t.equal(r.json().error.code, 'invalid_geometry')
  r = await q({ polygon: { type: 'Polygon', coordinates: [[[116.46, 39.92], ['x', 39.93], [116.47, 39.92], [116.46, 39.92]]] } })
  t.equal(r.json().error.code, 'invalid_coordinates')
  r = await app.inject({ url: '/api/base/query', headers: auth('leader') })
  t.equal(r.json().error.code, 'area_required')
  r = await app.inject({ url: `/api/base/query?subdistrict=${busiest.sd}&community=${busiest.cm}`, headers: auth('leader') })
  t.equal(r.json().error.code, 'area_required', 'one area at a time')
  r = await app.inject({ url: '/api/base/query?subdistrict=110105999', headers: auth('leader') })
  t.equal(r.statusCode, 404)
  r = await app.inject({ url: `/api/base/query?subdistrict=${busiest.sd}&from=2025-11-01T00:00:00Z&to=2025-10-01T00:00:00Z`, headers: auth('leader') })
  t.equal(r.json().error.code, 'invalid_window')
})

t.test('a polygon drawn on a Chinese map (GCJ-02) finds what the same place holds in WGS84', async (t) => {
  const { fromWgs84 } = await import('../geocoder/crs.ts')
  const c = (await db.query<{ lon: number; lat: number }>(`SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM base_records WHERE cell_code = $1 ORDER BY id LIMIT 1`, [busiest.cell])).rows[0]
  const d = 0.003
  const ring = [[c.lon - d, c.lat - d], [c.lon + d, c.lat - d], [c.lon + d, c.lat + d], [c.lon - d, c.lat + d], [c.lon - d, c.lat - d]]
  const wgs = await app.inject({ method: 'POST', url: '/api/base/query', headers: auth('leader'), payload: { polygon: { type: 'Polygon', coordinates: [ring] } } })
  const gcj = await app.inject({ method: 'POST', url: '/api/base/query', headers: auth('leader'), payload: { crs: 'gcj02', polygon: { type: 'Polygon', coordinates: [ring.map(([x, y]) => fromWgs84(x, y, 'gcj02'))] } } })
  t.same((gcj.json() as Result).counts, (wgs.json() as Result).counts)
})
