/**
 * The facility fixture and the reference data: component classes in the
 * database equal the standard's table; the generator is deterministic, scales,
 * keeps the mix, and gives every utility its own covers.
 */
import t from 'tap'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { FeatureCollection } from 'geojson'
import { testApp } from './helpers/app.ts'
import { chaoyangGridText } from '../fixtures/load.ts'
import { fixtureOrganisations } from '../fixtures/organisations.ts'
import { FACILITY_MIX, generateFacilities } from '../fixtures/facilities.ts'
import { isValidUscc } from '../grids/uscc.ts'
import { parseCsv } from '../geocoder/facility-csv.ts'

t.test('component_classes holds the 153 subclasses of the reference CSV', async (t) => {
  const ctx = await testApp('empty')
  t.teardown(() => ctx.close())
  const csv = parseCsv(readFileSync(new URL('../fixtures/reference/gbt47678-5-components.csv', import.meta.url), 'utf8'))
  const want = csv.records.map(([code, major, name]) => ({ code, major_name: major, name }))
  const got = (await ctx.db.query<{ code: string; major_name: string; name: string }>(
    'SELECT k.code, j.name AS major_name, k.name FROM component_classes k JOIN component_majors j ON j.code = k.major ORDER BY k.code')).rows
  t.equal(want.length, 153)
  t.same(got, want)
  t.equal((await ctx.app.inject('/api/component-classes')).json().length, 153)
  const empty = (await ctx.app.inject('/api/facilities/nearest?lon=116.4&lat=39.9')).json()
  t.same(empty.facilities, [], 'an empty registry answers with nothing, not an error')
})

const grid = JSON.parse(await chaoyangGridText()) as FeatureCollection
const subdistricts = new Map<string, string>()
for (const f of grid.features) subdistricts.set(String(f.properties?.subdistrict_code), String(f.properties?.subdistrict_name))
const orgs = fixtureOrganisations([...subdistricts].map(([code, name]) => ({ code, name })))

t.test('organisations: valid unique credit codes, the utilities by name, an office per subdistrict', async (t) => {
  const codes = orgs.list.map((o) => o.uscc)
  t.equal(new Set(codes).size, codes.length)
  t.ok(codes.every(isValidUscc))
  t.equal(orgs.list.filter((o) => o.kind === 'subdistrict_office').length, 43)
  for (const name of ['国网北京市电力公司朝阳供电公司', '北京市自来水集团有限责任公司', '北京城市排水集团有限责任公司', '北京市燃气集团有限责任公司',
    '北京市热力集团有限责任公司', '北京歌华有线电视网络股份有限公司', '北京市朝阳区城市管理委员会']) {
    t.ok(orgs.list.some((o) => o.name === name), name)
  }
  t.same(fixtureOrganisations([...subdistricts].map(([code, name]) => ({ code, name }))), orgs, 'deterministic')
})

t.test('facilities: deterministic, scalable, the mix and the owners', async (t) => {
  const a = generateFacilities(grid, orgs, { count: 20_000 })
  const b = generateFacilities(grid, orgs, { count: 20_000 })
  const hash = (x: unknown): string => createHash('sha1').update(JSON.stringify(x)).digest('hex')
  t.equal(hash(a), hash(b), 'the same inputs give the same rows')
  t.ok(Math.abs(a.length - 20_000) < 200, `≈ 20,000: ${a.length}`)
  const big = generateFacilities(grid, orgs, { count: 60_000 })
  t.ok(Math.abs(big.length - 60_000) < 600, `scales: ${big.length}`)
  t.throws(() => generateFacilities(grid, orgs, { count: 2_000_001 }), /count/)
  const ids = a.map((r) => r.id)
  t.equal(new Set(ids).size, ids.length, 'unique IDs')
  t.ok(ids.every((id) => /^110105[0-9]{11}$/.test(id) && id.slice(11) !== '000000'), '17-digit layout')
  t.ok(a.every((r) => r.id.slice(6, 11) === r.subclass))
  const bySub = new Map<string, number>()
  for (const r of a) bySub.set(r.subclass, (bySub.get(r.subclass) ?? 0) + 1)
  for (const [sub, share] of FACILITY_MIX) {
    const n = bySub.get(sub) ?? 0
    t.ok(Math.abs(n / a.length - share) < 0.01 + share * 0.1, `${sub}: ${n}`)
  }
  const owners = (sub: string): Set<string> => new Set(a.filter((r) => r.subclass === sub).map((r) => r.owner))
  t.same([...owners('01005')], [orgs.role.power], 'power covers belong to the power utility')
  t.same([...owners('01001')], [orgs.role.water])
  t.same([...owners('01011')], [orgs.role.gas])
  t.same([...owners('01007')].sort(), [orgs.role.unicom, orgs.role.mobile, orgs.role.telecom].sort(), 'telecom covers split among the operators')
  t.ok([...owners('01023')].every((o) => o.startsWith('11110105')), 'covers of no known owner are the command centre\'s')
  t.ok(a.some((r) => r.geometry.type === 'LineString') && a.some((r) => r.geometry.type === 'Polygon'))
  t.ok(a.filter((r) => r.status !== 'intact').length > a.length * 0.03, 'some damaged, missing, occupied, abandoned')
})
