/**
 * Browser tests of the web client (npm run test:browser): the real app on a
 * copy of the Chaoyang test database, in Debian's headless Chromium with
 * software WebGL2. Prints one line per check, the load time and bundle size,
 * then `N passed, N failed`; exits non-zero on any failure.
 * Screenshots go to tests/artifacts/.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { webBuildState, buildWeb } from '../../server/web-build.ts'
import { fromWgs84 } from '../../geocoder/crs.ts'
import { centroid, contains } from '../../web/src/lib/geometry.ts'
import { BACKGROUND } from '../../web/src/map/style.ts'
import type { CellFeature, GeocodeResult } from '../../web/src/types.ts'
import { launch, Recorder } from './browser.ts'
import { assert, equal, Harness } from './harness.ts'
import { hexToRgb, pixelStats } from './pixels.ts'
import { solidPng } from './png.ts'
import { startServer, type TestServer } from './server.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const ARTIFACTS = join(ROOT, 'tests/artifacts')
const DIST = join(ROOT, 'web/dist')
const BG = hexToRgb(BACKGROUND)

interface Ctx { server: TestServer; browser: Browser; recorder: Recorder; h: Harness }

async function getJSON<T>(url: string): Promise<T> {
  const res = await fetch(url)
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

async function newPage(c: Ctx, viewport = { width: 1366, height: 768 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await c.browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'zh-CN' })
  await c.recorder.watch(context)
  const page = await context.newPage()
  return { context, page }
}

/**
 * Waits for the client's first draw of the cells; fails with the client's own error if it had one.
 * (Pages are opened with waitUntil 'domcontentloaded': the preloaded grid holds back the load event.)
 */
async function waitReady(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.ready === 'true' || document.body.dataset.ready === 'error', null, { timeout: 120_000 })
  const state = await page.evaluate(() => ({ ready: document.body.dataset.ready, error: window.__wangge?.error }))
  assert(state.ready === 'true', `the client did not start: ${state.error ?? 'see console errors'}`)
}

/** Waits until the map has rendered everything pending (deck.gl layers included). */
async function idle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((resolve) => {
    const map = window.__wangge?.map
    if (!map) throw new Error('no map')
    map.once('idle', () => resolve())
    map.triggerRepaint()
  }))
}

async function mapBox(page: Page): Promise<{ x: number; y: number; width: number; height: number }> {
  const box = await page.locator('#map').boundingBox()
  assert(box, 'the map element has no box')
  return box
}

/** A centred region of the map, in page pixels. */
async function centreRegion(page: Page, w = 400, hgt = 240): Promise<{ x: number; y: number; width: number; height: number }> {
  const b = await mapBox(page)
  return { x: Math.round(b.x + b.width / 2 - w / 2), y: Math.round(b.y + b.height / 2 - hgt / 2), width: w, height: hgt }
}

function bundleSize(): { files: { name: string; raw: number; gz: number; br: number }[]; raw: number; gz: number; br: number } {
  const files: { name: string; raw: number; gz: number; br: number }[] = []
  const walk = (d: string): void => {
    for (const f of readdirSync(d)) {
      const p = join(d, f)
      if (statSync(p).isDirectory()) walk(p)
      else if (!/\.(br|gz)$/.test(f)) {
        const size = (q: string): number => { try { return statSync(q).size } catch { return statSync(p).size } }
        files.push({ name: p.slice(DIST.length + 1), raw: statSync(p).size, gz: size(`${p}.gz`), br: size(`${p}.br`) })
      }
    }
  }
  walk(DIST)
  const sum = (k: 'raw' | 'gz' | 'br'): number => files.reduce((s, f) => s + f[k], 0)
  return { files, raw: sum('raw'), gz: sum('gz'), br: sum('br') }
}

const kb = (n: number): string => `${(n / 1024).toFixed(0)} KiB`

