/**
 * Importing base records and survey results: good files upsert by id; a bad
 * file is reported row by row (field, code, reason) and nothing is written;
 * skip_invalid writes the good rows; GCJ-02 input is converted; the CLI
 * command does the same with its exit code.
 */
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testApp } from './helpers/app.ts'
import { auth } from './helpers/cases.ts'
import { makeUscc } from '../grids/uscc.ts'
import { fromWgs84, toWgs84 } from '../geocoder/crs.ts'
import { baseCommand } from '../server/base/cli.ts'

const ctx = await testApp('chaoyang')
const dir = mkdtempSync(join(tmpdir(), 'wangge-base-import-'))
t.teardown(async () => { rmSync(dir, { recursive: true, force: true }); await ctx.close() })
const { app, db } = ctx

const cell = (await db.query<{ code: string; lon: number; lat: number }>(`SELECT code, ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM cells ORDER BY code LIMIT 1) x`)).rows[0]
const USCC = makeUscc('9', '1', '110105', 77_000_001)
const count = async (): Promise<{ records: number; imports: number }> => (await db.query<{ records: number; imports: number }>('SELECT (SELECT count(*)::int FROM base_records) AS records, (SELECT count(*)::int FROM base_imports) AS imports')).rows[0]
const post = (body: string, type: string, query = '', key = 'admin') => app.inject({ method: 'POST', url: `/api/base/import${query}`, headers: { ...auth(key), 'content-type': type }, payload: body })

const HEADER = 'id,kind,name,address,lon,lat,use,floors,households,pop_registered,pop_resident,uscc,building_id,capacity'
const good = [
  HEADER,
  `t-b1,building,测试1号楼,测试路1号,${cell.lon},${cell.lat},residential,6,48,80,120,,,`,
  `t-s1,shop,"测试便利店, 24小时",测试路1号底商,${cell.lon},${cell.lat},,,,,,${USCC},t-b1,`,
  `t-sc1,school,测试小学,,${cell.lon},${cell.lat},,,,,,,,650`,
].join('\n')

t.test('a good file is imported, and imported again as updates', async (t) => {
  const before = await count()
  let r = await post(good, 'text/csv')
  t.equal(r.statusCode, 201, r.body.slice(0, 300))
  t.match(r.json(), { rows: 3, inserted: 3, updated: 0, skipped: 0 })
  const rec = (await app.inject({ url: '/api/base/records/t-s1', headers: auth('leader') })).json()
  t.match(rec, { kind: 'shop', name: '测试便利店, 24小时', uscc: USCC, building_id: 't-b1', cell_code: cell.code })
  t.equal((await count()).records, before.records + 3)
  r = await post(good.replace('测试小学', '测试实验小学'), 'text/csv')
  t.match(r.json(), { inserted: 0, updated: 3 })
  t.equal((await app.inject({ url: '/api/base/records/t-sc1', headers: auth('leader') })).json().name, '测试实验小学')
  const q = (await app.inject({ url: `/api/base/query?cell=${cell.code}&limit=500`, headers: auth('leader') })).json() as { lists: Record<string, { id: string }[]> }
  t.ok(q.lists.school.some((s) => s.id === 't-sc1'), 'the comprehensive query finds it')
})

t.test('a bad file: every problem by row, nothing written', async (t) => {
  const before = await count()
  const bad = [
    HEADER,
    `t-x1,building,好楼,,${cell.lon},${cell.lat},residential,6,10,10,20,,,`, // row 2: fine
    `t-x2,castle,城堡,,${cell.lon},${cell.lat},,,,,,,,`, // 3: unknown kind
    `t-x3,shop,店,,${cell.lon},${cell.lat},,3,,,,,,`, // 4: floors on a shop
    `t-x4,organisation,公司,,${cell.lon},${cell.lat},,,,,,91110105MA00000000,,`, // 5: bad credit code
    `t-x1,building,重复,,${cell.lon},${cell.lat},residential,6,10,10,20,,,`, // 6: duplicate id
    `t-x6,building,远方,,121.47,31.23,residential,6,10,10,20,,,`, // 7: Shanghai: outside the grid
    `t-x7,shop,孤店,,${cell.lon},${cell.lat},,,,,,,no-such-building,`, // 8: unknown building
    `t-x8,building,歪楼,,abc,${cell.lat},residential,-3,10,10,20,,,`, // 9: coordinates and floors
    `t-x9,poi,,,${cell.lon},${cell.lat},,,,,,,,`, // 10: no name
  ].join('\n')
  const r = await post(bad, 'text/csv')
  t.equal(r.statusCode, 422)
  const e = r.json().error
  t.equal(e.code, 'invalid_base_records')
  const got = (e.details.problems as { row: number; field: string; error: string }[]).map((p) => [p.row, p.field, p.error])
  t.same(got, [
    [3, 'kind', 'unknown_kind'], [4, 'floors', 'not_for_kind'], [5, 'uscc', 'invalid_organisation_code'], [6, 'id', 'duplicate_id'],
    [7, 'geometry', 'outside_grid'], [8, 'building_id', 'unknown_building'], [9, 'lon', 'invalid_coordinates'], [9, 'floors', 'invalid_number'], [10, 'name', 'missing_property'],
  ])
  t.same(await count(), before, 'nothing written, not even the import record')
  t.equal((await db.query('SELECT 1 FROM base_records WHERE id = $1', ['t-x1'])).rows.length, 0, 'not even the good row')
  // skip_invalid: the good rows go in, the rest are listed.
  const s = await post(bad, 'text/csv', '?skip_invalid=true')
  t.equal(s.statusCode, 201)
  t.match(s.json(), { rows: 9, inserted: 1, skipped: 8 })
  t.equal(s.json().skipped_rows.length, 9, 'nine problems on eight rows')
})

