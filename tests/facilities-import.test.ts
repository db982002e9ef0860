/**
 * Facility import through the API and the CLI command: a good file upserts by
 * component ID and the index sees it at once; every bad row is reported by row
 * number, field and reason and nothing is written; skip_invalid imports the
 * good rows and lists the others; export → import changes nothing.
 */
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Feature, FeatureCollection } from 'geojson'
import { testApp } from './helpers/app.ts'
import { fromWgs84 } from '../geocoder/crs.ts'
import { facilitiesCommand } from '../server/facility-cli.ts'
import { makeUscc } from '../grids/uscc.ts'
import { auth } from './helpers/cases.ts'

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { app, db } = ctx

const orgId = async (name: string): Promise<string> => (await db.query<{ uscc: string }>('SELECT uscc FROM organisations WHERE name = $1', [name])).rows[0].uscc
const POWER = await orgId('国网北京市电力公司朝阳供电公司')
const WATER = await orgId('北京市自来水集团有限责任公司')
/** Points well inside five cells. */
const spots = (await db.query<{ code: string; lon: number; lat: number }>(`SELECT code, ST_X(p) AS lon, ST_Y(p) AS lat
  FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM cells ORDER BY code LIMIT 5) x`)).rows
const r7 = (v: number): number => Math.round(v * 1e7) / 1e7

interface Problem { row: number | null; id: string | null; field: string; error: string; reason: string }
interface ErrorReply { error: { code: string; message: string; details?: { problem_count: number; problems: Problem[] } } }

const count = async (): Promise<string> => JSON.stringify((await db.query('SELECT count(*)::int AS n, max(updated_at) AS t, (SELECT count(*) FROM facility_imports)::int AS imports FROM facilities')).rows[0])

const csvPost = (text: string, query = '') => app.inject({ method: 'POST', url: `/api/facilities/import${query}`, payload: text, headers: { 'content-type': 'text/csv', ...auth('planner') } })
const jsonPost = (fc: unknown, query = '') => app.inject({ method: 'POST', url: `/api/facilities/import${query}`, payload: JSON.stringify(fc), headers: { 'content-type': 'application/geo+json', ...auth('planner') } })

const HEADER = 'id,subclass,lon,lat,owner,maintainer,status,installed_on,name,note'
const row = (seq: number, sub: string, i: number, owner: string, extra = ''): string =>
  `110105${sub}${String(seq).padStart(6, '0')},${sub},${r7(spots[i].lon)},${r7(spots[i].lat)},${owner},${owner},完好,2019-05-01${extra || ',,'}`

t.test('a good CSV imports, and the index answers with it at once', async (t) => {
  const text = [HEADER, row(900001, '01005', 0, POWER), row(900002, '01001', 1, WATER, ',"主路,东侧","有 ""引号"" 的备注"'), ''].join('\n')
  const res = await csvPost(text)
  t.equal(res.statusCode, 201, res.body)
  t.match(res.json(), { rows: 2, inserted: 2, updated: 0, unchanged: 0, skipped: 0 })
  const one = (await db.query<{ cell_code: string; status: string; name: string; note: string }>(`SELECT cell_code, status, name, note FROM facilities WHERE id = '11010501001900002'`)).rows[0]
  t.same(one, { cell_code: spots[1].code, status: 'intact', name: '主路,东侧', note: '有 "引号" 的备注' }, 'quotes and commas survive; the cell is the one under it')
  const at = (await app.inject(`/api/facilities/owner-at?lon=${spots[0].lon}&lat=${spots[0].lat}&subclass=01005&tolerance=1`)).json()
  t.equal(at.facility?.id, '11010501005900001', 'owner-at finds the new cover without a restart')
  t.equal(at.owner.code, POWER)
  t.equal(at.facility.cell_code, spots[0].code)
})

