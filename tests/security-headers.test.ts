/**
 * Security headers on every kind of answer (JSON, errors, 404, the web client,
 * the API documentation), CORS closed by default and open only to configured
 * origins, and no secrets in the code.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { testApp } from './helpers/app.ts'
import { auth } from './helpers/cases.ts'
import { SECURITY_HEADERS } from '../server/plugins/doors.ts'
import { loadConfig } from '../server/config.ts'

const ctx = await testApp('empty')
t.teardown(() => ctx.close())
const { app } = ctx

t.test('security headers on every answer', async (t) => {
  const answers = [
    await app.inject('/healthz'),
    await app.inject('/api/districts'),
    await app.inject('/api/no-such-route'),
    await app.inject('/api/me'),
    await app.inject({ method: 'POST', url: '/api/users', headers: { 'content-type': 'application/json' }, payload: '{' }),
    await app.inject('/docs/json'),
    await app.inject('/'),
    await app.inject('/m/'),
  ]
  for (const r of answers) {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) t.equal(r.headers[k], v, `${r.statusCode} ${k}`)
    t.match(String(r.headers['x-request-id']), /^[0-9a-f-]{36}$/, 'a request id to quote')
  }
  const csp = SECURITY_HEADERS['content-security-policy']
  t.notMatch(csp, /https?:|\*/, 'no remote origin, no wildcard')
  t.match(csp, /worker-src 'self' blob:/, 'maplibre workers from blob:')
  t.notMatch(csp, /unsafe-eval/)
})

t.test('the web client loads nothing from elsewhere and needs no inline script', async (t) => {
  for (const page of ['web/dist/index.html', 'web/dist/m/index.html']) {
    let html: string
    try { html = readFileSync(page, 'utf8') } catch { t.comment(`${page} not built`); continue }
    t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, `${page}: every script is a file (script-src 'self')`)
    t.notMatch(html, /\b(src|href)="(https?:)?\/\//i, `${page}: nothing from another origin`)
  }
})

t.test('CORS: closed by default', async (t) => {
  const r = await app.inject({ url: '/api/districts', headers: { origin: 'https://evil.example' } })
  t.equal(r.statusCode, 200)
  t.equal(r.headers['access-control-allow-origin'], undefined, 'no CORS header: the browser keeps the answer from the other site')
  const pre = await app.inject({ method: 'OPTIONS', url: '/api/cases', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } })
  t.equal(pre.headers['access-control-allow-origin'], undefined)
  t.ok(pre.statusCode >= 400, `preflight refused: ${pre.statusCode}`)
})

t.test('CORS: only the configured origins', async (t) => {
  const other = await testApp('empty', { WANGGE_CORS_ORIGINS: 'https://screen.example.org, http://127.0.0.1:5173' })
  t.teardown(() => other.close())
  const ok = await other.app.inject({ url: '/api/districts', headers: { origin: 'https://screen.example.org' } })
  t.equal(ok.headers['access-control-allow-origin'], 'https://screen.example.org')
  const pre = await other.app.inject({ method: 'OPTIONS', url: '/api/cases', headers: { origin: 'http://127.0.0.1:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,idempotency-key' } })
  t.ok(pre.statusCode < 300, `preflight ${pre.statusCode}`)
  t.equal(pre.headers['access-control-allow-origin'], 'http://127.0.0.1:5173')
  t.match(String(pre.headers['access-control-allow-headers']), /idempotency-key/)
  const no = await other.app.inject({ url: '/api/districts', headers: { origin: 'https://screen.example.org.evil.example' } })
  t.equal(no.headers['access-control-allow-origin'], undefined, 'a look-alike origin is not let in')
  t.throws(() => loadConfig({ WANGGE_CORS_ORIGINS: '*' }), /not an origin/, 'no wildcard')
  t.throws(() => loadConfig({ WANGGE_CORS_ORIGINS: 'https://a.example/path' }), /not an origin/, 'an origin, not a URL')
})

t.test('slow clients and idle sockets time out (configured)', async (t) => {
  const cfg = loadConfig({})
  t.ok(cfg.requestTimeoutMs > 0 && cfg.connectionTimeoutMs > 0 && cfg.keepAliveTimeoutMs > 0)
  t.equal(app.server.requestTimeout, ctx.config.requestTimeoutMs, 'node applies the request timeout')
  t.equal(app.initialConfig.connectionTimeout, ctx.config.connectionTimeoutMs)
  t.equal(app.initialConfig.keepAliveTimeout, ctx.config.keepAliveTimeoutMs)
})

t.test('no secrets in the code: only the demo tokens, derived and marked as such', async (t) => {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { encoding: 'utf8' }).split('\n')
    .filter((f) => /\.(ts|mts|mjs|js|json|sql|sh|yml|yaml|env|example|md)$/.test(f) && !f.startsWith('web/dist/') && f !== 'package-lock.json' && !f.startsWith('tests/artifacts/'))
  const patterns: [RegExp, string][] = [
    [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
    [/postgres(ql)?:\/\/[^\s:@/'"`]+:[^\s@'"`$]+@/, 'a password in a database URL'],
    [/\b(password|passwd|secret|api[_-]?key|access[_-]?key)\b\s*[:=]\s*['"`][A-Za-z0-9+/_-]{12,}['"`]/i, 'a secret assigned in code'],
    [/\bwg_(?!demo_)[A-Za-z0-9_-]{20,}/, 'a literal bearer token'],
    [/\bAKIA[0-9A-Z]{16}\b/, 'a cloud access key'],
  ]
  let scanned = 0
  for (const f of files) {
    let text: string
    try { text = readFileSync(f, 'utf8') } catch { continue }
    scanned++
    for (const [re, what] of patterns) {
      const m = re.exec(text)
      if (m && !/forged|example|wg_forged_token/.test(m[0])) t.fail(`${f}: ${what}: ${m[0].slice(0, 60)}`)
    }
  }
  t.ok(scanned > 100, `${scanned} files scanned`)
  const publicTs = readFileSync('server/routes/public.ts', 'utf8')
  t.match(publicTs, /opts\.secret \?\? randomBytes/, 'the guest check\'s key comes from the configuration or is drawn at start')
  t.match(readFileSync('server/config.ts', 'utf8'), /secret: env\.WANGGE_SECRET \|\| null/, 'and the configuration takes it from the environment only')
  const r = await app.inject({ url: '/api/me', headers: auth('admin') })
  t.equal(r.statusCode, 401, 'the empty database has no demo users: their tokens open nothing there')
})
