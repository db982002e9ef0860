/** Open311 GeoReport v2: the spec's paths, field names and errors, in JSON and XML. */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { auth, component, testClock, upload } from './helpers/cases.ts'
import { DEMO_SUBDISTRICT, demoToken } from '../fixtures/users.ts'

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { app, db } = ctx
testClock(app, new Date('2026-06-02T10:00:00+08:00'))

const REQUEST_FIELDS = ['service_request_id', 'status', 'status_notes', 'service_name', 'service_code', 'description', 'agency_responsible', 'service_notice',
  'requested_datetime', 'updated_datetime', 'expected_datetime', 'address', 'address_id', 'zipcode', 'lat', 'long', 'media_url']

t.test('discovery, services and definitions', async (t) => {
  const d = await app.inject('/open311/v2/discovery.json')
  t.equal(d.statusCode, 200)
  t.match(d.json(), { changeset: String, contact: String, key_service: String, endpoints: [{ specification: 'http://wiki.open311.org/GeoReport_v2', url: /\/open311\/v2$/, formats: ['application/json', 'text/xml'] }] })
  const dx = await app.inject('/open311/v2/discovery.xml')
  t.match(dx.headers['content-type'], /text\/xml/)
  t.match(dx.body, /<discovery><changeset>.*<endpoints><endpoint><specification>http:\/\/wiki.open311.org\/GeoReport_v2<\/specification>.*<formats><format>application\/json<\/format><format>text\/xml<\/format><\/formats>/s)

  const s = (await app.inject('/open311/v2/services.json')).json()
  t.ok(s.length > 200, `${s.length} services: the standard's sub-classes`)
  for (const f of ['service_code', 'service_name', 'description', 'metadata', 'type', 'keywords', 'group']) t.ok(f in s[0], f)
  const cover = s.find((x: { service_code: string }) => x.service_code === '11010501005')
  t.match(cover, { service_name: '电力井盖异常', type: 'realtime', metadata: true })
  const sx = (await app.inject('/open311/v2/services.xml')).body
  t.match(sx, /^<\?xml version="1.0" encoding="utf-8"\?>\n<services><service><service_code>\d{11}<\/service_code><service_name>/)

  const def = (await app.inject('/open311/v2/services/11010501005.json')).json()
  t.equal(def.service_code, '11010501005')
  t.same(def.attributes.map((a: { code: string }) => a.code), ['subtype', 'facility_id', 'crs'])
  t.match(def.attributes[0], { variable: true, datatype: 'singlevaluelist', required: false, order: 1, values: [{ key: '11010501005001', name: '电力井盖丢失' }] })
  t.match((await app.inject('/open311/v2/services/11010501005.xml')).body, /<service_definition><service_code>11010501005<\/service_code><attributes><attribute><variable>true<\/variable><code>subtype<\/code>.*<values><value><key>11010501005001<\/key>/s)
  const missing = await app.inject('/open311/v2/services/99999999999.json')
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), [{ code: 404, description: /not found/ }])
  const missingXml = await app.inject('/open311/v2/services/99999999999.xml')
  t.match(missingXml.body, /<errors><error><code>404<\/code><description>/)
})