t.test('re-importing upserts by ID: changed rows update, the same rows stay', async (t) => {
  const text = [HEADER, row(900001, '01005', 0, POWER).replace('完好', '丢失'), row(900002, '01001', 1, WATER, ',"主路,东侧","有 ""引号"" 的备注"')].join('\n')
  const res = await csvPost(text)
  t.equal(res.statusCode, 201, res.body)
  t.match(res.json(), { rows: 2, inserted: 0, updated: 1, unchanged: 1 })
  t.equal((await db.query<{ status: string }>(`SELECT status FROM facilities WHERE id = '11010501005900001'`)).rows[0].status, 'missing')
  t.equal(app.facilities.current().index.get('11010501005900001')?.status, 'missing')
})

const BAD_CSV = [
  HEADER,
  row(900010, '01005', 2, POWER), // row 2: good
  row(900011, '01099', 2, POWER).replace(',01099,', ',01099,'), // row 3: unknown subclass (and the ID's digits 7–11)
  `11010501005900012,01005,116.5,91.2,${POWER},,完好,,,`, // row 4: latitude out of range
  `11010501005900013,01005,abc,39.9,${POWER},,完好,,,`, // row 5: not a number
  `11010501005900014,01005,${r7(spots[3].lon)},${r7(spots[3].lat)},,,完好,,,`, // row 6: missing owner
  `11010501005900015,01005,${r7(spots[3].lon)},${r7(spots[3].lat)},91110000MA0000000X,,完好,,,`, // row 7: owner code with a bad check character
  `1101050100590001,01005,${r7(spots[3].lon)},${r7(spots[3].lat)},${POWER},,完好,,,`, // row 8: 16 digits
  `11010501001900016,01005,${r7(spots[3].lon)},${r7(spots[3].lat)},${POWER},,完好,,,`, // row 9: ID says 01001, column 01005
  row(900010, '01005', 4, POWER), // row 10: duplicate of row 2
  `11010501005900017,01005,${r7(spots[4].lon)},${r7(spots[4].lat)},${POWER},,不知道,2031-01-01,,`, // row 11: bad status and a future date
  `11010501005900018,01005,116.0,39.5,${POWER},,完好,,,`, // row 12: outside the grid
  row(900019, '01005', 4, POWER), // row 13: good
].join('\n')

t.test('a CSV with bad rows is rejected whole: every row reported, nothing written', async (t) => {
  const before = await count()
  const res = await csvPost(BAD_CSV)
  t.equal(res.statusCode, 422, res.body.slice(0, 500))
  const body = res.json() as ErrorReply
  t.equal(body.error.code, 'invalid_facilities')
  const problems = body.error.details!.problems
  const at = (row: number, error: string, field?: string): void => {
    const p = problems.find((x) => x.row === row && x.error === error && (field === undefined || x.field === field))
    t.ok(p, `row ${row}: ${error}${field ? ` in ${field}` : ''} — got ${JSON.stringify(problems.filter((x) => x.row === row))}`)
    if (p) t.ok(p.reason.length > 10, `row ${row}: ${p.reason}`)
  }
  at(3, 'unknown_subclass', 'subclass')
  at(4, 'invalid_coordinates')
  at(5, 'invalid_coordinates')
  at(6, 'missing_owner', 'owner')
  at(7, 'invalid_organisation_code', 'owner')
  at(8, 'invalid_id', 'id')
  at(9, 'invalid_id', 'id')
  at(10, 'duplicate_id', 'id')
  at(11, 'invalid_status', 'status')
  at(11, 'invalid_date', 'installed_on')
  at(12, 'outside_grid', 'geometry')
  t.notOk(problems.some((p) => p.row === 2 || p.row === 13), 'good rows are not blamed')
  t.match(problems.find((p) => p.row === 4)!.reason, /swapped|−90…90/)
  t.equal(await count(), before, 'nothing written')
  t.equal(app.facilities.current().index.get('11010501005900010'), null)
})

