/**
 * 门前三包 routing: a case of a street matter reported on a shop's frontage is
 * routed to that shop as an assist unit, with the rule recorded; not another
 * matter, not a point beyond the tolerance; units and rules through the API;
 * contacts only for the roles that need them; the backfill links what intake would.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { auth } from './helpers/cases.ts'
import { TEST_FRONTAGE_UNITS } from './helpers/db.ts'

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { app, db } = ctx

/** A shop's frontage with no open case within 300 m (no duplicate can swallow the report). */
async function shop(skip = 0): Promise<{ id: string; name: string; lon: number; lat: number; x0: number; y0: number; x1: number; y1: number }> {
  const r = (await db.query<{ id: string; name: string; lon: number; lat: number; x0: number; y0: number; x1: number; y1: number }>(`
    SELECT u.id, u.name, ST_X(m) AS lon, ST_Y(m) AS lat, ST_X(ST_StartPoint(u.frontage)) AS x0, ST_Y(ST_StartPoint(u.frontage)) AS y0,
      ST_X(ST_EndPoint(u.frontage)) AS x1, ST_Y(ST_EndPoint(u.frontage)) AS y1
    FROM frontage_units u CROSS JOIN LATERAL (SELECT ST_LineInterpolatePoint(u.frontage, 0.5) AS m) p
    WHERE u.kind = 'shop' AND u.length_m > 12 AND ST_NPoints(u.frontage) = 2
      AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.is_open AND ST_DWithin(c.geom::geography, m::geography, 300))
      AND (SELECT count(*) FROM frontage_units v WHERE ST_DWithin(v.frontage_m, facility_plane(m), 20)) = 1
    ORDER BY u.id OFFSET $1 LIMIT 1`, [skip])).rows[0]
  if (!r) throw new Error('no shop frontage to test on')
  return r
}

/** The point `m` metres off the frontage's middle, at right angles (the plane of facility_plane). */
function off(s: Awaited<ReturnType<typeof shop>>, m: number): { lon: number; lat: number } {
  const kx = 85456.1
  const ky = 111033.7
  const dx = (s.x1 - s.x0) * kx
  const dy = (s.y1 - s.y0) * ky
  const l = Math.hypot(dx, dy)
  return { lon: s.lon + (-dy / l) * m / kx, lat: s.lat + (dx / l) * m / ky }
}

async function report(matter: string, point: { lon: number; lat: number }, key = 'supervisor'): Promise<number> {
  const r = await app.inject({ method: 'POST', url: '/api/cases', headers: auth(key), payload: { matter, description: '门前问题', point } })
  if (r.statusCode !== 201) throw new Error(`${r.statusCode} ${r.body}`)
  return r.json().case.id
}

const frontageOf = async (id: number) => (await app.inject({ url: `/api/cases/${id}/frontage`, headers: auth('leader') })).json() as { unit_id: string; role: string; rule_name: string; rule_id: number; distance_m: number; source: string }[]

t.test('a case on a shop\'s frontage goes to that shop, with the rule', async (t) => {
  const s = await shop()
  const id = await report('11010509005', { lon: s.lon, lat: s.lat }) // 店外经营
  const units = await frontageOf(id)
  t.equal(units.length, 1)
  t.match(units[0], { unit_id: s.id, role: 'assist', rule_name: '门前三包·秩序', source: 'intake' })
  t.ok(units[0].distance_m < 0.5, `on the line (${units[0].distance_m} m)`)
  const rule = (await db.query<{ id: number }>(`SELECT id FROM frontage_rules WHERE duty = 'order'`)).rows[0]
  t.equal(units[0].rule_id, rule.id, 'the rule that chose it is recorded')
  const events = (await app.inject({ url: `/api/cases/${id}/events`, headers: auth('leader') })).json() as { action: string; data: { frontage?: { unit_id: string } } | null }[]
  t.equal(events.find((e) => e.action === 'report')?.data?.frontage?.unit_id, s.id, 'the intake event says so')
  const unit = (await app.inject({ url: `/api/frontage-units/${s.id}`, headers: auth('leader') })).json() as { cases: { case_id: number }[] }
  t.ok(unit.cases.some((c) => c.case_id === id), 'the unit lists the case')
  // A cleanliness matter 5 m off the kerb line, towards the door: still the shop's.
  const id2 = await report('11010506012', off(s, 5)) // 道路不洁
  t.match(await frontageOf(id2), [{ unit_id: s.id, rule_name: '门前三包·市容环境卫生' }])
})

