/**
 * Vector tiles, embedded PGlite and real PostGIS side by side, in one run, on the
 * test fixture (8,423 cells, 40,007 components, 3,000 cases; tests/helpers/db.ts):
 * - uncached cell tiles at z14 and z12 (every tile of the district with cells, in a
 *   seeded order): the JavaScript renderer on both backends, the service's ST_AsMVT
 *   statement, and a plain ST_AsMVT query per tile (cells, code only, no joins) as
 *   the floor of what PostGIS can do;
 * - facility tiles at z14 and z16 the same way;
 * - cached tiles over HTTP with autocannon: a server process on the PostGIS copy,
 *   listening on 127.0.0.1, bounded duration.
 * Targets (issue 6): cached ≥ 20,000 tiles/s; uncached cell tile z14 p50 ≤ 5 ms, z12 ≤ 30 ms.
 */
import autocannon from 'autocannon'
import { spawn } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { testDatabase, type TestDatabase } from '../helpers/db.ts'
import type { Database } from '../../server/db/types.ts'
import { LAYERS, type LayerDef } from '../../server/tiles/layers.ts'
import { TileService } from '../../server/tiles/service.ts'
import type { TileRenderer } from '../../server/tiles/renderers.ts'
import { tilesCovering, type TileCoord } from '../../server/tiles/tile-math.ts'
import { createRandom } from '../../grids/random.ts'
import { PG_URL, stats } from './_pg.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const rows: string[][] = []
const fmt = (n: number): string => Math.round(n).toLocaleString('en')
const ms = (n: number): string => `${n.toFixed(2)} ms`
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' / ')
console.log(`load average at start: ${load()}`)

/** The fixture on one backend: a private copy of the test template. */
async function fixture(onPostgres: boolean): Promise<TestDatabase> {
  const saved = process.env.DATABASE_URL
  if (onPostgres) process.env.DATABASE_URL = PG_URL
  else delete process.env.DATABASE_URL
  try {
    return await testDatabase('chaoyang')
  } finally {
    if (saved === undefined) delete process.env.DATABASE_URL
    else process.env.DATABASE_URL = saved
  }
}

/** Tiles of a zoom that hold at least one row of the layer, shuffled with a fixed seed. */
async function tilesWithData(db: Database, svc: TileService, layer: LayerDef, z: number, limit: number): Promise<TileCoord[]> {
  const e = (await db.query<{ xmin: number; ymin: number; xmax: number; ymax: number }>(layer.boundsSql)).rows[0]
  const all = tilesCovering([e.xmin, e.ymin, e.xmax, e.ymax], z)
  const rand = createRandom(20260601 + z)
  for (let i = all.length - 1; i > 0; i--) {
    const j = rand.int(i + 1)
    ;[all[i], all[j]] = [all[j], all[i]]
  }
  const out: TileCoord[] = []
  for (const t of all) {
    if (out.length >= limit) break
    if ((await svc.render(layer, t, svc.js)).bytes.byteLength > 0) out.push(t)
  }
  return out
}

interface Timing { p50: number; p99: number; mean: number; bytes: number }

/** Renders every tile `rounds` times (after one warm-up pass); latency per tile. */
async function time(render: (t: TileCoord) => Promise<number>, tiles: TileCoord[], rounds: number): Promise<Timing> {
  for (const t of tiles.slice(0, 10)) await render(t)
  const lat: number[] = []
  let bytes = 0
  for (let r = 0; r < rounds; r++) {
    for (const t of tiles) {
      const t0 = performance.now()
      bytes += await render(t)
      lat.push(performance.now() - t0)
    }
  }
  const s = stats(lat)
  return { p50: s.median, p99: s.p99, mean: s.mean, bytes: bytes / lat.length }
}

/** The plain way: one ST_AsMVT over the cells with just their code, no joins, no names. */
const PLAIN_CELLS = `SELECT ST_AsMVT(t, 'cells') AS tile FROM (
  SELECT c.code::text AS code, ST_AsMVTGeom(ST_Transform(c.geom, 3857), ST_TileEnvelope($1, $2, $3)) AS geom
  FROM cells c WHERE c.geom && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 256.0 / 4096), 4326)) t WHERE t.geom IS NOT NULL`
const PLAIN_FACILITIES = `SELECT ST_AsMVT(t, 'facilities') AS tile FROM (
  SELECT f.id::text AS id, ST_AsMVTGeom(ST_Transform(f.geom, 3857), ST_TileEnvelope($1, $2, $3)) AS geom
  FROM facilities f WHERE f.geom && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 256.0 / 4096), 4326)) t WHERE t.geom IS NOT NULL`