t.test('with skip_invalid the good rows are imported and the skipped ones listed', async (t) => {
  const res = await csvPost(BAD_CSV, '?skip_invalid=true')
  t.equal(res.statusCode, 201, res.body.slice(0, 500))
  const s = res.json() as { rows: number; inserted: number; skipped: number; skipped_rows: Problem[] }
  t.equal(s.rows, 12)
  t.equal(s.inserted, 2, 'rows 2 and 13')
  t.equal(s.skipped, 10)
  t.same([...new Set(s.skipped_rows.map((p) => p.row))].sort((a, b) => a! - b!), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
  const ids = (await db.query<{ id: string }>(`SELECT id FROM facilities WHERE id IN ('11010501005900010', '11010501005900019', '11010501005900018') ORDER BY id`)).rows.map((r) => r.id)
  t.same(ids, ['11010501005900010', '11010501005900019'])
  // the duplicate (row 10) was skipped: the kept row is the first, in spot 2
  const kept = (await db.query<{ cell_code: string }>(`SELECT cell_code FROM facilities WHERE id = '11010501005900010'`)).rows[0]
  t.equal(kept.cell_code, spots[2].code)
})

t.test('GeoJSON: bad features reported by number; unknown owners and invalid polygons found in the database', async (t) => {
  const before = await count()
  const f = (id: string, geometry: Feature['geometry'], props: Record<string, unknown> = {}): Feature => ({ type: 'Feature', id, geometry, properties: { owner: WATER, ...props } })
  const { lon, lat } = spots[1]
  const fc: FeatureCollection = {
    type: 'FeatureCollection',
    features: [
      f('11010501001900030', { type: 'Point', coordinates: [lon, lat] }),
      f('11010501001900031', { type: 'Point', coordinates: [lon, lat] }, { owner: makeUscc('9', '1', '110000', 99_999_999) }),
      f('11010504013900032', { type: 'Polygon', coordinates: [[[lon, lat], [lon + 0.0002, lat + 0.0002], [lon + 0.0002, lat], [lon, lat + 0.0002], [lon, lat]]] }),
      f('11010501001900033', { type: 'Point', coordinates: [lon] }),
      f('11010501001900034', { type: 'GeometryCollection', geometries: [] }),
      f('11010501001900035', { type: 'LineString', coordinates: [[lon, lat], [lon, lat + 0.0001], [lon + 1, lat]] }, { owner: undefined }),
    ],
  }
  const res = await jsonPost(fc)
  t.equal(res.statusCode, 422, res.body.slice(0, 400))
  const problems = (res.json() as ErrorReply).error.details!.problems
  const has = (row: number, error: string): boolean => problems.some((p) => p.row === row && p.error === error)
  t.ok(has(2, 'unknown_owner'), 'a well-formed code of no organisation')
  t.ok(has(3, 'invalid_geometry'), 'a bow-tie polygon, found by PostGIS')
  t.ok(has(4, 'invalid_coordinates'))
  t.ok(has(5, 'invalid_geometry_type'))
  t.ok(has(6, 'missing_owner'))
  t.notOk(problems.some((p) => p.row === 1), 'the good feature is not blamed')
  t.ok(problems.every((p) => p.reason.length > 5))
  t.equal(await count(), before, 'nothing written')
})

t.test('a GCJ-02 file lands where it should in WGS84', async (t) => {
  const [glon, glat] = fromWgs84(spots[3].lon, spots[3].lat, 'gcj02')
  t.ok(Math.abs(glon - spots[3].lon) > 0.003, 'GCJ-02 is hundreds of metres off')
  const res = await csvPost(`id,lon,lat,owner\n11010501007900040,${glon},${glat},${POWER}\n`, '?crs=gcj02')
  t.equal(res.statusCode, 201, res.body)
  const p = (await db.query<{ lon: number; lat: number; cell_code: string }>(`SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat, cell_code FROM facilities WHERE id = '11010501007900040'`)).rows[0]
  t.ok(Math.abs(p.lon - spots[3].lon) < 2e-7 && Math.abs(p.lat - spots[3].lat) < 2e-7, `back within 2 cm: ${p.lon},${p.lat}`)
  t.equal(p.cell_code, spots[3].code)
})

t.test('export → import changes nothing; the CSV export reads back', async (t) => {
  const geo = await app.inject(`/api/facilities/export?owner=${WATER}&subclass=01001`)
  t.equal(geo.statusCode, 200)
  t.match(geo.headers['content-type'], /geo\+json/)
  const fc = geo.json() as FeatureCollection
  t.ok(fc.features.length > 100)
  const again = await jsonPost(fc)
  t.equal(again.statusCode, 201, again.body.slice(0, 300))
  t.match(again.json(), { inserted: 0, updated: 0, unchanged: fc.features.length, skipped: 0 })
  const csv = await app.inject(`/api/facilities/export?format=csv&owner=${WATER}&subclass=01001`)
  t.equal(csv.statusCode, 200)
  t.match(csv.body.split('\n')[0], /^id,subclass,subclass_name,lon,lat,wkt,owner,owner_name/)
  t.equal(csv.body.trim().split('\n').length, fc.features.length + 1)
  const back = await csvPost(csv.body)
  t.equal(back.statusCode, 201, back.body.slice(0, 300))
  t.match(back.json(), { inserted: 0, updated: 0, unchanged: fc.features.length })
  // lines and polygons travel as WKT in CSV
  const shapes = await app.inject('/api/facilities/export?format=csv&subclass=04013,02017')
  const rows = shapes.body.trim().split('\n')
  t.ok(rows.length > 10 && rows.slice(1).every((r) => /(POLYGON|LINESTRING)/.test(r)))
  t.match((await csvPost(shapes.body)).json(), { inserted: 0, updated: 0, skipped: 0 })
})

t.test('the CLI command imports a file with progress, and rejects a bad one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wangge-fac-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const good = join(dir, 'good.csv')
  writeFileSync(good, `${HEADER}\n${row(900050, '01011', 4, POWER)}\n`)
  const usage = (why: string): number => { t.fail(why); return 2 }
  t.equal(await facilitiesCommand(db, 'facilities-import', [good], usage), 0)
  t.equal((await db.query('SELECT 1 FROM facilities WHERE id = $1', ['11010501011900050'])).rows.length, 1)
  const bad = join(dir, 'bad.csv')
  writeFileSync(bad, BAD_CSV.replaceAll('9000', '9100'))
  const before = await count()
  t.equal(await facilitiesCommand(db, 'facilities-import', [bad], usage), 1, 'exit 1 on a rejected file')
  t.equal(await count(), before)
  t.equal(await facilitiesCommand(db, 'facilities-import', [bad, '--skip-invalid'], usage), 0)
  const out = join(dir, 'all.csv')
  t.equal(await facilitiesCommand(db, 'facilities-export', ['--out', out, '--format', 'csv'], usage), 0)
})