async function run(c: Ctx): Promise<void> {
  const { h, server } = c
  const base = server.base
  mkdirSync(ARTIFACTS, { recursive: true })
  const health = await getJSON<{ cells: number }>(`${base}/healthz`)
  const t0 = performance.now()
  const cellsRes = await fetch(`${base}/api/cells`)
  const cellsBytes = (await cellsRes.arrayBuffer()).byteLength
  console.log(`# GET /api/cells: ${Math.round(performance.now() - t0)} ms, ${(cellsBytes / 1048576).toFixed(1)} MiB, ${health.cells} cells (server side, first call)`)

  const { page } = await newPage(c)
  const loads: number[] = []

  await h.check('the page loads and draws every cell', async () => {
    await page.goto(`${base}/`, { waitUntil: 'domcontentloaded' })
    await waitReady(page)
    const m = await page.evaluate(() => window.__wangge?.metrics)
    assert(m?.firstDraw !== undefined, 'no first-draw time')
    equal(m.cellCount, health.cells, 'cells loaded by the client')
    loads.push(m.firstDraw)
    console.log(`# first draw of ${m.cellCount} cells: ${Math.round(m.firstDraw)} ms after navigation start (cells requested at ${Math.round(m.cellsRequested ?? 0)} ms, received and parsed at ${Math.round(m.cellsFetched ?? 0)} ms, indexed at ${Math.round(m.gridBuilt ?? 0)} ms)`)
    const labels = await page.waitForFunction(() => performance.getEntriesByName('wangge:labels-drawn')[0]?.startTime, null, { timeout: 60_000 })
    console.log(`# names (deck.gl TextLayer) drawn at ${Math.round(Number(await labels.jsonValue()))} ms`)
    await page.screenshot({ path: join(ARTIFACTS, 'dispatcher-1366x768.png') })
  })

  await h.check('the map renders with WebGL2', async () => {
    const gl = await page.evaluate(() => {
      const canvas = window.__wangge?.map.getCanvas()
      const ctx = canvas?.getContext('webgl2')
      return { webgl2: ctx instanceof WebGL2RenderingContext, lost: ctx?.isContextLost() ?? true, renderer: ctx?.getParameter(ctx.RENDERER) as string | undefined }
    })
    assert(gl.webgl2 && !gl.lost, `no live WebGL2 context on the map canvas (${JSON.stringify(gl)})`)
  })

  await h.check('the cells layer draws (non-background pixels in the map centre)', async () => {
    const s = await pixelStats(page, await page.screenshot({ clip: await centreRegion(page) }), BG)
    const share = s.drawn / s.total
    assert(share > 0.6, `only ${(share * 100).toFixed(1)} % of the centre region is drawn`)
  })

  await h.check('the legend has a toggle per layer, and the cells toggle hides and shows them', async () => {
    const ids = await page.locator('[data-testid^="toggle-"]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.layer))
    for (const id of ['cells', 'community', 'subdistrict', 'district', 'selection', 'labels']) assert(ids.includes(id), `no toggle for ${id} (have ${ids.join(', ')})`)
    const region = await centreRegion(page)
    await page.locator('[data-testid="toggle-cells"]').uncheck()
    await idle(page)
    const off = await pixelStats(page, await page.screenshot({ clip: region }), BG)
    assert(off.drawn / off.total < 0.3, `with the cells off, ${(100 * off.drawn / off.total).toFixed(1)} % is still drawn`)
    await page.waitForFunction(() => location.hash.includes('layers='), null, { timeout: 5_000 })
    await page.locator('[data-testid="toggle-cells"]').check()
    await idle(page)
    const on = await pixelStats(page, await page.screenshot({ clip: region }), BG)
    assert(on.drawn / on.total > 0.6, 'the cells did not come back')
  })

  // A known cell: its centroid (inside the cell) is clicked on the map.
  const sample = (await getJSON<{ features: CellFeature[] }>(`${base}/api/cells?limit=300`)).features[257]
  const cell = await getJSON<CellFeature>(`${base}/api/cells/${sample.properties.code}`)
  const [lon, lat] = centroid(cell.geometry)
  assert(contains(cell.geometry, lon, lat), `the centroid of ${cell.properties.code} is outside it`)
  const expected = await getJSON<GeocodeResult>(`${base}/api/geocode?lon=${lon}&lat=${lat}`)

  await h.check('clicking a known cell shows its code, community, subdistrict and responsible units', async () => {
    equal(expected.cell, cell.properties.code, 'the API locates the centroid in its cell')
    await page.evaluate(([x, y]) => window.__wangge?.map.jumpTo({ center: [x, y], zoom: 16.5 }), [lon, lat])
    await idle(page)
    const box = await mapBox(page)
    const pt = await page.evaluate(([x, y]) => window.__wangge?.map.project([x, y]), [lon, lat])
    assert(pt, 'no projection')
    const around = { x: Math.round(box.x + pt.x - 20), y: Math.round(box.y + pt.y - 20), width: 40, height: 40 }
    const before = await pixelStats(page, await page.screenshot({ clip: around }), BG)
    await page.mouse.click(box.x + pt.x, box.y + pt.y)
    await page.locator('[data-testid="cell-code"]').waitFor({ timeout: 15_000 })
    equal(await page.locator('[data-testid="cell-code"]').textContent(), cell.properties.code, 'cell code in the panel')
    const community = await page.locator('[data-testid="community"]').textContent()
    assert(community?.includes(cell.properties.community_name), `community: ${community}`)
    const subdistrict = await page.locator('[data-testid="subdistrict"]').textContent()
    assert(subdistrict?.includes(cell.properties.subdistrict_name), `subdistrict: ${subdistrict}`)
    const units = await page.locator('[data-testid="units"]').textContent()
    assert(expected.responsible_units.length > 0, 'the API gave no responsible unit')
    for (const u of expected.responsible_units) {
      assert(units?.includes(u.uscc), `unit ${u.uscc} is not in the panel: ${units}`)
      if (u.name) assert(units?.includes(u.name), `unit name ${u.name} is not in the panel`)
    }
    await idle(page)
    const after = await pixelStats(page, await page.screenshot({ clip: around }), BG)
    assert(after.orange > before.orange + 400, `the cell is not highlighted (orange pixels ${before.orange} → ${after.orange})`)
    await page.waitForFunction(() => location.hash.includes('at='), null, { timeout: 5_000 })
    await page.screenshot({ path: join(ARTIFACTS, 'dispatcher-selected-1366x768.png') })
  })

  await h.check('typed GCJ-02 coordinates (lat, lon order) locate the same cell', async () => {
    const [glon, glat] = fromWgs84(lon, lat, 'gcj02')
    await page.locator('[data-testid="crs"]').selectOption('gcj02')
    await page.locator('[data-testid="coords"]').fill(`${glat.toFixed(7)}，${glon.toFixed(7)}`)
    await page.locator('[data-testid="locate"]').click()
    await page.waitForFunction((code) => document.querySelector('[data-testid="cell-code"]')?.textContent === code && !document.querySelector('[data-testid="message"] .note'), cell.properties.code, { timeout: 15_000 })
    assert((await page.locator('[data-testid="result"]').textContent())?.includes('纬度, 经度'), 'the swapped order is not pointed out')
    await page.waitForFunction(() => location.hash.includes('crs=gcj02'), null, { timeout: 5_000 })
  })

  await h.check('a point outside the district is explained, not shown as a cell', async () => {
    c.recorder.expect(/status of 422 .*\/api\/geocode\?lon=116&lat=39\.5&crs=wgs84\)$/)
    await page.locator('[data-testid="crs"]').selectOption('wgs84')
    await page.locator('[data-testid="coords"]').fill('116.0, 39.5')
    await page.locator('[data-testid="locate"]').click()
    const error = page.locator('[data-testid="error"]')
    await error.waitFor({ timeout: 15_000 })
    assert((await error.textContent())?.includes('辖区外'), `error text: ${await error.textContent()}`)
    equal(await page.locator('[data-testid="cell-code"]').count(), 0, 'cell codes shown')
    await page.locator('[data-testid="coords"]').fill(`${lon}, ${lat}`)
    await page.locator('[data-testid="locate"]').click()
    await page.waitForFunction((code) => document.querySelector('[data-testid="cell-code"]')?.textContent === code, cell.properties.code, { timeout: 15_000 })
  })

  await h.check('switching to English and back relabels the interface', async () => {
    await page.locator('[data-testid="lang"]').click()
    equal(await page.evaluate(() => document.documentElement.lang), 'en', 'html lang')
    equal(await page.locator('#panel h2').textContent(), 'Locate', 'panel title')
    equal(await page.locator('[data-testid="legend-toggle"]').textContent(), 'Layers', 'legend title')
    assert((await page.locator('[data-testid="result"]').textContent())?.includes('Responsible units'), 'the result is not relabelled')
    await page.waitForFunction(() => location.hash.includes('lang=en'), null, { timeout: 5_000 })
    await idle(page)
    await page.screenshot({ path: join(ARTIFACTS, 'dispatcher-en-1366x768.png') })
    await page.locator('[data-testid="lang"]').click()
    equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN', 'html lang after switching back')
    equal(await page.locator('#panel h2').textContent(), '位置查询', 'panel title after switching back')
  })

  await h.check('the layout fits 1366×768 without scrolling the page', async () => {
    const dims = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, sh: document.documentElement.scrollHeight, w: innerWidth, hgt: innerHeight }))
    assert(dims.sw <= dims.w && dims.sh <= dims.hgt, `page overflows: ${JSON.stringify(dims)}`)
    const map = await mapBox(page)
    assert(map.width >= 900 && map.height >= 600, `map too small: ${map.width}×${map.height}`)
  })

  await h.check('a shared link reopens the same view, language, layers and cell', async () => {
    await page.locator('[data-testid="lang"]').click()
    await page.locator('[data-testid="toggle-community"]').uncheck()
    await page.waitForFunction(() => location.hash.includes('lang=en') && location.hash.includes('layers=') && !location.hash.includes('community'), null, { timeout: 5_000 })
    const link = page.url()
    const zoom = await page.evaluate(() => window.__wangge?.map.getZoom())
    const { context, page: other } = await newPage(c)
    await other.goto(link, { waitUntil: 'domcontentloaded' })
    await waitReady(other)
    await other.waitForFunction((code) => document.querySelector('[data-testid="cell-code"]')?.textContent === code, cell.properties.code, { timeout: 15_000 })
    equal(await other.evaluate(() => document.documentElement.lang), 'en', 'language')
    equal(await other.locator('[data-testid="toggle-community"]').isChecked(), false, 'community layer toggle')
    equal(await other.locator('[data-testid="toggle-cells"]').isChecked(), true, 'cells layer toggle')
    const z = await other.evaluate(() => window.__wangge?.map.getZoom())
    assert(z !== undefined && zoom !== undefined && Math.abs(z - zoom) < 0.01, `zoom ${z}, the link's page had ${zoom}`)
    await context.close()
    await page.locator('[data-testid="lang"]').click()
    await page.locator('[data-testid="toggle-community"]').check()
  })

  await h.check('the layout holds on a 4K screen (3840×2160)', async () => {
    const { context, page: big } = await newPage(c, { width: 3840, height: 2160 })
    const t = performance.now()
    await big.goto(`${base}/#view=dispatcher&lang=zh`, { waitUntil: 'domcontentloaded' })
    await waitReady(big)
    const m = await big.evaluate(() => window.__wangge?.metrics.firstDraw)
    console.log(`# 4K first draw: ${Math.round(m ?? performance.now() - t)} ms`)
    const dims = await big.evaluate(() => ({
      font: parseFloat(getComputedStyle(document.documentElement).fontSize),
      panel: document.getElementById('panel')?.getBoundingClientRect().width ?? 0,
      sw: document.documentElement.scrollWidth,
      sh: document.documentElement.scrollHeight,
    }))
    assert(dims.font >= 20, `root font ${dims.font}px: text would be tiny at 4K`)
    assert(dims.panel >= 500 && dims.panel <= 1000, `panel width ${dims.panel}`)
    assert(dims.sw <= 3840 && dims.sh <= 2160, `page overflows: ${JSON.stringify(dims)}`)
    const map = await mapBox(big)
    const canvas = await big.evaluate(() => { const cv = window.__wangge?.map.getCanvas(); return cv ? { w: cv.width, h: cv.height } : undefined })
    assert(canvas && canvas.w >= map.width - 1 && canvas.h >= map.height - 1, `canvas ${JSON.stringify(canvas)} smaller than the map ${map.width}×${map.height}`)
    const s = await pixelStats(big, await big.screenshot({ clip: await centreRegion(big, 800, 480) }), BG)
    assert(s.drawn / s.total > 0.6, 'the cells are not drawn at 4K')
    await big.screenshot({ path: join(ARTIFACTS, 'dispatcher-3840x2160.png') })
    await context.close()
  }, 300_000)

  await h.check('a base map configured with ?basemap= is drawn from that URL, and only then', async () => {
    // A stand-in tile server on loopback: the same grey tile for every z/x/y.
    const png = solidPng(256, 200)
    const tiles: string[] = []
    const tileServer = createServer((req, res) => {
      tiles.push(req.url ?? '')
      res.writeHead(200, { 'content-type': 'image/png', 'access-control-allow-origin': '*' }).end(png)
    })
    await new Promise<void>((resolve) => tileServer.listen(0, '127.0.0.1', resolve))
    try {
      const port = (tileServer.address() as AddressInfo).port
      const template = `http://127.0.0.1:${port}/tiles/{z}/{x}/{y}.png`
      const { context, page: p } = await newPage(c)
      await p.goto(`${base}/?basemap=${encodeURIComponent(template)}#view=dispatcher`, { waitUntil: 'domcontentloaded' })
      await waitReady(p)
      await idle(p)
      assert(tiles.length > 0, 'no tile was requested from the configured base map')
      assert(tiles.every((t) => /^\/tiles\/\d+\/\d+\/\d+\.png$/.test(t)), `unexpected tile paths: ${tiles.slice(0, 3).join(', ')}`)
      assert(await p.locator('[data-testid="toggle-basemap"]').isChecked(), 'no base map toggle in the legend')
      await context.close()
    } finally {
      await new Promise<void>((resolve) => tileServer.close(() => resolve()))
    }
    equal(c.recorder.requests.filter((u) => u.includes('/tiles/')).length, tiles.length, 'tile requests seen by the browser')
  })

  await h.check('load time to first draw (two more cold loads)', async () => {
    for (let i = 0; i < 2; i++) {
      const { context, page: p } = await newPage(c)
      await p.goto(`${base}/`, { waitUntil: 'domcontentloaded' })
      await waitReady(p)
      const m = await p.evaluate(() => window.__wangge?.metrics.firstDraw)
      assert(m !== undefined, 'no first-draw time')
      loads.push(m)
      await context.close()
    }
    const sorted = [...loads].sort((a, b) => a - b)
    console.log(`# load to first draw of ${health.cells} cells at 1366×768: ${loads.map((x) => `${Math.round(x)} ms`).join(', ')} (median ${Math.round(sorted[Math.floor(sorted.length / 2)])} ms)`)
  }, 400_000)

  await h.check('no request left the machine (every request went to 127.0.0.1)', async () => {
    const hosts = new Set(c.recorder.requests.map((u) => new URL(u).host))
    console.log(`# ${c.recorder.requests.length} requests, to ${[...hosts].join(', ')}`)
    assert(c.recorder.blocked.length === 0, `requests to other hosts (blocked): ${c.recorder.blocked.slice(0, 10).join(', ')}`)
    assert(c.recorder.requests.length > 0, 'no request was recorded')
  })

  await h.check('no console errors', async () => {
    assert(c.recorder.errors.length === 0, c.recorder.errors.slice(0, 10).join('\n'))
  })

  const b = bundleSize()
  for (const f of b.files.sort((x, y) => y.raw - x.raw)) console.log(`# bundle ${f.name}: ${kb(f.raw)} (gzip ${kb(f.gz)}, brotli ${kb(f.br)})`)
  console.log(`# bundle total: ${kb(b.raw)} (gzip ${kb(b.gz)}, brotli ${kb(b.br)})`)
  console.log(`# screenshots: ${ARTIFACTS}`)
}

async function main(): Promise<number> {
  const state = webBuildState()
  if (state.stale) {
    console.log(`# building the web client: ${state.reason}`)
    await buildWeb()
  }
  // `npm run test:browser -- --only 'base map'` runs the checks whose name contains the text.
  const at = process.argv.indexOf('--only')
  const h = new Harness(at > 0 ? process.argv[at + 1] : undefined)
  let server: TestServer | undefined
  let browser: Browser | undefined
  try {
    server = await startServer()
    browser = await launch()
    await run({ server, browser, recorder: new Recorder(), h })
  } catch (err) {
    // A failure outside a check (server, browser) is a failed run, never a silent pass.
    h.results.push({ name: 'setup', ok: false, ms: 0, error: err instanceof Error ? err.stack ?? err.message : String(err) })
    console.log(`not ok ${h.results.length} - setup`)
    console.log(`  # ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  } finally {
    await browser?.close().catch(() => undefined)
    await server?.close().catch(() => undefined)
  }
  console.log(`${h.passed} passed, ${h.failed} failed${h.skipped ? `, ${h.skipped} skipped` : ''}`)
  return h.failed === 0 && h.passed > 0 ? 0 : 1
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error(err)
  console.log('0 passed, 1 failed')
  process.exit(1)
})
