/**
 * The phone app (城管通, /m/) in Debian's Chromium with a phone's screen and an
 * emulated position: a supervisor reports a missing power cover; two reports
 * made offline are sent exactly once when the connection returns; a supervisor
 * verifies a handled case with a photo; a resident reports without an account
 * and follows the case; and the app's load time on a slow 4G profile.
 *
 *   npm run test:browser:mobile [-- --only NAME]
 *
 * Prints TAP-like lines, then `N passed, N failed`; exits non-zero on failure.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core'
import { buildWeb, webBuildState } from '../../server/web-build.ts'
import { projectPath } from '../../server/paths.ts'
import { demoToken, DEMO_SUBDISTRICT } from '../../fixtures/users.ts'
import { buildExifSegment, readExif, withExif } from '../../web/src/lib/exif.ts'
import { auth, component, east, upload } from '../helpers/cases.ts'
import { launch, Recorder } from './browser.ts'
import { assert, equal, Harness } from './harness.ts'
import { startServer, type TestServer } from './server.ts'

const ARTIFACTS = projectPath('tests/artifacts')
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true, locale: 'zh-CN' }
/** Lighthouse's "Slow 4G": 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up. */
const SLOW_4G = { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 }

interface Ctx { server: TestServer; browser: Browser; recorder: Recorder; h: Harness }

async function phone(ctx: Ctx, opts: { token?: string; at?: { lon: number; lat: number } }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await ctx.browser.newContext({
    ...PHONE, permissions: ['geolocation'], geolocation: opts.at ? { longitude: opts.at.lon, latitude: opts.at.lat, accuracy: 8 } : undefined,
  })
  await ctx.recorder.watch(context)
  if (opts.token) await context.addInitScript((t) => { if (location.protocol === 'http:') localStorage.setItem('wangge.token', t) }, opts.token)
  const page = await context.newPage()
  return { context, page }
}

async function open(page: Page, base: string, path = '/m/'): Promise<void> {
  await page.goto(`${base}${path}`)
  await page.waitForFunction(() => (window as unknown as { wanggeReady?: boolean }).wanggeReady === true, null, { timeout: 30_000 })
}

/** A real JPEG (drawn by the browser), with EXIF time and GPS added as a phone camera would. */
async function cameraPhoto(page: Page, meta: { takenAt: string; gps: { lat: number; lon: number } }): Promise<Buffer> {
  const b64 = await page.evaluate(async () => {
    const c = document.createElement('canvas')
    c.width = 2400
    c.height = 1800
    const g = c.getContext('2d') as CanvasRenderingContext2D
    g.fillStyle = '#6b6f73'
    g.fillRect(0, 0, c.width, c.height)
    g.fillStyle = '#111'
    g.beginPath()
    g.arc(1200, 900, 500, 0, Math.PI * 2)
    g.fill()
    const blob = await new Promise<Blob>((r) => c.toBlob((b) => r(b as Blob), 'image/jpeg', 0.92))
    const bytes = new Uint8Array(await blob.arrayBuffer())
    let s = ''
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
    return btoa(s)
  })
  const seg = buildExifSegment(meta)
  if (!seg) throw new Error('no EXIF')
  return Buffer.from(withExif(new Uint8Array(Buffer.from(b64, 'base64')), seg))
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, `mobile-${name}.png`), scale: 'css' })
}

