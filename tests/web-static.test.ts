/**
 * Serving the web client (server/plugins/static.ts): index.html at /, hashed
 * assets cached for good and sent pre-compressed, API routes untouched, JSON
 * 404s for unknown API paths, and a clear page when the client is not built.
 */
import t from 'tap'
import Fastify from 'fastify'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliCompressSync } from 'node:zlib'
import errors from '../server/plugins/errors.ts'
import webClient from '../server/plugins/static.ts'

async function appWith(root: string) {
  const app = Fastify()
  await app.register(errors)
  app.get('/api/cells', async () => ({ api: true }))
  app.get('/healthz', async () => ({ status: 'ok' }))
  await app.register(webClient, { root })
  await app.ready()
  return app
}

const dist = mkdtempSync(join(tmpdir(), 'wangge-web-'))
t.teardown(() => rmSync(dist, { recursive: true, force: true }))
mkdirSync(join(dist, 'assets'))
const html = '<!doctype html><title>wangge</title>'
writeFileSync(join(dist, 'index.html'), html)
const js = 'console.log("wangge");'.repeat(100)
writeFileSync(join(dist, 'assets', 'index-abc123.js'), js)
writeFileSync(join(dist, 'assets', 'index-abc123.js.br'), brotliCompressSync(js))

t.test('index.html at /, never cached, also when the browser accepts brotli', async (t) => {
  const app = await appWith(dist)
  t.teardown(() => app.close())
  for (const enc of ['', 'gzip, deflate, br']) {
    const r = await app.inject({ url: '/', headers: enc ? { 'accept-encoding': enc } : {} })
    t.equal(r.statusCode, 200, `accept-encoding: ${enc || 'none'}`)
    t.match(r.headers['content-type'], /text\/html/)
    t.equal(r.headers['cache-control'], 'no-cache')
    t.equal(r.body, html)
  }
})

t.test('hashed assets: immutable, pre-compressed when accepted', async (t) => {
  const app = await appWith(dist)
  t.teardown(() => app.close())
  const br = await app.inject({ url: '/assets/index-abc123.js', headers: { 'accept-encoding': 'br' } })
  t.equal(br.statusCode, 200)
  t.equal(br.headers['content-encoding'], 'br')
  t.equal(br.headers['cache-control'], 'public, max-age=31536000, immutable')
  t.match(br.headers.vary, /accept-encoding/i)
  const plain = await app.inject({ url: '/assets/index-abc123.js' })
  t.equal(plain.body, js)
})

t.test('API routes keep precedence; unknown paths get the JSON 404', async (t) => {
  const app = await appWith(dist)
  t.teardown(() => app.close())
  t.same((await app.inject('/api/cells')).json(), { api: true })
  t.same((await app.inject('/healthz')).json(), { status: 'ok' })
  const missing = await app.inject('/api/nothing-here')
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().error.code, 'not_found')
  t.equal((await app.inject('/assets/missing.js')).statusCode, 404)
  t.equal((await app.inject('/../package.json')).statusCode, 404, 'no path outside the root')
})

t.test('a checkout without web/dist answers / with 503 and how to build it', async (t) => {
  const app = await appWith(join(dist, 'not-built'))
  t.teardown(() => app.close())
  const r = await app.inject('/')
  t.equal(r.statusCode, 503)
  t.match(r.body, /npm run build:web/)
  t.same((await app.inject('/api/cells')).json(), { api: true })
})
