/**
 * Hostile input against every route: property-based (fast-check, seeded) path
 * parameters, query parameters and bodies built from each route's own OpenAPI
 * description, filled with NaN, Infinity, huge numbers, long strings, SQL- and
 * path-injection strings and malformed GeoJSON; then a corpus of deep JSON,
 * oversized bodies, broken multipart and the shared invalid GeoJSON fixtures;
 * then slow clients on a real socket. Never a 5xx, never a hang (each answer
 * within REQUEST_DEADLINE_MS), and the server answers /healthz afterwards.
 *
 * Each caller is a role the route admits (the doors are another test's), so the
 * input gets past authentication into parsing, validation and the handlers.
 * Sampled, not exhausted: RUNS per route, about a minute per backend.
 */
import t from 'tap'
import fc from 'fast-check'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { testApp } from './helpers/app.ts'
import { auth, multipart, fakeJpeg } from './helpers/cases.ts'
import type { Role } from '../server/cases/roles.ts'

const RUNS = Number(process.env.HOSTILE_RUNS ?? 7)
const SEED = Number(process.env.HOSTILE_SEED ?? 20260926)
const REQUEST_DEADLINE_MS = 20_000

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { app } = ctx

const KEY: Record<Role, string> = {
  resident: 'resident', supervisor: 'supervisor', command_centre: 'operator', dispatcher: 'dispatcher',
  handler: 'power', planner: 'planner', leader: 'leader', admin: 'admin',
}

/** Strings that have broken services before. */
const NASTY = [
  'NaN', 'Infinity', '-Infinity', '1e309', '-1e309', '1e-400', '-0', '0x1F', '', ' ', 'null', 'undefined', 'true', '[]', '{}',
  "' OR '1'='1", "1; DROP TABLE cells; --", "'); SELECT pg_sleep(30); --", '1 UNION SELECT token_hash FROM users', '$1', '\\', '\\x00',
  '%00', '\u0000', '../../../../etc/passwd', '..%2f..%2fetc%2fpasswd', '<script>alert(1)</script>', '${7*7}', '{{7*7}}', '\u202e\u0645',
  '𠀀'.repeat(60), 'a'.repeat(5000), '9'.repeat(400), '116.45,39.92,116.46', '116.45;39.92', '116.45,39.92,116.46,39.93,116.47',
  '180,90,-180,-90', 'POINT(116.45 39.92)', 'SRID=4326;POLYGON((0 0,1 0,1 1,0 0))', '110105001001001', '11010506010', '2031-02-30', '9999-99-99T99:99:99Z',
]

const nastyString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 1, arbitrary: fc.double().map(String) },
  { weight: 1, arbitrary: fc.integer().map(String) },
)

/** Coordinates a JSON body can carry that are still wrong: huge, tiny, out of range, strings, nulls. */
const nastyNumber = fc.oneof(
  fc.constantFrom(1e308, -1e308, 5e-324, 0, -0, 181, -91, 1e15, 116.45, 39.92, 2 ** 53 + 1),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom('116.45', 'NaN', 'Infinity', null, true, [], {}),
)

const geometry = fc.oneof(
  fc.record({ type: fc.constantFrom('Point', 'Polygon', 'MultiPolygon', 'LineString', 'GeometryCollection', 'Nope'), coordinates: fc.oneof(fc.array(nastyNumber, { maxLength: 4 }), fc.array(fc.array(fc.array(nastyNumber, { maxLength: 3 }), { maxLength: 6 }), { maxLength: 3 })) }),
  fc.constant({ type: 'Polygon', coordinates: [[[116.45, 39.92], [116.46, 39.92], [116.45, 39.93], [116.46, 39.93], [116.45, 39.92]]] }),
  fc.constant({ type: 'Polygon', coordinates: [] }),
)

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: nastyString },
  { weight: 2, arbitrary: nastyNumber },
  { weight: 1, arbitrary: geometry },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.record({ lon: nastyNumber, lat: nastyNumber, crs: nastyString }) },
)

interface OpenApiParam { name: string; in: string }
interface OpenApiOp { parameters?: OpenApiParam[]; requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> } }
const doc = (await app.inject('/docs/json')).json() as { paths: Record<string, Record<string, OpenApiOp>> }

const toOpenApi = (url: string): string => url.replace(/:([A-Za-z_]+)/g, '{$1}')

