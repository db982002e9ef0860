/**
 * Intake: every channel, duplicates linked not duplicated, idempotent retries,
 * and bad input answered 4xx with nothing written.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { auth, component, east, fakeJpeg, multipart, pngBytes, testClock, upload } from './helpers/cases.ts'
import { DEMO_SUBDISTRICT } from '../fixtures/users.ts'

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { app, db } = ctx
const clock = testClock(app, new Date('2026-04-14T10:00:00+08:00'))

async function counts(): Promise<string> {
  const r = await db.query(`SELECT (SELECT count(*) FROM cases)::int AS cases, (SELECT count(*) FROM case_reports)::int AS reports,
    (SELECT count(*) FROM case_events)::int AS events, (SELECT count(*) FROM case_assignments)::int AS units,
    (SELECT count(*) FROM photos)::int AS photos, (SELECT count(*) FROM case_photos)::int AS case_photos`)
  return JSON.stringify(r.rows[0])
}

const post = (key: string, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/api/cases', headers: { ...auth(key), ...headers }, payload: payload as Record<string, unknown> })

t.test('every channel is taken, each by the roles that use it', async (t) => {
  const bin = await component(db, '03005', DEMO_SUBDISTRICT)
  const base = { description: '垃圾满溢', point: { lon: bin.lon, lat: bin.lat } }
  let i = 0
  // A different matter per report, so none is a duplicate of another.
  const matters = ['11010506012', '11010507001', '11010509010', '11010506036', '11010509006', '11010506041', '11010508002', '11010506028', '11010509011', '11010506014', '11010506013', '11010509009']
  const cases: [string, string | undefined, string][] = [
    ['supervisor', undefined, 'supervisor'], ['operator', 'hotline', 'hotline'], ['resident', undefined, 'web'], ['operator', 'camera', 'camera'],
    ['power', 'department', 'department'], ['operator', 'social_media', 'social_media'], ['operator', 'community', 'community'],
    ['operator', 'satellite', 'satellite'], ['operator', 'spot_check', 'spot_check'], ['operator', 'survey', 'survey'], ['operator', 'subdistrict', 'subdistrict'],
  ]
  for (const [key, channel, expected] of cases) {
    const r = await post(key, { ...base, matter: matters[i++], ...(channel ? { channel } : {}), contact: { name: '王先生', phone: '13800000000' } })
    t.equal(r.statusCode, 201, `${key} via ${channel ?? 'default'}: ${r.body.slice(0, 200)}`)
    t.equal(r.json().case.channel, expected)
  }
  const wrong = await post('resident', { ...base, matter: matters[i], channel: 'hotline' })
  t.equal(wrong.statusCode, 403)
  t.equal(wrong.json().error.code, 'channel_not_allowed')
  for (const key of ['dispatcher', 'planner', 'leader', 'admin']) {
    const r = await post(key, { ...base, matter: matters[i] })
    t.equal(r.statusCode, 403, `${key} does not report`)
  }
  // Contacts: the operator sees them, the handler does not.
  const id = (await app.inject({ url: '/api/cases?channel=hotline&limit=1', headers: auth('operator') })).json().items[0].id
  t.equal((await app.inject({ url: `/api/cases/${id}`, headers: auth('operator') })).json().reports[0].contact.phone, '13800000000')
})

t.test('points in every CRS land in the same cell', async (t) => {
  const { fromWgs84 } = await import('../geocoder/crs.ts')
  const light = await component(db, '01037', DEMO_SUBDISTRICT, 3)
  const cells = new Set<string>()
  for (const [n, crs] of (['wgs84', 'gcj02', 'bd09'] as const).entries()) {
    const [x, y] = fromWgs84(light.lon, light.lat, crs)
    const matter = ['11010501037', '11010502010', '11010502021'][n]
    const r = await post('supervisor', { matter, description: `路灯 ${crs}`, point: { lon: x, lat: y, crs } })
    t.equal(r.statusCode, 201, r.body.slice(0, 300))
    cells.add(r.json().case.location.cell)
    t.ok(Math.abs(r.json().case.location.lon - light.lon) < 1e-6 && Math.abs(r.json().case.location.lat - light.lat) < 1e-6, `${crs} → WGS84`)
  }
  t.equal(cells.size, 1)
  t.same([...cells], [light.cell])
})

t.test('a second report of the same open problem is linked, and its reporter told', async (t) => {
  const cover = await component(db, '01002', DEMO_SUBDISTRICT, 2)
  const first = await post('supervisor', { matter: '11010501002001', description: '污水井盖丢失', point: { lon: cover.lon, lat: cover.lat } })
  t.equal(first.statusCode, 201)
  const id = first.json().case.id
  const before = await counts()
  clock.advance(20)
  // The same cover, 12 m away, by a resident on the web, at the standard's level of the matter.
  const again = await post('resident', { matter: '11010501002', description: '这里有个井口没盖子', point: { lon: cover.lon + east(12), lat: cover.lat } })
  t.equal(again.statusCode, 200, again.body.slice(0, 300))
  const body = again.json()
  t.equal(body.linked, true)
  t.equal(body.duplicate_of, id)
  t.equal(body.case.id, id)
  t.ok(body.distance_m > 10 && body.distance_m < 14)
  t.match(body.message, /已有相同问题/)
  t.equal(body.case.report_count, 2)
  const after = JSON.parse(await counts())
  const b = JSON.parse(before)
  t.equal(after.cases, b.cases, 'no new case')
  t.equal(after.reports, b.reports + 1, 'one more report')
  t.equal(after.events, b.events + 1, 'one link event')
  const detail = (await app.inject({ url: `/api/cases/${id}`, headers: auth('operator') })).json()
  t.same(detail.events.map((e: { action: string }) => e.action), ['report', 'link_report'])
  t.equal(detail.reports.length, 2)
  // The resident now follows the case they reported.
  t.equal((await app.inject({ url: `/api/cases/${id}`, headers: auth('resident') })).statusCode, 200)

  // Farther than the radius, or another matter, is a new case.
  const far = await post('supervisor2', { matter: '11010501002001', description: '另一处', point: { lon: cover.lon + east(80), lat: cover.lat } })
  t.equal(far.json().linked, false, `80 m away: ${far.body.slice(0, 200)}`)
  const other = await post('supervisor2', { matter: '11010501003', description: '雨水井盖', point: { lon: cover.lon, lat: cover.lat } })
  t.equal(other.json().linked, false)

  // A closed case takes no more links: the next report opens a new case.
  await db.query("UPDATE cases SET status = 'closed' WHERE id = $1", [id])
  const later = await post('supervisor2', { matter: '11010501002001', description: '又丢了', point: { lon: cover.lon, lat: cover.lat } })
  t.equal(later.statusCode, 201)
  t.not(later.json().case.id, id)

  // Outside the window (72 h) it is a new case too.
  clock.advance(73 * 60)
  const stale = await post('supervisor', { matter: '11010501002001', description: '过了三天', point: { lon: cover.lon, lat: cover.lat } })
  t.equal(stale.statusCode, 201)
})

t.test('two reports of one problem at the same moment make one case', async (t) => {
  const tree = await component(db, '04002', DEMO_SUBDISTRICT, 5)
  const rs = await Promise.all(['supervisor', 'supervisor2', 'resident', 'operator'].map((k, n) =>
    post(k, { matter: '11010504002', description: `行道树倒伏 ${n}`, point: { lon: tree.lon + east(n), lat: tree.lat }, ...(k === 'operator' ? { channel: 'hotline' } : {}) })))
  t.same(rs.map((r) => r.statusCode).sort(), [200, 200, 200, 201], rs.map((r) => r.body.slice(0, 100)).join('\n'))
  t.equal(new Set(rs.map((r) => r.json().case.id)).size, 1)
})

t.test('a retry with the same Idempotency-Key returns the same case and writes nothing', async (t) => {
  const pole = await component(db, '02021', DEMO_SUBDISTRICT, 1)
  const payload = { matter: '11010502021', description: '便道桩损坏', point: { lon: pole.lon, lat: pole.lat } }
  const key = { 'idempotency-key': 'app-7f3a-0001' }
  const first = await post('supervisor', payload, key)
  t.equal(first.statusCode, 201)
  const before = await counts()
  const retries = await Promise.all([1, 2, 3].map(() => post('supervisor', payload, key)))
  for (const r of retries) {
    t.equal(r.statusCode, 201, 'the first answer again')
    t.equal(r.headers['idempotent-replayed'], 'true')
    t.equal(r.json().case.id, first.json().case.id)
    t.equal(r.json().replayed, true)
  }
  t.equal(await counts(), before, 'nothing written')
  // The same key with another body is refused; another user's key space is theirs.
  const reused = await post('supervisor', { ...payload, description: '别的事' }, key)
  t.equal(reused.statusCode, 422)
  t.equal(reused.json().error.code, 'idempotency_key_reused')
  const otherUser = await post('supervisor2', payload, key)
  t.equal(otherUser.statusCode, 200, 'another user, same key: a new submission (linked as a duplicate)')
  t.equal(otherUser.json().replayed, false)
  // A retried duplicate report replays as the link it was.
  const again = await post('supervisor2', payload, key)
  t.equal(again.statusCode, 200)
  t.equal(again.json().replayed, true)
})

t.test('bad input is answered 4xx with nothing written', async (t) => {
  const [photo] = await upload(app, 'supervisor')
  const before = await counts()
  const light = await component(db, '01037', DEMO_SUBDISTRICT, 7)
  const ok = { matter: '11010501037', description: '路灯不亮', point: { lon: light.lon, lat: light.lat } }
  const bad: [string, unknown, number, string][] = [
    ['malformed matter code', { ...ok, matter: '1101050103' }, 400, 'invalid_matter_code'],
    ['letters in the code', { ...ok, matter: '1101050103X' }, 400, 'invalid_matter_code'],
    ['unknown matter', { ...ok, matter: '11010506999' }, 422, 'unknown_matter'],
    ['a major class only', { ...ok, matter: '11010506' }, 400, 'invalid_matter_code'],
    ['another district\'s matter', { ...ok, matter: '11010206012' }, 422, 'unknown_matter'],
    ['point outside the district', { ...ok, point: { lon: 116.0, lat: 39.5 } }, 422, 'outside_district'],
    ['point off the map', { ...ok, point: { lon: 200, lat: 39.9 } }, 400, 'invalid_coordinates'],
    ['unknown CRS', { ...ok, point: { ...ok.point, crs: 'utm50' } }, 400, 'validation_failed'],
    ['no location', { matter: ok.matter, description: ok.description }, 400, 'location_required'],
    ['no description', { matter: ok.matter, point: ok.point }, 400, 'validation_failed'],
    ['blank description', { ...ok, description: '   ' }, 400, 'validation_failed'],
    ['no matter', { description: ok.description, point: ok.point }, 400, 'validation_failed'],
    ['unknown field', { ...ok, priority: 'high' }, 400, 'validation_failed'],
    ['photo never uploaded', { ...ok, photos: ['0'.repeat(64)] }, 422, 'unknown_photo'],
    ['photo id not a hash', { ...ok, photos: ['../etc/passwd'] }, 400, 'validation_failed'],
    ['component of another kind', { ...ok, facility_id: (await component(db, '03005', DEMO_SUBDISTRICT)).id }, 422, 'facility_mismatch'],
    ['component that does not exist', { ...ok, facility_id: '11010501037999999' }, 422, 'unknown_facility'],
    ['component on an event', { ...ok, matter: '11010506012', facility_id: light.id }, 422, 'facility_not_applicable'],
    ['an address nobody knows', { matter: ok.matter, description: ok.description, address: '火星路999号' }, 422, 'address_not_found'],
  ]
  for (const [what, payload, status, code] of bad) {
    const r = await post('supervisor', payload)
    t.equal(r.statusCode, status, `${what}: ${r.body.slice(0, 200)}`)
    t.equal(r.json().error.code, code, what)
    t.ok(r.json().error.details, `${what}: details say where`)
  }
  t.equal((await app.inject({ method: 'POST', url: '/api/cases', payload: ok })).statusCode, 401, 'no token')
  t.equal((await app.inject({ method: 'POST', url: '/api/cases', payload: ok, headers: { authorization: 'Bearer wg_nonsense' } })).statusCode, 401, 'unknown token')
  t.equal((await app.inject({ method: 'POST', url: '/api/cases', payload: '{"matter":', headers: { ...auth('supervisor'), 'content-type': 'application/json' } })).statusCode, 400, 'broken JSON')
  t.equal(await counts(), JSON.stringify({ ...JSON.parse(before) }), 'nothing was written')
  void photo
})

t.test('photos: size and type judged by the bytes, all or nothing', async (t) => {
  const before = await counts()
  const send = (files: Parameters<typeof multipart>[0], key = 'supervisor') => {
    const b = multipart(files)
    return app.inject({ method: 'POST', url: '/api/photos', payload: b.payload, headers: { ...b.headers, ...auth(key) } })
  }
  const fake = await send([{ name: 'cover.jpg', type: 'image/jpeg', bytes: Buffer.from('<?php echo "not a photo"; ?>'.repeat(20)) }])
  t.equal(fake.statusCode, 415)
  t.equal(fake.json().error.code, 'unsupported_photo_type')
  const big = await send([{ name: 'huge.jpg', type: 'image/jpeg', bytes: fakeJpeg(9 * 1024 * 1024) }])
  t.equal(big.statusCode, 413)
  t.equal(big.json().error.code, 'photo_too_large')
  const mixed = await send([{ name: 'a.jpg', type: 'image/jpeg', bytes: fakeJpeg() }, { name: 'b.gif', type: 'image/gif', bytes: Buffer.from('GIF89a........') }])
  t.equal(mixed.statusCode, 415, 'one bad file fails the request')
  const tooMany = await send(Array.from({ length: 10 }, (_, i) => ({ name: `${i}.jpg`, type: 'image/jpeg', bytes: fakeJpeg(100) })))
  t.equal(tooMany.statusCode, 413)
  const json = await app.inject({ method: 'POST', url: '/api/photos', payload: { photo: 'x' }, headers: auth('supervisor') })
  t.equal(json.statusCode, 415)
  t.equal((await send([{ name: 'a.jpg', type: 'image/jpeg', bytes: fakeJpeg() }], 'leader')).statusCode, 403, 'a leader uploads nothing')
  t.equal(await counts(), before, 'nothing stored')
  // A PNG named .jpg and sent as octet-stream is a PNG.
  const png = await send([{ name: 'x.jpg', type: 'application/octet-stream', bytes: pngBytes() }])
  t.equal(png.statusCode, 201)
  t.equal(png.json().photos[0].mime, 'image/png')
  const webp = Buffer.concat([Buffer.from('RIFF'), Buffer.from([0, 1, 0, 0]), Buffer.from('WEBPVP8 '), fakeJpeg(300)])
  const w = await send([{ name: 'w.bin', type: 'image/jpeg', bytes: webp }])
  t.equal(w.json().photos[0].mime, 'image/webp')
  // The same bytes twice are stored once.
  const same = fakeJpeg()
  const [a] = await upload(app, 'supervisor', [same])
  const [b] = await upload(app, 'supervisor2', [same])
  t.equal(a, b)
  t.equal((await db.query('SELECT count(*)::int AS n FROM photos WHERE id = $1', [a])).rows[0].n, 1)
  t.equal((await app.inject({ url: `/api/photos/${a}`, headers: auth('supervisor2') })).statusCode, 200, 'each uploader may read it')
  t.equal((await app.inject({ url: `/api/photos/${a}`, headers: auth('resident') })).statusCode, 404)
})