t.test('POST requests (form encoded, api_key) and GET them back', async (t) => {
  const cover = await component(db, '01011', DEMO_SUBDISTRICT)
  const [photo] = await upload(app, 'open311')
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()
  const fields = {
    api_key: demoToken('open311'), service_code: '11010501011', lat: String(cover.lat), long: String(cover.lon),
    description: '燃气井盖松动', first_name: '晓雯', last_name: '张', phone: '13900000000', 'attribute[subtype]': '11010501011003',
    media_url: `http://localhost/api/photos/${photo}`,
  }
  const post = (body: Record<string, string>, fmt = 'json') => app.inject({ method: 'POST', url: `/open311/v2/requests.${fmt}`, payload: form(body), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  const r = await post(fields)
  t.equal(r.statusCode, 201, r.body)
  const [created] = r.json()
  t.match(created, { service_request_id: /^\d+$/, service_notice: String, token: /^\d+$/ })
  const id = created.service_request_id

  const noKey = await post({ ...fields, api_key: '' })
  t.equal(noKey.statusCode, 403)
  t.match(noKey.json(), [{ code: 403, description: 'api_key is required' }])
  t.equal((await post({ ...fields, api_key: 'wg_wrong' })).statusCode, 403)
  t.equal((await post({ ...fields, api_key: demoToken('dispatcher') })).statusCode, 403, 'a dispatcher does not report')
  t.equal((await post({ ...fields, service_code: '123' })).statusCode, 404)
  const outside = await post({ ...fields, lat: '39.5', long: '116.0' }, 'xml')
  t.equal(outside.statusCode, 422)
  t.match(outside.body, /<errors><error><code>422<\/code><description>outside_district: /)
  t.equal((await post({ ...fields, lat: 'north' })).statusCode, 400)
  // A second report of the same cover is linked: the same service_request_id.
  const again = await post({ ...fields, api_key: demoToken('resident'), media_url: '' })
  t.equal(again.statusCode, 200)
  t.equal(again.json()[0].service_request_id, id)
  t.match(again.json()[0].service_notice, /已有相同问题/)

  const one = await app.inject(`/open311/v2/requests/${id}.json`)
  t.equal(one.statusCode, 200)
  const [req] = one.json()
  t.same(Object.keys(req), REQUEST_FIELDS, 'the spec\'s field names, in its order')
  t.match(req, { service_request_id: id, status: 'open', service_code: '11010501011', service_name: '燃气井盖异常', description: '燃气井盖松动', address_id: cover.cell })
  t.match(req.requested_datetime, /^2026-06-02T10:00:00\+08:00$/)
  t.ok(Math.abs(req.lat - cover.lat) < 1e-6 && Math.abs(req.long - cover.lon) < 1e-6)
  t.match(req.media_url, new RegExp(`^http://localhost(:80)?/api/photos/${photo}$`))
  t.notOk(JSON.stringify(req).includes('13900000000'), 'no reporter details in public answers')
  const xml = (await app.inject(`/open311/v2/requests/${id}.xml`)).body
  t.match(xml, new RegExp(`<service_requests><request><service_request_id>${id}</service_request_id><status>open</status>`))
  for (const f of REQUEST_FIELDS) t.match(xml, new RegExp(`<${f}(>|/>)`), `xml has ${f}`)

  const token = (await app.inject(`/open311/v2/tokens/${created.token}.json`)).json()
  t.same(token, [{ service_request_id: id, token: created.token }])
  t.equal((await app.inject('/open311/v2/tokens/999999999.json')).statusCode, 404)

  // Filters.
  const list = async (q: string) => (await app.inject(`/open311/v2/requests.json?${q}`)).json() as { service_request_id: string; status: string; service_code: string; requested_datetime: string }[]
  t.ok((await list('service_code=11010501011')).some((x) => x.service_request_id === id))
  t.notOk((await list('service_code=11010506012')).some((x) => x.service_request_id === id))
  t.ok((await list('status=open')).every((x) => x.status === 'open'))
  t.notOk((await list('status=closed')).some((x) => x.service_request_id === id))
  t.same((await list(`service_request_id=${id},1`)).map((x) => x.service_request_id).sort(), ['1', id].sort(), 'ids override the other filters')
  const old = await list('start_date=2025-10-01T00:00:00%2B08:00&end_date=2025-10-15T00:00:00%2B08:00')
  t.ok(old.length > 0 && old.every((x) => x.requested_datetime >= '2025-10-01' && x.requested_datetime < '2025-10-15T00:00:00+08:00'), `${old.length} from the history in that fortnight`)
  t.ok(old.some((x) => x.status === 'closed'))
  const d = 0.002
  const near = await list(`bbox=${cover.lon - d},${cover.lat - d},${cover.lon + d},${cover.lat + d}&start_date=2026-06-01T00:00:00Z`)
  t.same(near.map((x) => x.service_request_id), [id], 'bbox')
  t.equal((await app.inject('/open311/v2/requests.json?status=pending')).statusCode, 400)
  t.equal((await app.inject('/open311/v2/requests.csv')).statusCode, 400, 'json or xml only')
  // The case is the same one the API shows.
  t.equal((await app.inject({ url: `/api/cases/${id}`, headers: auth('operator') })).json().channel, 'open311')
})
