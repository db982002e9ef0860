/**
 * What a resident sees of the photos of a case they reported (migration 011):
 * their own, the repair and verification photos (while the district publishes
 * them, as by default), and whatever staff publish — not the handlers'
 * progress photos or anything staff withdrew. Staff see every photo.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { auth, component, upload } from './helpers/cases.ts'
import { DEMO_SUBDISTRICT } from '../fixtures/users.ts'

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { app, db } = ctx

t.test('a resident sees their own, the result and the published photos; staff see all', async (t) => {
  const cover = await component(db, '01005', DEMO_SUBDISTRICT, 7)
  const [pR] = await upload(app, 'resident')
  const r = await app.inject({ method: 'POST', url: '/api/cases', headers: auth('resident'), payload: { matter: '11010501005', description: '井盖没了', point: { lon: cover.lon, lat: cover.lat }, photos: [pR] } })
  t.equal(r.statusCode, 201, r.body)
  const id = r.json<{ case: { id: number } }>().case.id
  const step = async (key: string, action: string, payload: Record<string, unknown> = {}): Promise<void> => {
    const res = await app.inject({ method: 'POST', url: `/api/cases/${id}/${action}`, headers: auth(key), payload })
    t.equal(res.statusCode, 200, `${action}: ${res.body.slice(0, 200)}`)
  }
  await step('operator', 'accept')
  await step('power', 'start')
  const [pP] = await upload(app, 'power')
  await step('power', 'progress', { note: '围挡已设', photos: [pP] })
  const [pH] = await upload(app, 'power')
  await step('power', 'handle', { note: '已更换', photos: [pH] })
  const [pV] = await upload(app, 'supervisor')
  await step('supervisor', 'verify', { photos: [pV] })

  const seen = async (): Promise<string[]> => {
    const res = await app.inject({ url: `/api/cases/${id}`, headers: auth('resident') })
    const c = res.json<{ events: { photos: string[] }[]; reports: { photos: string[] }[] }>()
    return [...new Set([...c.events.flatMap((e) => e.photos), ...c.reports.flatMap((x) => x.photos)])].sort()
  }
  const fetchAs = async (key: string, p: string): Promise<number> => (await app.inject({ url: `/api/photos/${p}`, headers: auth(key) })).statusCode

  t.same(await seen(), [pR, pH, pV].sort(), 'own report photo, repair and verification photos; not the progress photo')
  t.equal(await fetchAs('resident', pP), 404, 'the progress photo cannot be fetched by the resident')
  t.equal(await fetchAs('resident', pH), 200, 'the repair photo can')
  t.equal(await fetchAs('supervisor', pP), 200, 'staff see every photo')

  const publish = (key: string, p: string, published: boolean | null) => app.inject({ method: 'POST', url: `/api/cases/${id}/photos/${p}/publish`, headers: auth(key), payload: { published } })
  t.equal((await publish('resident', pP, true)).statusCode, 403, 'a resident cannot publish')
  t.equal((await publish('operator', pP, true)).statusCode, 200)
  t.equal((await publish('operator', pH, false)).statusCode, 200, 'a result photo withdrawn')
  t.same(await seen(), [pR, pP, pV].sort(), 'published progress photo shown, withdrawn repair photo hidden')
  t.equal(await fetchAs('resident', pH), 404)
  t.equal((await publish('operator', 'a'.repeat(64), true)).statusCode, 404, 'a photo not on the case: 404')

  const off = await app.inject({ method: 'PATCH', url: '/api/case-settings', headers: auth('admin'), payload: { publish_result_photos: false } })
  t.equal(off.json<{ publish_result_photos: boolean }>().publish_result_photos, false)
  t.same(await seen(), [pR, pP].sort(), 'with result photos unpublished by setting, only own and explicitly published ones')
  t.equal(await fetchAs('resident', pV), 404)
  t.equal(await fetchAs('resident', pR), 200, 'own photo always')
})