const embeddedCopy = await fixture(false)
const pgCopy = await fixture(true)
try {
  const eSvc = new TileService({ db: embeddedCopy.db })
  const pSvc = new TileService({ db: pgCopy.db })
  const postgis = pSvc.postgis as TileRenderer
  const viaService = (svc: TileService, layer: LayerDef, r: TileRenderer) => async (t: TileCoord): Promise<number> => (await svc.render(layer, t, r)).bytes.byteLength
  const plain = (sql: string) => async (t: TileCoord): Promise<number> => {
    const r = await pgCopy.db.query<{ tile: Uint8Array | null }>(sql, [t.z, t.x, t.y])
    return r.rows[0]?.tile?.byteLength ?? 0
  }

  for (const [layer, z, limit, rounds, plainSql] of [
    [LAYERS.cells, 14, 120, 3, PLAIN_CELLS], [LAYERS.cells, 12, 25, 3, PLAIN_CELLS],
    [LAYERS.facilities, 14, 60, 3, PLAIN_FACILITIES], [LAYERS.facilities, 16, 120, 3, PLAIN_FACILITIES],
  ] as const) {
    const tiles = await tilesWithData(pgCopy.db, pSvc, layer, z, limit)
    const je = await time(viaService(eSvc, layer, eSvc.js), tiles, rounds)
    const jp = await time(viaService(pSvc, layer, pSvc.js), tiles, rounds)
    const sp = await time(viaService(pSvc, layer, postgis), tiles, rounds)
    const pl = await time(plain(plainSql), tiles, rounds)
    const target = layer.name === 'cells' ? (z === 14 ? 'target p50 ≤ 5 ms' : 'target p50 ≤ 30 ms') : ''
    rows.push([`${layer.name} z${z}, uncached, ${tiles.length} tiles × ${rounds} (avg ${fmt(sp.bytes / 1024)} KiB)`,
      `JS ${ms(je.p50)} (p99 ${ms(je.p99)})`,
      `ST_AsMVT (service) ${ms(sp.p50)} (p99 ${ms(sp.p99)}); JS on PostGIS rows ${ms(jp.p50)} (p99 ${ms(jp.p99)}); plain ST_AsMVT ${ms(pl.p50)} (p99 ${ms(pl.p99)})`,
      `${target}; load ${load()}`])
  }
  await embeddedCopy.cleanup()

  // Cached tiles over HTTP: the app on the PostGIS copy, in its own process; autocannon here.
  const dbUrl = new URL(PG_URL)
  const copyName = (await pgCopy.db.query<{ d: string }>('SELECT current_database() AS d')).rows[0].d
  dbUrl.pathname = `/${copyName}`
  const tiles = await tilesWithData(pgCopy.db, pSvc, LAYERS.cells, 14, 200)
  const paths = tiles.map((t) => `/tiles/cells/${t.z}/${t.x}/${t.y}.mvt`)
  const server = spawn(process.execPath, ['--import', 'tsx', 'tests/bench/_facility-server.ts'], {
    cwd: ROOT, env: { ...process.env, DATABASE_URL: dbUrl.toString(), LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = ''
      server.stdout.on('data', (b: Buffer) => {
        out += b.toString()
        const m = /listening (\d+)/.exec(out)
        if (m) resolve(Number(m[1]))
      })
      server.once('exit', (code) => reject(new Error(`bench server exited ${code}`)))
    })
    // Fill the cache: every path once.
    for (const p of paths) {
      const r = await fetch(`http://127.0.0.1:${port}${p}`)
      if (r.status !== 200) throw new Error(`${p}: ${r.status}`)
      await r.arrayBuffer()
    }
    let k = 0
    const run = (duration: number, connections: number): Promise<autocannon.Result> => autocannon({
      url: `http://127.0.0.1:${port}`, connections, duration, pipelining: 1,
      requests: [{ setupRequest: (req) => ({ ...req, path: paths[k++ % paths.length] }) }],
    })
    await run(3, 32)
    for (const c of [32, 128]) {
      const r = await run(10, c)
      rows.push([`HTTP GET cached cell tiles z14 (${paths.length} tiles, avg ${(r.throughput.average / Math.max(1, r.requests.average) / 1024).toFixed(1)} KiB), ${c} connections, 10 s`, '',
        `${fmt(r.requests.average)} tiles/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms; errors ${r.errors}, non-2xx ${r.non2xx}`,
        `target ≥ 20,000/s; load ${load()}`])
    }
    // Revalidation: If-None-Match with the current ETag, answered 304 without a body.
    const etags = new Map<string, string>()
    for (const p of paths) etags.set(p, (await fetch(`http://127.0.0.1:${port}${p}`)).headers.get('etag') ?? '')
    let j = 0
    const r304 = await autocannon({
      url: `http://127.0.0.1:${port}`, connections: 32, duration: 10,
      requests: [{ setupRequest: (req) => { const p = paths[j++ % paths.length]; return { ...req, path: p, headers: { 'if-none-match': etags.get(p) ?? '' } } } }],
    })
    rows.push(['HTTP revalidation, If-None-Match → 304, 32 connections, 10 s', '', `${fmt(r304.requests.average)} req/s, p50 ${r304.latency.p50} ms`,
      `status 304: ${r304['3xx'] ?? 0} of ${r304.requests.total}; load ${load()}`])
  } finally {
    server.kill('SIGTERM')
    await new Promise((r) => server.once('exit', r))
  }
} finally {
  await pgCopy.cleanup()
}

console.log('\n| measure | embedded PGlite | PostgreSQL + PostGIS | notes |\n|---|---|---|---|')
for (const r of rows) console.log(`| ${r.join(' | ')} |`)
console.log(`\nload average at end: ${load()}`)
