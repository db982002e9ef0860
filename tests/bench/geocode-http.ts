/**
 * Geocoding over HTTP and against PostGIS, in one run:
 * - single lookups: GET /api/geocode with autocannon (loopback, bounded time);
 * - batch: 1,000,000 points through POST /api/geocode/batch as NDJSON, end to end;
 * - the plain PostGIS way: one ST_Covers query per point, and one unnest batch join,
 *   on a real PostGIS holding the same grid.
 */
import autocannon from 'autocannon'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { buildApp } from '../../server/app.ts'
import { loadConfig } from '../../server/config.ts'
import { openDatabase } from '../../server/db/index.ts'
import { validateAndImport } from '../../server/repositories/grid-import.ts'
import { chaoyangGridText } from '../../fixtures/load.ts'
import { createRandom } from '../../grids/random.ts'
import { testDatabase } from '../helpers/db.ts'
import { scratchDatabase, stats } from './_pg.ts'

const rnd = createRandom(7)
/** Seeded points over the district's bounding box (≈ 70 % fall inside the district). */
function points(n: number): Float64Array {
  const a = new Float64Array(n * 2)
  for (let i = 0; i < n; i++) {
    a[2 * i] = 116.35 + rnd.next() * 0.3
    a[2 * i + 1] = 39.8 + rnd.next() * 0.27
  }
  return a
}

const { db, cleanup } = await testDatabase('chaoyang')
const app = await buildApp({ config: loadConfig({ WANGGE_SEED_FIXTURE: 'false' }), db })
await app.listen({ host: '127.0.0.1', port: 0 })
const port = (app.server.address() as AddressInfo).port
const rows: string[][] = []

// In-process, for reference: the same index the routes use.
{
  const snap = app.geocoder.current()
  if (!snap) throw new Error('no index')
  const pts = points(1_000_000)
  snap.index.locateMany(pts)
  const t0 = performance.now()
  snap.index.locateMany(pts)
  const s = (performance.now() - t0) / 1000
  rows.push(['in-process locateMany, 1,000,000 points', `${Math.round(1e6 / s).toLocaleString('en')} points/s`, '', ''])
}

// Single lookups over HTTP.
{
  const pts = points(10_000)
  const paths = Array.from({ length: 10_000 }, (_, i) => `/api/geocode?lon=${pts[2 * i].toFixed(6)}&lat=${pts[2 * i + 1].toFixed(6)}`)
  let k = 0
  const run = (duration: number) => autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 16,
    duration,
    requests: [{ setupRequest: (req) => ({ ...req, path: paths[k++ % paths.length] }) }],
  })
  await run(2)
  const r = await run(10)
  const non2xx = r.non2xx - Object.entries(r.statusCodeStats ?? {}).filter(([c]) => c === '422').reduce((a, [, v]) => a + (v as { count: number }).count, 0)
  rows.push(['HTTP GET /api/geocode, 16 connections, 10 s',
    `${Math.round(r.requests.average).toLocaleString('en')} req/s`, `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`,
    `errors ${r.errors}, non-2xx/422 ${non2xx}`])
}

// A million points through the batch endpoint.
{
  const n = 1_000_000
  const pts = points(n)
  const parts: string[] = []
  for (let i = 0; i < n; i++) parts.push(`{"id":${i},"lon":${pts[2 * i].toFixed(6)},"lat":${pts[2 * i + 1].toFixed(6)}}\n`)
  const body = Buffer.from(parts.join(''))
  const t0 = performance.now()
  const lines = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/geocode/batch', headers: { 'content-type': 'application/x-ndjson' } }, (res) => {
      let count = 0
      res.on('data', (b: Buffer) => { for (let i = 0; i < b.length; i++) if (b[i] === 10) count++ })
      res.on('end', () => resolve(count))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
  const s = (performance.now() - t0) / 1000
  if (lines !== n) throw new Error(`batch answered ${lines} lines for ${n} rows`)
  rows.push([`POST /api/geocode/batch, ${n.toLocaleString('en')} points NDJSON (${(body.length / 1e6).toFixed(0)} MB)`, `${s.toFixed(2)} s end to end`, `${Math.round(n / s).toLocaleString('en')} points/s`, ''])
}
await app.close()
await cleanup()

// The plain PostGIS way, on a real server holding the same grid.
{
  const scratch = await scratchDatabase()
  const pg = await openDatabase({ databaseUrl: scratch.url })
  try {
    await validateAndImport(pg, JSON.parse(await chaoyangGridText()), 'bench')
    const covering = 'SELECT code FROM cells WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY code LIMIT 1'
    const pts = points(20_000)
    const lat: number[] = []
    let t0 = performance.now()
    for (let i = 0; i < 5_000; i++) {
      const t = performance.now()
      await pg.query(covering, [pts[2 * i], pts[2 * i + 1]])
      lat.push(performance.now() - t)
    }
    let s = (performance.now() - t0) / 1000
    const st = stats(lat)
    rows.push(['PostGIS: one ST_Covers query per point, sequential', `${Math.round(5000 / s).toLocaleString('en')} points/s`, `p50 ${st.median.toFixed(2)} ms, p99 ${st.p99.toFixed(2)} ms`, ''])
    t0 = performance.now()
    let next = 0
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < 20_000) { const i = next++; await pg.query(covering, [pts[2 * i], pts[2 * i + 1]]) }
    }))
    s = (performance.now() - t0) / 1000
    rows.push(['PostGIS: one query per point, 8 connections', `${Math.round(20_000 / s).toLocaleString('en')} points/s`, '', ''])
    const big = points(100_000)
    const xs = Array.from({ length: 100_000 }, (_, i) => big[2 * i])
    const ys = Array.from({ length: 100_000 }, (_, i) => big[2 * i + 1])
    t0 = performance.now()
    await pg.query(`SELECT u.i, (SELECT code FROM cells c WHERE ST_Covers(c.geom, ST_SetSRID(ST_MakePoint(u.x, u.y), 4326)) ORDER BY code LIMIT 1)
      FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS u(x, y, i)`, [xs, ys])
    s = (performance.now() - t0) / 1000
    rows.push(['PostGIS: unnest batch join, 100,000 points', `${Math.round(100_000 / s).toLocaleString('en')} points/s`, `${s.toFixed(2)} s`, ''])
  } finally {
    await pg.close()
    await scratch.drop()
  }
}

console.log('\n| measure | rate | latency / time | notes |\n|---|---|---|---|')
for (const r of rows) console.log(`| ${r.join(' | ')} |`)