t.test('GeoJSON: points only, rows counted from 1, GCJ-02 converted', async (t) => {
  const [gx, gy] = fromWgs84(cell.lon, cell.lat, 'gcj02')
  const fc = {
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', id: 't-g1', geometry: { type: 'Point', coordinates: [gx, gy] }, properties: { kind: 'market', name: '测试菜市场', capacity: 120 } },
      { type: 'Feature', geometry: { type: 'LineString', coordinates: [[gx, gy], [gx + 0.001, gy]] }, properties: { id: 't-g2', kind: 'poi', name: '一条线' } },
    ],
  }
  let r = await post(JSON.stringify(fc), 'application/geo+json', '?crs=gcj02')
  t.equal(r.statusCode, 422)
  t.match(r.json().error.details.problems, [{ row: 2, index: 1, id: 't-g2', field: 'geometry', error: 'invalid_geometry_type' }])
  r = await post(JSON.stringify({ ...fc, features: [fc.features[0]] }), 'application/geo+json', '?crs=gcj02')
  t.equal(r.statusCode, 201, r.body.slice(0, 200))
  const rec = (await app.inject({ url: '/api/base/records/t-g1', headers: auth('leader') })).json() as { lon: number; lat: number; cell_code: string }
  const [wx, wy] = toWgs84(gx, gy, 'gcj02')
  t.ok(Math.abs(rec.lon - wx) < 1e-9 && Math.abs(rec.lat - wy) < 1e-9, 'stored in WGS84')
  t.equal(rec.cell_code, cell.code)
  t.equal((await post('{"type":"Feature"}', 'application/json')).json().error.code, 'invalid_base_records')
  t.equal((await post(good, 'text/plain')).statusCode, 415)
  t.equal((await post(good, 'text/csv', '', 'leader')).statusCode, 403, 'leaders read, they do not import')
})

t.test('the CLI command: progress, problems, exit codes', async (t) => {
  const before = await count()
  const badFile = join(dir, 'bad.csv')
  writeFileSync(badFile, `${HEADER}\nt-c1,building,楼,,${cell.lon},${cell.lat},villa,6,1,1,1,,,\n`)
  const usage = (): number => 2
  t.equal(await baseCommand(db, 'base-import', [badFile], usage), 1, 'a rejected file exits 1')
  t.same(await count(), before)
  const goodFile = join(dir, 'good.csv')
  writeFileSync(goodFile, `${HEADER}\nt-c1,building,楼,,${cell.lon},${cell.lat},office,20,,,,,,\n`)
  t.equal(await baseCommand(db, 'base-import', [goodFile], usage), 0)
  t.equal((await count()).records, before.records + 1)
  t.equal(await baseCommand(db, 'base-import', [goodFile, '--crs', 'mars'], usage), 2, 'a bad option is a usage error')
  t.equal(await baseCommand(db, 'base-import', [], usage), 2)
})

t.test('survey results: CSV per subdistrict and period, all or nothing', async (t) => {
  const sd = cell.code.slice(0, 9)
  const head = 'subdistrict_code,period_start,period_end,topic,respondents,satisfied,basic,unsatisfied,surveyor'
  const bad = [head, `${sd},2026-01-01,2026-01-31,总体,200,150,30,20,某调查公司`, '110105999,2026-01-01,2026-01-31,总体,100,50,30,10,', `${sd},2026-02-01,2026-02-30,总体,100,50,30,10,`, `${sd},2026-03-01,2026-03-31,环境,100,80,30,10,`].join('\n')
  const r = await app.inject({ method: 'POST', url: '/api/surveys/import', headers: { ...auth('admin'), 'content-type': 'text/csv' }, payload: bad })
  t.equal(r.statusCode, 422)
  t.same((r.json().error.details.problems as { row: number; error: string }[]).map((p) => [p.row, p.error]), [[4, 'invalid_date'], [5, 'counts_exceed_respondents']], 'rows read wrong first')
  t.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM survey_results')).rows[0].n, 0)
  const only = [head, `${sd},2026-01-01,2026-01-31,总体,200,150,30,20,某调查公司`, '110105999,2026-01-01,2026-01-31,总体,100,50,30,10,'].join('\n')
  const r2 = await app.inject({ method: 'POST', url: '/api/surveys/import', headers: { ...auth('admin'), 'content-type': 'text/csv' }, payload: only })
  t.equal(r2.statusCode, 422)
  t.match(r2.json().error.details.problems, [{ row: 3, error: 'unknown_subdistrict' }])
  t.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM survey_results')).rows[0].n, 0, 'nothing written')
  const ok = await app.inject({ method: 'POST', url: '/api/surveys/import', headers: { ...auth('operator'), 'content-type': 'text/csv' }, payload: only.split('\n').slice(0, 2).join('\n') })
  t.equal(ok.statusCode, 201)
  const list = (await app.inject({ url: `/api/surveys?subdistrict=${sd}`, headers: auth('leader') })).json()
  t.match(list, [{ subdistrict_code: sd, period_end: '2026-01-31', respondents: 200, satisfaction: 90, surveyor: '某调查公司' }])
})
