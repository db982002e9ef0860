/**
 * Debian's Chromium driven by playwright-core: no browser download. WebGL2
 * comes from SwiftShader (software), so it works on a machine without a GPU.
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

export const CHROMIUM_ARGS = [
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  '--no-sandbox',
  // No traffic of the browser's own (updates, safe browsing, sync): the network is closed here.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_PATH)`)
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true })
}

/** Every request and every console error of every page in the contexts it watches. */
export class Recorder {
  readonly requests: string[] = []
  readonly blocked: string[] = []
  readonly errors: string[] = []
  /** Console errors a check provoked on purpose (the browser logs every 4xx answer as an error). */
  private readonly expected: RegExp[] = []

  expect(pattern: RegExp): void {
    this.expected.push(pattern)
  }

  /** Records requests and console errors, and blocks (and records) anything not on loopback. */
  async watch(context: BrowserContext): Promise<void> {
    await context.route('**/*', async (route) => {
      const url = route.request().url()
      if (isLocal(url)) await route.continue()
      else {
        this.blocked.push(url)
        await route.abort('blockedbyclient')
      }
    })
    context.on('request', (req) => { this.requests.push(req.url()) })
    context.on('page', (page) => this.watchPage(page))
    for (const page of context.pages()) this.watchPage(page)
  }

  private watchPage(page: Page): void {
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return
      const text = `console: ${msg.text()} (${msg.location().url})`
      if (!this.expected.some((p) => p.test(text))) this.errors.push(text)
    })
    page.on('pageerror', (err) => { this.errors.push(`page error: ${err.message}`) })
  }
}

/** Loopback over http(s), or a URL that is not a network request at all (data:, blob:, about:). */
export function isLocal(raw: string): boolean {
  const u = new URL(raw)
  if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return true
  if (u.protocol !== 'http:' && u.protocol !== 'https:' && u.protocol !== 'ws:') return false
  return u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]'
}