interface Target { method: string; url: string; op: OpenApiOp | undefined; role: Role | null }
const targets: Target[] = []
for (const d of app.doors) {
  if (d.method === 'OPTIONS' || d.url === '/*' || d.url === '/' || d.url.startsWith('/docs') || d.url.startsWith('/m/')) continue
  const op = doc.paths[toOpenApi(d.url)]?.[d.method.toLowerCase()]
  const role = d.access === 'public' ? null : d.access === 'signed-in' ? 'supervisor' : (d.access.includes('admin') ? 'admin' : d.access[0])
  targets.push({ method: d.method, url: d.url, op, role })
}

const enc = (v: unknown): string => encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v) ?? '')

function requestArb(tg: Target): fc.Arbitrary<{ url: string; payload?: string; contentType?: string }> {
  const pathNames = [...tg.url.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1])
  const queryNames = (tg.op?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name)
  const bodyProps = Object.keys(tg.op?.requestBody?.content?.['application/json']?.schema?.properties ?? {})
  const path = fc.tuple(...pathNames.map(() => nastyString)).map((vals) => {
    let u = tg.url
    pathNames.forEach((n, i) => { u = u.replace(`:${n}`, encodeURIComponent(vals[i]) || 'x') })
    return u
  })
  const query = fc.subarray(queryNames).chain((names) => fc.tuple(...names.map(() => anyValue)).map((vals) => names.map((n, i) => `${n}=${enc(vals[i])}`).join('&')))
  const write = tg.method !== 'GET'
  const body: fc.Arbitrary<string | undefined> = !write ? fc.constant(undefined) : fc.oneof(
    { weight: 4, arbitrary: fc.subarray(bodyProps).chain((names) => fc.tuple(...names.map(() => anyValue)).map((vals) => JSON.stringify(Object.fromEntries(names.map((n, i) => [n, vals[i]]))))) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constantFrom('[1e999, -1e999]', '{"lon": 1e999, "lat": 1e999}', '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1e999,0]},"properties":{}}]}', '{', 'null', '"x"', '\u0000') },
  )
  return fc.record({ path, query, body }).map(({ path: p, query: q, body: b }) => ({
    url: q ? `${p}?${q}` : p,
    ...(b === undefined ? {} : { payload: b, contentType: 'application/json' }),
  }))
}

async function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${REQUEST_DEADLINE_MS} ms: ${what}`)), REQUEST_DEADLINE_MS) })
  try { return await Promise.race([p, deadline]) } finally { clearTimeout(timer) }
}

t.test('property: random hostile parameters and bodies on every route, never a 5xx', async (t) => {
  const started = performance.now()
  let requests = 0
  for (const tg of targets) {
    try {
      await fc.assert(fc.asyncProperty(requestArb(tg), async (req) => {
      const r = await within(app.inject({
        method: tg.method as 'GET',
        url: req.url,
        headers: { ...(tg.role ? auth(KEY[tg.role]) : {}), ...(req.contentType ? { 'content-type': req.contentType } : {}) },
        ...(req.payload === undefined ? {} : { payload: req.payload }),
      }), `${tg.method} ${req.url.slice(0, 200)}`)
      requests++
      if (r.statusCode >= 500) throw new Error(`${tg.method} ${req.url.slice(0, 300)} ${req.payload?.slice(0, 300) ?? ''} → ${r.statusCode} ${r.body.slice(0, 300)}`)
      // Fastify's default error shape {error: "Bad Request", code, message} is not ours.
      const open311 = tg.url.startsWith('/open311/')
      // Open311 answers errors in its own shape by specification: [{ code, description }].
      // (A path too long to match the route at all gets the API's shape.)
      if (open311 && r.statusCode >= 400 && /json/.test(String(r.headers['content-type'])) && !Array.isArray(r.json()) && typeof (r.json() as { error?: unknown }).error !== 'object') throw new Error(`${tg.method} ${req.url.slice(0, 200)}: neither Open311's nor the API's error shape: ${r.body.slice(0, 200)}`)
      if (!open311 && r.statusCode >= 400 && /json/.test(String(r.headers['content-type'])) && typeof (r.json() as { error?: unknown }).error !== 'object') throw new Error(`${tg.method} ${req.url.slice(0, 200)}: not the API's error shape: ${r.body.slice(0, 200)}`)
      if (!open311 && r.statusCode >= 400 && /json/.test(String(r.headers['content-type']))) {
        const e = (r.json() as { error?: { code?: unknown; message?: unknown } }).error
        if (typeof e?.code !== 'string' || typeof e.message !== 'string') throw new Error(`${tg.method} ${req.url}: error without {code, message}: ${r.body.slice(0, 200)}`)
      }
      }), { numRuns: RUNS, seed: SEED, endOnFailure: true })
    } catch (err) {
      t.fail(`${tg.method} ${tg.url}: ${((err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message).slice(0, 600)}`)
    }
  }
  t.ok(requests >= targets.length * RUNS, `${requests} requests over ${targets.length} routes in ${Math.round(performance.now() - started)} ms`)
})