t.test('malformed bodies', async (t) => {
  const before = await count()
  t.equal((await app.inject({ method: 'POST', url: '/api/facilities/import', payload: 'x', headers: { 'content-type': 'text/plain', ...auth('planner') } })).statusCode, 415)
  t.equal((await app.inject({ method: 'POST', url: '/api/facilities/import', payload: 'x', headers: { 'content-type': 'text/csv' } })).statusCode, 401, 'no import without signing in')
  t.equal((await app.inject({ method: 'POST', url: '/api/facilities/import', payload: 'x', headers: { 'content-type': 'text/csv', ...auth('leader') } })).statusCode, 403, 'nor as a leader')
  const broken = await app.inject({ method: 'POST', url: '/api/facilities/import', payload: '{"type": "FeatureCollection", "features": [', headers: { 'content-type': 'application/json', ...auth('planner') } })
  t.equal(broken.statusCode, 400)
  t.equal(broken.json().error.code, 'invalid_json')
  const notFc = await jsonPost({ type: 'Feature' })
  t.equal(notFc.statusCode, 422)
  t.equal((notFc.json() as ErrorReply).error.details!.problems[0].error, 'invalid_file')
  const noHeader = await csvPost('a,b\n1,2\n')
  t.equal(noHeader.statusCode, 422)
  t.match((noHeader.json() as ErrorReply).error.details!.problems[0], { row: 1, error: 'missing_property' })
  const quote = await csvPost('id,lon,lat,owner\n"11010501005900060,1,2\n')
  t.equal(quote.statusCode, 422)
  t.equal((await jsonPost({ type: 'FeatureCollection', features: [] })).statusCode, 422)
  t.equal((await csvPost('id,lon,lat,owner\n', '?crs=utm')).statusCode, 400)
  t.equal(await count(), before)
})
