/**
 * A remote base map is off unless an operator names its tile server's origin
 * (WANGGE_BASEMAP_ORIGINS); then the Content-Security-Policy admits that origin
 * for images and fetches, and nothing else remote.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { loadConfig, ConfigError } from '../server/config.ts'

t.test('the CSP names the configured base-map origins only', async (t) => {
  const plain = await testApp('empty')
  const def = (await plain.app.inject({ url: '/healthz' })).headers['content-security-policy'] as string
  await plain.close()
  t.match(def, /img-src 'self' data: blob:;/, 'no remote images by default')
  t.match(def, /connect-src 'self' data: blob:;/, 'no remote fetches by default')

  const tiles = await testApp('empty', { WANGGE_BASEMAP_ORIGINS: 'https://tiles.example.org, http://127.0.0.1:8081' })
  const csp = (await tiles.app.inject({ url: '/healthz' })).headers['content-security-policy'] as string
  await tiles.close()
  t.match(csp, /img-src 'self' data: blob: https:\/\/tiles\.example\.org http:\/\/127\.0\.0\.1:8081;/)
  t.match(csp, /connect-src 'self' data: blob: https:\/\/tiles\.example\.org http:\/\/127\.0\.0\.1:8081;/)
  t.match(csp, /script-src 'self' blob:;/, 'scripts stay our own')
  const refused = (v: string): boolean => {
    try {
      loadConfig({ WANGGE_BASEMAP_ORIGINS: v })
      return false
    } catch (err) {
      return err instanceof ConfigError
    }
  }
  t.ok(refused('https://*.example.org'), 'a wildcard is not an origin')
  t.ok(refused('https://tiles.example.org/{z}/{x}/{y}.png'), 'a URL template is not an origin')
})