function invalidGeoJSON(): { name: string; text: string }[] {
  const root = join(import.meta.dirname, '../../shared/data/geojson-fixtures/invalid')
  const out: { name: string; text: string }[] = []
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f)
      if (statSync(p).isDirectory()) walk(p)
      else if (f.endsWith('json')) out.push({ name: p.slice(root.length + 1), text: readFileSync(p, 'utf8') })
    }
  }
  try { walk(root) } catch { /* the shared fixtures are not on this machine */ }
  return out
}

t.test('corpus: invalid GeoJSON, deep JSON, oversized and lying bodies', async (t) => {
  const geo = invalidGeoJSON()
  t.comment(`${geo.length} invalid GeoJSON fixtures`)
  const geoRoutes: [string, Role | null, string][] = [
    ['/api/grids/import', 'planner', 'application/geo+json'], ['/api/facilities/import', 'planner', 'application/geo+json'],
    ['/api/base/import', 'admin', 'application/geo+json'], ['/api/base/query', 'leader', 'application/json'], ['/api/geocode/batch', null, 'application/json'],
  ]
  for (const g of geo) {
    for (const [url, role, type] of geoRoutes) {
      const body = url === '/api/base/query' ? `{"polygon": ${g.text}}` : g.text
      const r = await within(app.inject({ method: 'POST', url, headers: { ...(role ? auth(KEY[role]) : {}), 'content-type': type }, payload: body }), `${url} ${g.name}`)
      // The batch geocoder answers 200 with an error row per bad row; the others refuse the file.
      if (url === '/api/geocode/batch') t.ok(r.statusCode < 500, `${g.name} → ${url}: ${r.statusCode}`)
      else t.ok(r.statusCode >= 400 && r.statusCode < 500, `${g.name} → ${url}: ${r.statusCode}`)
    }
    const asCase = await app.inject({ method: 'POST', url: '/api/changesets/1/operations', headers: auth('planner'), payload: `{"op":"reshape","cell":"110105001001001","geometry":${g.text}}` })
    t.ok(asCase.statusCode < 500, `${g.name} as a redraw geometry: ${asCase.statusCode}`)
  }

  const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n)
  const deepObj = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n)
  for (const [what, payload] of [['10,000 nested arrays', deep(10_000)], ['100,000 nested arrays', deep(100_000)], ['20,000 nested objects', deepObj(20_000)], ['unclosed 500,000', '['.repeat(500_000)]] as const) {
    for (const [url, role] of [['/api/cases', 'supervisor'], ['/api/grids/import', 'planner'], ['/api/base/query', 'leader'], ['/api/public/guest', null]] as const) {
      const r = await within(app.inject({ method: 'POST', url, headers: { ...(role ? auth(KEY[role]) : {}), 'content-type': 'application/json' }, payload }), `${what} ${url}`)
      t.ok(r.statusCode >= 400 && r.statusCode < 500, `${what} → ${url}: ${r.statusCode} ${r.body.slice(0, 100)}`)
    }
  }

  const big = Buffer.alloc(ctx.config.bodyLimit + 1024, 0x20)
  const tooBig = await app.inject({ method: 'POST', url: '/api/grids/import', headers: { ...auth('planner'), 'content-type': 'application/geo+json' }, payload: big })
  t.equal(tooBig.statusCode, 413, 'a body over WANGGE_BODY_LIMIT')
  const tooBigCase = await app.inject({ method: 'POST', url: '/api/cases', headers: { ...auth('supervisor'), 'content-type': 'application/json' }, payload: Buffer.alloc(2 * 1024 * 1024, 0x20) })
  t.equal(tooBigCase.statusCode, 413, 'case intake keeps the 1 MiB default')
  const anonBig = await app.inject({ method: 'POST', url: '/api/grids/import', headers: { 'content-type': 'application/geo+json' }, payload: big })
  t.equal(anonBig.statusCode, 401, 'no one without a token gets to send 32 MiB to be parsed')
  const lying = await app.inject({ method: 'POST', url: '/api/cases', headers: { ...auth('supervisor'), 'content-type': 'application/json', 'content-length': '10' }, payload: '{"matter": "11010506010", "description": "x"}' })
  t.ok(lying.statusCode >= 400 && lying.statusCode < 500, `a content-length that lies: ${lying.statusCode}`)
  const longString = await app.inject({ method: 'POST', url: '/api/cases', headers: auth('supervisor'), payload: { matter: '11010506010', description: 'x'.repeat(500_000), point: { lon: 116.45, lat: 39.92 } } })
  t.equal(longString.statusCode, 400, 'a description past its maxLength')
  const wrongType = await app.inject({ method: 'POST', url: '/api/cases', headers: { ...auth('supervisor'), 'content-type': 'application/xml' }, payload: '<case/>' })
  t.equal(wrongType.statusCode, 415)
})