t.test('not for other matters, not beyond the tolerance', async (t) => {
  const s = await shop(1)
  const construction = await report('11010508002', { lon: s.lon, lat: s.lat }) // 施工占道: not a frontage duty
  t.same(await frontageOf(construction), [], 'construction is not the shop\'s')
  const far = await report('11010509006', off(s, 10)) // 占道经营, 10 m out (tolerance 8 m)
  t.same(await frontageOf(far), [], 'beyond the tolerance')
  const d = (await db.query<{ d: number }>(`SELECT ST_Distance(frontage_m, facility_plane(ST_SetSRID(ST_MakePoint($2, $3), 4326))) AS d FROM frontage_units WHERE id = $1`, [s.id, off(s, 10).lon, off(s, 10).lat])).rows[0].d
  t.ok(d > 9.9 && d < 10.1, `the point was 10 m from the frontage (${d.toFixed(2)})`)
  // Turning the rule off stops it.
  await db.query(`UPDATE frontage_rules SET active = false WHERE duty = 'greenery'`)
  const green = await report('11010506017', { lon: s.lon, lat: s.lat }) // 绿地脏乱
  t.same(await frontageOf(green), [], 'an inactive rule routes nothing')
  await db.query(`UPDATE frontage_rules SET active = true WHERE duty = 'greenery'`)
})

t.test('units, rules and contacts through the API', async (t) => {
  const s = await shop(2)
  const sd = (await db.query<{ sd: string }>('SELECT subdistrict_code AS sd FROM frontage_units WHERE id = $1', [s.id])).rows[0].sd
  const list = (await app.inject({ url: `/api/frontage-units?subdistrict=${sd}&limit=5000`, headers: auth('leader') })).json() as { total: number; items: { id: string; subdistrict_code: string; contact_phone: string | null }[] }
  const direct = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM frontage_units WHERE subdistrict_code = $1', [sd])).rows[0].n
  t.equal(list.total, direct, 'every unit of the subdistrict')
  t.ok(list.items.some((u) => u.id === s.id))
  t.ok(list.items.every((u) => u.subdistrict_code === sd && u.contact_phone === null), 'a leader sees no contact phones')
  const forDispatcher = (await app.inject({ url: `/api/frontage-units/${s.id}`, headers: auth('dispatcher') })).json() as { contact_phone: string | null; frontage: { type: string } }
  t.match(forDispatcher.contact_phone, /^13\d{9}$/, 'a dispatcher does')
  t.equal(forDispatcher.frontage.type, 'LineString')
  const rules = (await app.inject({ url: '/api/frontage/rules', headers: auth('leader') })).json() as { duty: string; matter_prefixes: string[] }[]
  t.same(rules.map((r) => r.duty), ['cleanliness', 'order', 'greenery'])
  t.ok(rules[1].matter_prefixes.includes('09005'))
  t.equal((await app.inject({ url: `/api/frontage-units/${s.id}`, headers: auth('resident') })).statusCode, 403)
  t.equal((await app.inject({ url: '/api/frontage-units/FU999999', headers: auth('leader') })).statusCode, 404)
  const total = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM frontage_units')).rows[0].n
  t.ok(total > TEST_FRONTAGE_UNITS * 0.9 && total <= TEST_FRONTAGE_UNITS, `the template has about ${TEST_FRONTAGE_UNITS} units (${total})`)
})

t.test('the backfill links what intake would have, once', async (t) => {
  const linked = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM case_frontage WHERE source = 'backfill'`)).rows[0].n
  t.ok(linked > 0, `the template's history has cases on frontages (${linked})`)
  // Every backfilled link is a matching matter within the rule's tolerance.
  const bad = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM case_frontage f JOIN cases c ON c.id = f.case_id JOIN frontage_units u ON u.id = f.unit_id
    JOIN frontage_rules r ON r.id = f.rule_id
    WHERE NOT (substr(c.matter_code, 7, 5) = ANY(r.matter_prefixes)) OR ST_Distance(u.frontage_m, facility_plane(c.geom)) > r.tolerance_m`)).rows[0].n
  t.equal(bad, 0)
  // What is left: the greenery case reported while its rule was off (the test above) lies on a frontage.
  const left = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_frontage f WHERE f.case_id = c.id)
    AND EXISTS (SELECT 1 FROM frontage_rules r JOIN frontage_units u ON ST_DWithin(u.frontage_m, facility_plane(c.geom), r.tolerance_m)
      WHERE r.active AND substr(c.matter_code, 7, 5) = ANY(r.matter_prefixes))`)).rows[0].n
  t.equal(left, 1, 'one case left to link')
  const first = await app.inject({ method: 'POST', url: '/api/frontage/backfill', headers: auth('admin') })
  t.equal(first.statusCode, 200)
  t.equal(first.json().linked, left, 'the backfill links it')
  const again = await app.inject({ method: 'POST', url: '/api/frontage/backfill', headers: auth('admin') })
  t.equal(again.json().linked, 0, 'nothing left to link')
  t.equal((await app.inject({ method: 'POST', url: '/api/frontage/backfill', headers: auth('leader') })).statusCode, 403)
})