async function main(): Promise<number> {
  const state = webBuildState()
  if (state.stale) {
    console.log(`# building the web client: ${state.reason}`)
    await buildWeb()
  }
  const at = process.argv.indexOf('--only')
  const h = new Harness(at > 0 ? process.argv[at + 1] : undefined)
  const server = await startServer()
  const browser = await launch()
  const recorder = new Recorder()
  const ctx: Ctx = { server, browser, recorder, h }
  const { app, db } = server.app
  const base = server.base
  const supervisorId = (await db.query<{ id: number }>("SELECT id FROM users WHERE name = '监督员 李明'")).rows[0]?.id
  try {
    await h.check('loads in ≤ 2 s on a slow 4G profile (median of 3 cold loads), installable (manifest, service worker)', async () => {
      // The browser itself warms up first (its renderer and network processes start on the first page): one load
      // unthrottled in a context that is then closed. Each measured load is in a new context, so it starts with an
      // empty HTTP cache and no service worker, as a phone opening the app for the first time does. The median of three:
      // one load on a shared machine can lose a second to a neighbour, which is not the app's doing.
      const warm = await phone(ctx, {})
      await open(warm.page, base)
      await warm.context.close()
      const coldLoad = async (i: number): Promise<{ ms: number; context: BrowserContext; page: Page; cdp: CDPSession }> => {
        const { context, page } = await phone(ctx, {})
        const cdp = await context.newCDPSession(page)
        await cdp.send('Network.enable')
        await cdp.send('Network.emulateNetworkConditions', SLOW_4G)
        const t0 = Date.now()
        await open(page, base)
        const ms = Date.now() - t0
        const bytes = await page.evaluate(() => performance.getEntriesByType('resource').reduce((n, e) => n + ((e as PerformanceResourceTiming).transferSize || 0), 0))
        console.log(`# phone app ready on slow 4G (150 ms RTT, 1.6 Mbit/s), cold load ${i}: ${ms} ms, ${Math.round(bytes / 1024)} KiB transferred`)
        return { ms, context, page, cdp }
      }
      const runs: number[] = []
      for (let i = 1; i <= 2; i++) {
        const load = await coldLoad(i)
        runs.push(load.ms)
        await load.context.close()
      }
      // The last load's page is then checked for what makes the app installable.
      const { ms, context, page, cdp } = await coldLoad(3)
      runs.push(ms)
      const manifest = await page.evaluate(async () => (await fetch('/m/manifest.webmanifest')).json() as Promise<{ start_url: string; display: string; icons: unknown[] }>)
      equal(manifest.start_url, '/m/', 'manifest start_url')
      equal(manifest.display, 'standalone', 'manifest display')
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
      const sw = await page.evaluate(async () => { const r = await navigator.serviceWorker.ready; return r.active?.scriptURL ?? '' })
      assert(sw.endsWith('/m/sw.js'), `service worker active: ${sw}`)
      await context.close()
      const median = [...runs].sort((a, b) => a - b)[1]
      console.log(`# phone app ready on slow 4G: median ${median} ms of ${runs.join(' / ')} ms`)
      assert(median <= 2000, `ready in ${median} ms on slow 4G (median of ${runs.join(' / ')} ms)`)
    })

    const cover = await component(db, '01005', DEMO_SUBDISTRICT)
    const coverCell = cover.cell
    await h.check('a supervisor reports a missing power cover: cell, owner, photo with its EXIF, exactly one case', async () => {
      const spot = { lon: cover.lon + east(3), lat: cover.lat }
      const { context, page } = await phone(ctx, { token: demoToken('supervisor'), at: spot })
      await open(page, base)
      await page.getByTestId('who').filter({ hasText: '监督员' }).waitFor()
      await page.getByTestId('locate').click()
      await page.getByTestId('cell-code').waitFor()
      equal(await page.getByTestId('cell-code').textContent(), coverCell, 'the cell shown')
      const first = page.getByTestId('facility-1')
      await first.waitFor()
      const label = await first.textContent() ?? ''
      assert(label.includes('电力井盖') && label.includes('供电'), `the nearest component is the power cover of the power utility: ${label}`)
      await first.click()
      const matter = await page.getByTestId('matter-selected').textContent() ?? ''
      assert(matter.includes('电力井盖'), `the cover's anomaly is chosen as the matter: ${matter}`)
      const photo = await cameraPhoto(page, { takenAt: '2026:11:26 08:15:00', gps: { lat: spot.lat, lon: spot.lon } })
      await page.getByTestId('photo-input').setInputFiles({ name: 'IMG_0001.jpg', mimeType: 'image/jpeg', buffer: photo })
      await page.getByTestId('photo-thumbs').filter({ hasText: '照片1' }).waitFor()
      await page.getByTestId('note').fill('电力井盖丢失，井口敞开')
      await page.evaluate(() => window.scrollTo(0, 0))
      await shot(page, 'report')
      await page.getByTestId('submit').click()
      await page.getByTestId('message').filter({ hasText: '案件号' }).waitFor({ timeout: 30_000 })
      const id = Number(/案件号 (\d+)/.exec(await page.getByTestId('message').textContent() ?? '')?.[1])
      const row = (await db.query<{ cell_code: string; facility_id: string; facility_owner: string; photos: string[]; n: number }>(
        `SELECT c.cell_code, c.facility_id, c.facility_owner, r.photos, (SELECT count(*)::int FROM case_reports x WHERE x.case_id = c.id) AS n
         FROM cases c JOIN case_reports r ON r.case_id = c.id AND r.created_case WHERE c.id = $1`, [id])).rows[0]
      equal(row.cell_code, coverCell, 'the case is in the cover\'s cell')
      equal(row.facility_id, cover.id, 'matched to the cover')
      equal(row.facility_owner, cover.owner, 'whose owner is the power utility')
      equal(row.n, 1, 'one report')
      equal(row.photos.length, 1, 'one photo')
      const stored = (await db.query<{ bytes: Buffer; size: number }>('SELECT bytes, size FROM photos WHERE id = $1', [row.photos[0]])).rows[0]
      assert(stored.size < photo.length, `resized on the phone: ${stored.size} < ${photo.length} bytes`)
      const meta = readExif(new Uint8Array(stored.bytes))
      equal(meta.takenAt, '2026:11:26 08:15:00', 'EXIF time kept')
      assert(meta.gps && Math.abs(meta.gps.lat - spot.lat) < 1e-5 && Math.abs(meta.gps.lon - spot.lon) < 1e-5, `EXIF position kept: ${JSON.stringify(meta.gps)}`)
      await context.close()
    })

    await h.check('offline: two reports queue with their photos and are sent exactly once when the connection returns', async () => {
      // Two spots inside the district, apart (no duplicate of each other): beside two other components.
      const [ca, cb] = [await component(db, '01001', DEMO_SUBDISTRICT, 5), await component(db, '01002', DEMO_SUBDISTRICT, 9)]
      const a = { lon: ca.lon + east(2), lat: ca.lat }
      const b = { lon: cb.lon + east(2), lat: cb.lat }
      const { context, page } = await phone(ctx, { token: demoToken('supervisor'), at: a })
      await open(page, base)
      const before = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM case_reports WHERE reporter_id = $1', [supervisorId])).rows[0].n
      // The service worker has the app: it opens again without a connection.
      await page.evaluate(async () => { await navigator.serviceWorker.ready })
      await page.reload()
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null && (window as unknown as { wanggeReady?: boolean }).wanggeReady === true)
      // The browser logs each request that fails for want of a network: expected here.
      recorder.expect(/ERR_INTERNET_DISCONNECTED/)
      await context.setOffline(true)
      await page.getByTestId('net').filter({ hasText: '离线' }).waitFor()
      equal(await page.getByTestId('who').textContent(), '监督员 李明', 'offline, the app still knows who is signed in')
      for (const [i, spot] of [a, b].entries()) {
        await context.setGeolocation({ longitude: spot.lon, latitude: spot.lat, accuracy: 10 })
        await page.getByTestId('locate').click()
        await page.getByTestId('position').filter({ hasText: spot.lon.toFixed(6) }).waitFor()
        await page.getByTestId('matter-search').fill('bllj')
        await page.getByTestId('matter-results').getByRole('button').first().click()
        if (i === 0) {
          const photo = await cameraPhoto(page, { takenAt: '2026:11:26 09:00:00', gps: { lat: spot.lat, lon: spot.lon } })
          await page.getByTestId('photo-input').setInputFiles({ name: 'q.jpg', mimeType: 'image/jpeg', buffer: photo })
          await page.getByTestId('photo-thumbs').filter({ hasText: '照片1' }).waitFor()
        }
        await page.getByTestId('note').fill(`离线上报 ${i + 1}`)
        await page.getByTestId('submit').click()
        await page.getByTestId('outbox-count').filter({ hasText: String(i + 1) }).waitFor()
      }
      await page.reload()
      await page.waitForFunction(() => (window as unknown as { wanggeReady?: boolean }).wanggeReady === true)
      equal(await page.getByTestId('outbox-count').textContent(), '2', 'still queued after a reload (IndexedDB)')
      await shot(page, 'offline-queue')
      const during = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM case_reports WHERE reporter_id = $1', [supervisorId])).rows[0].n
      equal(during, before, 'nothing reached the server while offline')
      await context.setOffline(false)
      await page.getByTestId('outbox-count').filter({ hasText: /^0$/ }).waitFor({ timeout: 30_000 })
      // A second push (as after a lost answer) must not make more.
      await page.evaluate(() => window.dispatchEvent(new Event('online')))
      await page.waitForTimeout(1500)
      const rows = (await db.query<{ description: string; photos: string[]; idempotency_key: string }>(
        'SELECT description, photos, idempotency_key FROM case_reports WHERE reporter_id = $1 ORDER BY id DESC LIMIT 3', [supervisorId])).rows
      const after = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM case_reports WHERE reporter_id = $1', [supervisorId])).rows[0].n
      equal(after - before, 2, 'two reports arrived, once each')
      const mine = rows.filter((r) => r.description.startsWith('离线上报'))
      equal(mine.length, 2, 'both offline reports')
      assert(mine.every((r) => r.idempotency_key && r.idempotency_key.length >= 16), 'each sent with an idempotency key')
      equal(mine.find((r) => r.description === '离线上报 1')?.photos.length, 1, 'the first kept its photo')
      await context.close()
    })

    await h.check('a supervisor verifies a handled case near them with a photo', async () => {
      // A case reported by the other supervisor, handled by the power utility (the reporter may not verify their own).
      const other = await component(db, '01005', DEMO_SUBDISTRICT, 3)
      const [p1] = await upload(app, 'supervisor2')
      const r = await app.inject({ method: 'POST', url: '/api/cases', headers: auth('supervisor2'), payload: { matter: '11010501005001', description: '电力井盖破损', point: { lon: other.lon, lat: other.lat }, photos: [p1] } })
      const id = r.json<{ case: { id: number } }>().case.id
      await app.inject({ method: 'POST', url: `/api/cases/${id}/accept`, headers: auth('operator'), payload: {} })
      await app.inject({ method: 'POST', url: `/api/cases/${id}/start`, headers: auth('power'), payload: {} })
      const [p2] = await upload(app, 'power')
      const handled = await app.inject({ method: 'POST', url: `/api/cases/${id}/handle`, headers: auth('power'), payload: { note: '已更换井盖', photos: [p2] } })
      equal(handled.json<{ status: string }>().status, 'handled', `handled: ${handled.body.slice(0, 200)}`)

      const { context, page } = await phone(ctx, { token: demoToken('supervisor'), at: { lon: other.lon, lat: other.lat } })
      await open(page, base)
      await page.getByTestId('locate').click()
      await page.getByTestId('cell-code').waitFor()
      await page.goto(`${base}/m/#/tasks`)
      await page.getByTestId(`task-${id}`).click()
      await page.locator('[data-testid="case-status"][data-status="handled"]').waitFor()
      await page.locator('[data-testid="photo-handle"]').first().waitFor()
      const photo = await cameraPhoto(page, { takenAt: '2026:11:26 10:30:00', gps: { lat: other.lat, lon: other.lon } })
      await page.getByTestId('verify-photo').setInputFiles({ name: 'v.jpg', mimeType: 'image/jpeg', buffer: photo })
      await page.locator('.thumb').first().waitFor()
      await shot(page, 'verify')
      await page.getByTestId('verify-pass').click()
      await page.getByTestId('message').filter({ hasText: '核查通过' }).waitFor({ timeout: 30_000 })
      const row = (await db.query<{ status: string; photos: string[] }>(
        "SELECT c.status, e.photos FROM cases c JOIN case_events e ON e.case_id = c.id AND e.action = 'verify' WHERE c.id = $1", [id])).rows[0]
      equal(row.status, 'verified', 'the case is verified')
      equal(row.photos.length, 1, 'with the supervisor\'s photo')
      await context.close()
    })

    await h.check('a resident reports without an account (human check), follows the case to closure with its published photos, and rates it', async () => {
      const spot = { lon: cover.lon + east(900), lat: cover.lat + 0.004 }
      const { context, page } = await phone(ctx, { at: spot })
      await open(page, base)
      await page.getByTestId('locate').click()
      await page.getByTestId('cell-code').waitFor()
      await page.getByTestId('matter-search').fill('bllj')
      await page.getByTestId('matter-results').getByRole('button').first().click()
      await page.getByTestId('note').fill('路边有一堆垃圾')
      await page.getByTestId('submit').click()
      const q = await page.getByTestId('human-question').textContent() ?? ''
      const m = /(\d+) ([+−]) (\d+)/.exec(q)
      assert(m, `a question is asked: ${q}`)
      const answer = m[2] === '+' ? Number(m[1]) + Number(m[3]) : Number(m[1]) - Number(m[3])
      await page.getByTestId('human-answer').fill(String(answer))
      await page.getByTestId('submit').click()
      await page.getByTestId('message').filter({ hasText: '案件号' }).waitFor({ timeout: 30_000 })
      const id = Number(/案件号 (\d+)/.exec(await page.getByTestId('message').textContent() ?? '')?.[1])
      const row = (await db.query<{ channel: string; role: string }>('SELECT c.channel, u.role FROM cases c JOIN users u ON u.id = c.reporter_id WHERE c.id = $1', [id])).rows[0]
      equal(row.channel, 'web', 'reported through the web channel')
      equal(row.role, 'resident', 'by a guest resident account')
      // The district works the case to closure: accepted (dispatched automatically), progress, repair, verification, closure.
      const accepted = await app.inject({ method: 'POST', url: `/api/cases/${id}/accept`, headers: auth('operator'), payload: {} })
      const lead = accepted.json<{ lead_unit: { org: string } | null }>().lead_unit?.org
      const handler = (await db.query<{ name: string }>("SELECT name FROM users WHERE role = 'handler' AND org = $1 AND token_hash IS NOT NULL LIMIT 1", [lead])).rows[0]?.name
      const key = handler ? { '朝阳供电公司 抢修班 孙伟': 'power', '朝阳环卫中心 刘洋': 'sanitation', '建外街道网格中心 周杰': 'centre' }[handler] : undefined
      assert(key, `a demo handler of the lead unit ${lead}`)
      const stepOk = async (who: string, action: string, payload: Record<string, unknown> = {}): Promise<void> => {
        const res = await app.inject({ method: 'POST', url: `/api/cases/${id}/${action}`, headers: auth(who), payload })
        equal(res.statusCode, 200, `${action}: ${res.body.slice(0, 160)}`)
      }
      await stepOk(key, 'start')
      const [progress] = await upload(app, key)
      await stepOk(key, 'progress', { note: '清运车辆已出发', photos: [progress] })
      const [repair] = await upload(app, key)
      await stepOk(key, 'handle', { note: '已清运', photos: [repair] })
      const [check] = await upload(app, 'supervisor')
      await stepOk('supervisor', 'verify', { photos: [check] })
      await stepOk('operator', 'close')

      equal(await page.getByTestId('follow-link').getAttribute('href'), `#/case/${id}`, 'the answer links to the case')
      await page.goto(`${base}/m/#/mine`)
      await page.getByTestId(`mine-${id}`).click()
      await page.locator('[data-testid="case-status"][data-status="closed"]').waitFor()
      equal(await page.getByTestId('case-cell').textContent(), (await db.query<{ c: string }>('SELECT cell_code AS c FROM cases WHERE id = $1', [id])).rows[0].c, 'the resident sees the case and its cell')
      await page.locator('[data-testid="photo-verify"]').first().waitFor()
      equal(await page.locator('[data-testid="photo-handle"]').count(), 1, 'the repair photo is published to the resident')
      equal(await page.locator('[data-testid="photo-progress"]').count(), 0, 'the handler\'s progress photo is not')
      await page.getByTestId('rating-comment').fill('处理很快')
      await page.getByTestId('rate-satisfied').click()
      await page.getByTestId('rated').waitFor()
      const rating = (await db.query<{ rating: string; comment: string }>('SELECT rating, comment FROM case_ratings WHERE case_id = $1', [id])).rows
      equal(rating.length, 1, 'one rating')
      equal(rating[0].rating, 'satisfied', 'satisfied')
      await shot(page, 'resident-follow')
      await context.close()
    })

    await h.check('no request left the machine; no console errors', async () => {
      equal(recorder.blocked.length, 0, `requests blocked: ${recorder.blocked.slice(0, 3).join(', ')}`)
      equal(recorder.errors.length, 0, `console errors: ${recorder.errors.slice(0, 3).join(' | ')}`)
    })
  } finally {
    await browser.close()
    await server.close()
  }
  console.log(`${h.passed} passed, ${h.failed} failed${h.skipped ? `, ${h.skipped} skipped` : ''}`)
  return h.failed === 0 && h.passed > 0 ? 0 : 1
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error(err)
  console.log('0 passed, 1 failed')
  process.exit(1)
})