t.test('corpus: broken multipart', async (t) => {
  const post = (payload: Buffer | string, contentType: string) => within(app.inject({ method: 'POST', url: '/api/photos', headers: { ...auth('supervisor'), 'content-type': contentType }, payload }), 'multipart')
  const good = multipart([{ name: 'a.jpg', type: 'image/jpeg', bytes: fakeJpeg() }])
  const boundary = good.headers['content-type'].split('boundary=')[1]
  const cases: [string, Buffer | string, string][] = [
    ['no boundary parameter', good.payload, 'multipart/form-data'],
    ['wrong boundary', good.payload, 'multipart/form-data; boundary=nope'],
    ['truncated in the middle of the file', good.payload.subarray(0, good.payload.length - 900), good.headers['content-type']],
    ['no closing boundary', good.payload.subarray(0, good.payload.length - boundary.length - 6), good.headers['content-type']],
    ['empty', '', good.headers['content-type']],
    ['garbage', 'x'.repeat(10_000), good.headers['content-type']],
    ['a part that breaks off', `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n#!/bin/sh\r\n`, good.headers['content-type']],
    ['a header line of 200 KiB', `--${boundary}\r\nContent-Disposition: form-data; name="${'f'.repeat(200_000)}"; filename="a.jpg"\r\n\r\nxx\r\n--${boundary}--\r\n`, good.headers['content-type']],
  ]
  for (const [what, payload, type] of cases) {
    const r = await post(payload, type)
    t.ok(r.statusCode >= 400 && r.statusCode < 500, `${what}: ${r.statusCode} ${r.body.slice(0, 100)}`)
  }
  const many = multipart(Array.from({ length: 12 }, (_, i) => ({ name: `p${i}.jpg`, type: 'image/jpeg', bytes: fakeJpeg(256) })))
  t.ok((await post(many.payload, many.headers['content-type'])).statusCode >= 400, 'more than 9 files')
  const huge = multipart([{ name: 'big.jpg', type: 'image/jpeg', bytes: fakeJpeg(9 * 1024 * 1024) }])
  t.equal((await post(huge.payload, huge.headers['content-type'])).statusCode, 413, 'a file over 8 MiB')
})

t.test('slow clients time out; the server stays up', async (t) => {
  const slow = await testApp('empty', { WANGGE_REQUEST_TIMEOUT_MS: '1500', WANGGE_CONNECTION_TIMEOUT_MS: '3000' })
  t.teardown(() => slow.close())
  await slow.app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = slow.app.server.address() as AddressInfo
  /** Opens a socket, sends `first`, then a byte now and then; resolves how long until the server closed it and what it said. */
  const trickle = (first: string, everyMs: number): Promise<{ ms: number; said: string }> => new Promise((resolve) => {
    const t0 = performance.now()
    let said = ''
    const s = connect(port, '127.0.0.1', () => { s.write(first) })
    const iv = setInterval(() => { if (!s.destroyed) s.write('a') }, everyMs)
    s.on('data', (d) => { said += d.toString() })
    const done = (): void => { clearInterval(iv); resolve({ ms: performance.now() - t0, said }) }
    s.on('close', done)
    s.on('error', () => { /* reset by the server: also closed */ })
    setTimeout(() => { s.destroy() }, 20_000)
  })
  const [headers, body, silent] = await Promise.all([
    // Slowloris: headers that never end.
    trickle('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ', 300),
    // A body announced as 1 MB, sent a byte at a time.
    trickle('POST /api/public/guest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{', 300),
    // Says nothing at all.
    trickle('', 60_000),
  ])
  for (const [what, r] of [['endless headers', headers], ['a body a byte at a time', body], ['a silent socket', silent]] as const) {
    t.ok(r.ms < 12_000, `${what}: closed after ${Math.round(r.ms)} ms ${r.said.split('\r\n')[0]}`)
  }
  const alive = await fetch(`http://127.0.0.1:${port}/healthz`)
  t.equal(alive.status, 200, 'and the server still answers')
})

t.test('the server is still up', async (t) => {
  const r = await app.inject('/healthz')
  t.equal(r.statusCode, 200)
})
