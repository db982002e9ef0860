/**
 * Vector tiles over HTTP on the fixture district (8,423 cells, 40,000 components,
 * 3,000 cases), on whichever backend the suite runs: the embedded database renders
 * in JavaScript, PostGIS with ST_AsMVT. Tiles must decode with the features the
 * database holds and their attributes; ETag/304; the cache must follow writes made
 * through the app, by other processes (SQL behind its back) and by the clock
 * (a case light turning red); bad parameters are 4xx; GDAL reads a tile.
 */
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { VectorTile, type VectorTileLayer } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import type { LightMyRequestResponse } from 'fastify'
import { testApp } from './helpers/app.ts'
import { backend } from './helpers/db.ts'
import { auth, testClock } from './helpers/cases.ts'
import { tileAt, tileBounds, EXTENT, type TileCoord } from '../server/tiles/tile-math.ts'
import { tileProjection } from '../server/tiles/geometry.ts'

const ctx = await testApp('chaoyang')
const { app, db } = ctx
t.teardown(() => ctx.close())

const url = (layer: string, c: TileCoord): string => `/tiles/${layer}/${c.z}/${c.x}/${c.y}.mvt`
const get = (u: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> => app.inject({ method: 'GET', url: u, headers })

function decode(res: LightMyRequestResponse, layer: string): VectorTileLayer {
  const vt = new VectorTile(new PbfReader(res.rawPayload))
  const l = vt.layers[layer]
  if (!l) throw new Error(`no layer ${layer} in the tile (layers: ${Object.keys(vt.layers).join(', ')})`)
  return l
}

function features(l: VectorTileLayer): { id: number | undefined; type: number; properties: Record<string, unknown>; geometry: { x: number; y: number }[][] }[] {
  const out = []
  for (let i = 0; i < l.length; i++) {
    const f = l.feature(i)
    out.push({ id: f.id, type: f.type, properties: f.properties, geometry: f.loadGeometry().map((r) => r.map((p) => ({ x: p.x, y: p.y }))) })
  }
  return out
}

/** Rows of `sql` whose geometry meets the tile (margin in tile units), by ST_TileEnvelope on the backend itself. */
const TILE_ENV = (margin: number): string => `ST_Transform(ST_TileEnvelope($1::int, $2::int, $3::int, margin => ${margin / EXTENT}), 4326)`

const ringArea = (r: { x: number; y: number }[]): number => {
  let s = 0
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) s += r[j].x * r[i].y - r[i].x * r[j].y
  return s / 2
}

function inside(p: { x: number; y: number }, ring: { x: number; y: number }[]): boolean {
  let c = false
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    if ((ring[i].y > p.y) !== (ring[j].y > p.y) && p.x < ((ring[j].x - ring[i].x) * (p.y - ring[i].y)) / (ring[j].y - ring[i].y) + ring[i].x) c = !c
  }
  return c
}

// 建外/朝外, the dense core: a z14 tile in the middle of the district's busiest cells.
const CORE = tileAt(116.46, 39.93, 14)

t.test('a cell tile holds every cell that meets it, with its codes and names, where the cell is', async (t) => {
  const res = await get(url('cells', CORE))
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/vnd.mapbox-vector-tile')
  const l = decode(res, 'cells')
  t.equal(l.extent, 4096)
  t.equal(l.version, 2)
  const fs = features(l)
  const meets = (await db.query<{ code: string }>(`SELECT code::text AS code FROM cells WHERE ST_Intersects(geom, ${TILE_ENV(0)})`, [CORE.z, CORE.x, CORE.y])).rows.map((r) => r.code)
  const near = new Set((await db.query<{ code: string }>(`SELECT code::text AS code FROM cells WHERE ST_Intersects(geom, ${TILE_ENV(129)})`, [CORE.z, CORE.x, CORE.y])).rows.map((r) => r.code))
  t.ok(meets.length > 50, `${meets.length} cells meet the tile`)
  const codes = new Set(fs.map((f) => String(f.properties.code)))
  t.same(meets.filter((c) => !codes.has(c)), [], 'every cell meeting the tile is in it')
  t.same([...codes].filter((c) => !near.has(c)), [], 'nothing farther than the buffer is')
  t.equal(codes.size, fs.length, 'each cell once')

  const rows = new Map((await db.query<{ code: string; community: string; community_name: string; subdistrict: string; subdistrict_name: string; area_units: number; lon: number; lat: number; whole: boolean }>(
    `SELECT c.code::text AS code, c.community_code::text AS community, m.name AS community_name, c.subdistrict_code::text AS subdistrict, s.name AS subdistrict_name,
       ST_Area(ST_Transform(c.geom, 3857)) AS area_units, ST_X(ST_PointOnSurface(c.geom)) AS lon, ST_Y(ST_PointOnSurface(c.geom)) AS lat,
       ST_Within(c.geom, ${TILE_ENV(0)}) AS whole
     FROM cells c JOIN communities m ON m.code = c.community_code JOIN subdistricts s ON s.code = c.subdistrict_code
     WHERE c.code = ANY($4::text[])`, [CORE.z, CORE.x, CORE.y, [...codes]])).rows.map((r) => [r.code, r]))
  const [xmin, , xmax] = tileBounds(CORE)
  const unit2 = ((xmax - xmin) / EXTENT) ** 2
  const proj = tileProjection(CORE)
  let whole = 0
  for (const f of fs) {
    const r = rows.get(String(f.properties.code))
    if (!r) { t.fail(`unknown cell ${String(f.properties.code)}`); continue }
    t.same(f.properties, { code: r.code, community: r.community, community_name: r.community_name, subdistrict: r.subdistrict, subdistrict_name: r.subdistrict_name },
      `cell ${r.code}: attributes (no score without a provider)`)
    t.equal(f.id, Number(r.code), 'feature id is the numeric cell code')
    t.equal(f.type, 3, 'polygon')
    if (!r.whole) continue
    whole++
    const area = f.geometry.reduce((s, ring) => s + ringArea(ring), 0)
    t.ok(ringArea(f.geometry[0]) > 0, 'exterior ring clockwise on screen (positive area, y down)')
    t.ok(Math.abs(area * unit2 - r.area_units) / r.area_units < 0.02, `cell ${r.code}: area within 2 % (${(area * unit2).toFixed(0)} vs ${r.area_units.toFixed(0)} m² Mercator)`)
    t.ok(inside({ x: proj.x(r.lon), y: proj.y(r.lat) }, f.geometry[0]), `cell ${r.code}: its point on surface is inside its tile polygon`)
  }
  t.ok(whole > 20, `${whole} cells wholly inside checked for shape`)
})

t.test('a facility tile holds the components of the tile with id, subclass, owner and status, each within a unit of its place', async (t) => {
  const c = tileAt(116.46, 39.93, 16)
  const res = await get(url('facilities', c))
  t.equal(res.statusCode, 200)
  const fs = features(decode(res, 'facilities'))
  const rows = (await db.query<{ id: string; subclass: string; owner: string; status: string; kind: string; lon: number | null; lat: number | null }>(
    `SELECT id::text AS id, subclass::text AS subclass, owner::text AS owner, status, GeometryType(geom) AS kind,
       CASE WHEN GeometryType(geom) = 'POINT' THEN ST_X(geom) END AS lon, CASE WHEN GeometryType(geom) = 'POINT' THEN ST_Y(geom) END AS lat
     FROM facilities WHERE ST_Intersects(geom, ${TILE_ENV(0)})`, [c.z, c.x, c.y])).rows
  t.ok(rows.length >= 10, `${rows.length} components in the z16 tile`)
  const byId = new Map(fs.map((f) => [String(f.properties.id), f]))
  const proj = tileProjection(c)
  for (const r of rows) {
    const f = byId.get(r.id)
    if (!f) { t.fail(`component ${r.id} missing from its tile`); continue }
    t.same(f.properties, { id: r.id, subclass: r.subclass, owner: r.owner, status: r.status })
    t.equal(f.id, undefined, '17-digit ids do not fit a feature id; they are the id attribute')
    t.equal(f.type, r.kind === 'POINT' ? 1 : r.kind === 'LINESTRING' ? 2 : 3)
    if (r.lon !== null && r.lat !== null) {
      const p = f.geometry[0][0]
      t.ok(Math.abs(p.x - proj.x(r.lon)) <= 0.5 && Math.abs(p.y - proj.y(r.lat)) <= 0.5, `component ${r.id} at its place`)
    }
  }
  const z13 = await get(url('facilities', tileAt(116.46, 39.93, 13)))
  t.equal(z13.statusCode, 400, 'facilities start at z14')
  t.match(z13.json(), { error: { code: 'zoom_out_of_range', details: { field: 'params.z', minzoom: 14 } } })
})

t.test('case tiles: open cases with matter, status and light, for the roles that see every case', async (t) => {
  const open = (await db.query<{ id: number; lon: number; lat: number; warn: Date; due: Date }>(
    `SELECT id::int AS id, ST_X(geom) AS lon, ST_Y(geom) AS lat, warn_at AS warn, due_at AS due FROM cases
     WHERE is_open AND warn_at IS NOT NULL AND due_at IS NOT NULL ORDER BY id LIMIT 1`)).rows[0]
  t.ok(open, 'the fixture has an open case with a running clock')
  // An hour before its warning time: green.
  const clock = testClock(app, new Date(new Date(open.warn).getTime() - 3_600_000))
  t.teardown(() => app.cases.setClock(() => new Date()))
  const c = tileAt(open.lon, open.lat, 12)
  t.equal((await get(url('cases', c))).statusCode, 401, 'no token: 401')
  t.equal((await get(url('cases', c), auth('resident'))).statusCode, 403, 'a resident: 403')
  t.equal((await get(url('cases', c), auth('power'))).statusCode, 403, 'a handler (sees only its own): 403')
  t.equal((await get('/tiles/cases.json')).statusCode, 401, 'TileJSON of cases needs the same')

  // Cases in the tile or its buffer (128 units and the half unit ST_AsMVTGeom keeps).
  const expected = async (): Promise<Map<number, Record<string, unknown>>> => new Map((await db.query<{ id: number; matter: string; status: string; warn: Date | null; due: Date | null }>(
    `SELECT id::int AS id, matter_code AS matter, status, warn_at AS warn, due_at AS due FROM cases WHERE is_open AND ST_Intersects(geom, ${TILE_ENV(128.5)})`,
    [c.z, c.x, c.y])).rows.map((r) => {
    const now = clock.now.getTime()
    const light = r.due === null ? undefined : r.warn !== null && now < new Date(r.warn).getTime() ? 'green' : now <= new Date(r.due).getTime() ? 'yellow' : 'red'
    return [r.id, { id: r.id, matter: r.matter, status: r.status, ...(light ? { light } : {}) }]
  }))

  const res = await get(url('cases', c), auth('leader'))
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'private, no-cache')
  t.match(res.headers.vary, /Authorization/)
  const fs = features(decode(res, 'cases'))
  const want = await expected()
  const inTile = (await db.query<{ id: number }>(`SELECT id::int AS id FROM cases WHERE is_open AND ST_Intersects(geom, ${TILE_ENV(0)})`, [c.z, c.x, c.y])).rows.map((r) => r.id)
  t.ok(inTile.length >= 3, `${inTile.length} open cases in the tile`)
  t.same(inTile.filter((id) => !fs.some((f) => f.properties.id === id)), [], 'every open case of the tile is on it')
  t.equal(fs.length, want.size, `${want.size} open cases in the tile and its buffer`)
  for (const f of fs) {
    t.same(f.properties, want.get(Number(f.properties.id)), `case ${String(f.properties.id)}`)
    t.equal(f.id, Number(f.properties.id), 'feature id is the case id')
    t.equal(f.type, 1)
  }
  t.equal((await get(url('cases', c), auth('dispatcher'))).statusCode, 200, 'a dispatcher sees them too')

  t.equal(fs.find((f) => f.properties.id === open.id)?.properties.light, 'green', 'before warn_at: green')
  // No write at all: the clock passes the case's deadline, and its light must turn red.
  clock.set(new Date(new Date(open.due).getTime() + 60_000))
  const later = features(decode(await get(url('cases', c), auth('leader')), 'cases'))
  t.equal(later.find((f) => f.properties.id === open.id)?.properties.light, 'red', 'past due_at the cached tile is rebuilt: red')
  const want2 = await expected()
  for (const f of later) t.same(f.properties, want2.get(Number(f.properties.id)))
})

t.test('ETag and 304, Cache-Control, 204 for an empty tile', async (t) => {
  const u = url('cells', CORE)
  const a = await get(u)
  const etag = a.headers.etag as string
  t.match(etag, /^"cells-[A-Za-z0-9_-]+"$/)
  t.equal(a.headers['cache-control'], 'public, no-cache')
  const b = await get(u)
  t.equal(b.headers.etag, etag, 'same tile, same ETag')
  t.same(b.rawPayload, a.rawPayload)
  const nm = await get(u, { 'if-none-match': etag })
  t.equal(nm.statusCode, 304)
  t.equal(nm.rawPayload.length, 0, '304 has no body')
  t.equal(nm.headers.etag, etag)
  t.equal((await get(u, { 'if-none-match': `"x", W/${etag}` })).statusCode, 304, 'a weak or listed match counts')
  t.equal((await get(u, { 'if-none-match': '"cells-other"' })).statusCode, 200, 'another ETag: the tile')
  const head = await app.inject({ method: 'HEAD', url: u })
  t.equal(head.statusCode, 200)
  t.equal(head.headers.etag, etag)

  // Over the sea east of Japan: inside the range, no data.
  const empty = await get(url('cells', tileAt(150, 30, 12)))
  t.equal(empty.statusCode, 204, 'no feature: 204 No Content')
  t.equal(empty.rawPayload.length, 0)
  t.ok(empty.headers.etag, 'an empty tile has an ETag too')
  t.equal((await get(url('cells', tileAt(150, 30, 12)), { 'if-none-match': empty.headers.etag as string })).statusCode, 304)
})

t.test('the cache follows the data: writes through the app at once, writes behind its back within the TTL, grid changes at once', async (t) => {
  // 1. A case reported through the API shows on the next tile.
  const spot = (await db.query<{ lon: number; lat: number }>(
    `SELECT ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat FROM cells
     WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.is_open AND ST_DWithin(c.geom::geography, ST_PointOnSurface(cells.geom)::geography, 300))
     ORDER BY code LIMIT 1`)).rows[0]
  const c = tileAt(spot.lon, spot.lat, 14)
  const before = await get(url('cases', c), auth('leader'))
  const ids = (r: LightMyRequestResponse): number[] => (r.statusCode === 204 ? [] : features(decode(r, 'cases')).map((f) => Number(f.properties.id)))
  const intake = await app.inject({
    method: 'POST', url: '/api/cases', headers: auth('supervisor'),
    payload: { matter: '11010506012', description: '暴露垃圾（瓦片测试）', point: { lon: spot.lon, lat: spot.lat } },
  })
  t.equal(intake.statusCode, 201, intake.body)
  const newId = (intake.json() as { case: { id: number } }).case.id
  const after = await get(url('cases', c), auth('leader'))
  t.equal(after.statusCode, 200)
  t.ok(ids(after).includes(newId), 'the new case is on the next tile')
  t.notOk(ids(before).includes(newId))
  t.not(after.headers.etag, before.headers.etag, 'and the ETag changed')
  t.equal((await get(url('cases', c), { ...auth('leader'), 'if-none-match': before.headers.etag as string })).statusCode, 200, 'the old ETag no longer gets a 304')

  // 2. Another process (SQL, not the app) changes a component: the trigger bumps the version; the app sees it after its TTL.
  const fc = tileAt(116.46, 39.93, 16)
  const first = features(decode(await get(url('facilities', fc)), 'facilities'))
  const target = first.find((f) => f.properties.status === 'intact')
  t.ok(target, 'an intact component in the tile')
  if (!target) return
  const v0 = (await db.query<{ v: number }>("SELECT (version + (SELECT count(*) FROM tile_changes WHERE name = 'facilities'))::float8 AS v FROM tile_sources WHERE name = 'facilities'")).rows[0].v
  await db.query("UPDATE facilities SET status = 'missing' WHERE id = $1", [target.properties.id])
  const v1 = (await db.query<{ v: number }>("SELECT (version + (SELECT count(*) FROM tile_changes WHERE name = 'facilities'))::float8 AS v FROM tile_sources WHERE name = 'facilities'")).rows[0].v
  t.equal(v1, v0 + 1, 'the statement trigger bumped the facilities version')
  await new Promise((r) => setTimeout(r, 1100))
  const second = features(decode(await get(url('facilities', fc)), 'facilities'))
  t.equal(second.find((f) => f.properties.id === target.properties.id)?.properties.status, 'missing', 'after the TTL the tile shows the change')

  // 3. A community renamed behind the app's back, then a grid change announced: cells tiles (built from communities too) follow at once.
  const cell = features(decode(await get(url('cells', CORE)), 'cells'))[0]
  const community = String(cell.properties.community)
  await db.query("UPDATE communities SET name = name || '（改）' WHERE code = $1", [community])
  await app.gridChanged()
  const renamed = features(decode(await get(url('cells', CORE)), 'cells')).find((f) => f.properties.code === cell.properties.code)
  t.equal(renamed?.properties.community_name, `${String(cell.properties.community_name)}（改）`, 'the new community name, without waiting')
})

t.test('cell scores: the analysis hook adds score and grade, and removing it takes them away', async (t) => {
  const asked: string[][] = []
  app.tiles.setCellScores((codes) => {
    asked.push([...codes])
    return new Map(codes.filter((c) => Number(c.slice(-1)) % 2 === 0).map((c) => [c, { score: 60 + (Number(c.slice(-3)) % 40) + 0.5, grade: 'C' }]))
  })
  t.teardown(() => app.tiles.setCellScores(null))
  const res = await get(url('cells', CORE))
  const fs = features(decode(res, 'cells'))
  t.equal(asked.length, 1, 'one call per uncached tile')
  t.same(new Set(asked[0]), new Set(fs.map((f) => String(f.properties.code))), 'asked for the cells of the tile')
  let scored = 0
  for (const f of fs) {
    const code = String(f.properties.code)
    if (Number(code.slice(-1)) % 2 === 0) {
      scored++
      t.equal(f.properties.score, 60 + (Number(code.slice(-3)) % 40) + 0.5)
      t.equal(f.properties.grade, 'C')
    } else {
      t.notOk('score' in f.properties, 'a cell without a score has no score attribute')
    }
  }
  t.ok(scored > 0)
  await get(url('cells', CORE))
  t.equal(asked.length, 1, 'cached: not asked again')
  const tj = (await get('/tiles/cells.json')).json() as { vector_layers: { fields: Record<string, string> }[] }
  t.equal(tj.vector_layers[0].fields.score, 'Number')
  t.equal(tj.vector_layers[0].fields.grade, 'String')
  app.tiles.setCellScores(null)
  const plain = features(decode(await get(url('cells', CORE)), 'cells'))
  t.notOk(plain.some((f) => 'score' in f.properties), 'provider removed: no scores')
})

t.test('TileJSON per layer and the list of layers', async (t) => {
  for (const layer of ['cells', 'facilities', 'subdistricts', 'communities']) {
    const res = await get(`/tiles/${layer}.json`)
    t.equal(res.statusCode, 200)
    const tj = res.json() as { tilejson: string; tiles: string[]; minzoom: number; maxzoom: number; bounds: number[]; center: number[]; vector_layers: { id: string; fields: Record<string, string> }[] }
    t.equal(tj.tilejson, '3.0.0')
    t.match(tj.tiles[0], new RegExp(`^http://[^/]+/tiles/${layer}/\\{z\\}/\\{x\\}/\\{y\\}\\.mvt$`))
    t.ok(tj.minzoom <= tj.maxzoom)
    const [w, s, e, n] = tj.bounds
    t.ok(w > 116.2 && e < 116.8 && s > 39.7 && n < 40.2 && w < e && s < n, `${layer}: bounds around the district ${tj.bounds.join(',')}`)
    t.equal(tj.vector_layers[0].id, layer)
    t.ok(Object.keys(tj.vector_layers[0].fields).length >= 2)
  }
  const cases = (await get('/tiles/cases.json', auth('leader'))).json() as { vector_layers: { fields: Record<string, string> }[] }
  t.same(Object.keys(cases.vector_layers[0].fields), ['id', 'matter', 'status', 'light'])
  const list = (await get('/tiles')).json() as { layers: { name: string }[]; renderer: string }
  t.same(list.layers.map((l) => l.name), ['cells', 'facilities', 'cases', 'subdistricts', 'communities'])
  t.equal(list.renderer, backend === 'postgres' ? 'postgis' : 'js')
})

t.test('outline layers: subdistricts and communities', async (t) => {
  const c = tileAt(116.46, 39.93, 10)
  const subs = features(decode(await get(url('subdistricts', c)), 'subdistricts'))
  const meets = async (margin: number): Promise<string[]> =>
    (await db.query<{ code: string }>(`SELECT code::text AS code FROM subdistricts WHERE ST_Intersects(geom, ${TILE_ENV(margin)})`, [c.z, c.x, c.y])).rows.map((r) => r.code)
  const codes = subs.map((f) => String(f.properties.code))
  const inTile = await meets(0)
  t.ok(inTile.length > 20, `${inTile.length} subdistricts meet the z10 tile`)
  t.same(inTile.filter((x) => !codes.includes(x)), [], 'every subdistrict meeting the tile is on it')
  const near = await meets(129)
  t.same(codes.filter((x) => !near.includes(x)), [], 'and none beyond its buffer')
  t.ok(subs.every((f) => /^[0-9]{9}$/.test(String(f.properties.code)) && typeof f.properties.name === 'string' && f.id === Number(f.properties.code)))
  const comm = features(decode(await get(url('communities', CORE)), 'communities'))
  t.ok(comm.length > 3 && comm.every((f) => String(f.properties.code).startsWith(String(f.properties.subdistrict))))
})

t.test('bad parameters are 4xx with the field, never 500', async (t) => {
  const bad: [string, number, string, string][] = [
    ['/tiles/roads/14/1/1.mvt', 404, 'unknown_layer', 'params.layer'],
    ['/tiles/roads.json', 404, 'unknown_layer', 'params.layer'],
    ['/tiles/cells/10/1/1.mvt', 400, 'zoom_out_of_range', 'params.z'],
    ['/tiles/cells/19/1/1.mvt', 400, 'zoom_out_of_range', 'params.z'],
    ['/tiles/cells/99999999999/1/1.mvt', 400, 'invalid_tile_coordinate', 'params.z'],
    ['/tiles/cells/abc/1/1.mvt', 400, 'invalid_tile_coordinate', 'params.z'],
    ['/tiles/cells/14/-1/1.mvt', 400, 'invalid_tile_coordinate', 'params.x'],
    ['/tiles/cells/14/1.5/1.mvt', 400, 'invalid_tile_coordinate', 'params.x'],
    ['/tiles/cells/14/16384/1.mvt', 400, 'tile_out_of_range', 'params.x'],
    ['/tiles/cells/14/1/16384.mvt', 400, 'tile_out_of_range', 'params.y'],
    ['/tiles/cells/14/1/0x10.mvt', 400, 'invalid_tile_coordinate', 'params.y'],
    ['/tiles/cells/14/1/%20.mvt', 400, 'invalid_tile_coordinate', 'params.y'],
    ['/tiles/cells/14/1/.mvt', 400, 'invalid_tile_coordinate', 'params.y'],
    ['/tiles/facilities/12/3372/1552.mvt', 400, 'zoom_out_of_range', 'params.z'],
  ]
  for (const [u, status, code, field] of bad) {
    const res = await get(u)
    t.equal(res.statusCode, status, `${u} → ${status}`)
    t.match(res.json(), { error: { code, message: String, details: { field } } }, `${u}: ${res.body}`)
  }
  t.equal((await get('/tiles/cells/14/1/1.png')).statusCode, 404, 'another extension: no such route')
})

const noOgr = spawnSync('ogrinfo', ['--version']).error
  ? 'ogrinfo is not installed (apt-get install gdal-bin; CI installs it): GDAL cannot be asked to read a tile here' : false
t.test('GDAL reads a tile (ogrinfo, MVT driver)', { skip: noOgr }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wangge-tiles-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const res = await get(url('cells', CORE))
  const n = decode(res, 'cells').length
  // z/x/y in the path: the driver georeferences the tile in EPSG:3857.
  mkdirSync(join(dir, String(CORE.z), String(CORE.x)), { recursive: true })
  const file = join(dir, String(CORE.z), String(CORE.x), `${CORE.y}.pbf`)
  writeFileSync(file, res.rawPayload)
  const info = execFileSync('ogrinfo', ['-ro', '-al', '-so', file], { encoding: 'utf8' })
  t.match(info, /Layer name: cells/)
  t.match(info, new RegExp(`Feature Count: ${n}\\b`))
  t.match(info, /Geometry: (Multi)?Polygon/)
  t.match(info, /code: String/)
  t.match(info, /subdistrict_name: String/)
  t.match(info, /ID\["EPSG",3857\]\]/)
  const m = /Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)/.exec(info)
  t.ok(m, 'an extent')
  if (!m) return
  const [xmin, ymin, xmax, ymax] = tileBounds(CORE)
  t.ok(Number(m[1]) >= xmin - 1 && Number(m[3]) <= xmax + 1 && Number(m[2]) >= ymin - 1 && Number(m[4]) <= ymax + 1, `GDAL places it on the tile: ${m[0]}`)
  const one = execFileSync('ogrinfo', ['-ro', '-al', '-q', '-where', `code = '${String(decode(res, 'cells').feature(0).properties.code)}'`, file], { encoding: 'utf8' })
  t.match(one, /community_name \(String\) = \S+/)
})

t.test('the OpenAPI document lists the tile routes with their binary media type', async (t) => {
  const doc = (await get('/docs/json')).json() as { paths: Record<string, { get?: { responses?: Record<string, { content?: Record<string, unknown> }> } }> }
  const tile = doc.paths['/tiles/{layer}/{z}/{x}/{y}.mvt']?.get
  t.ok(tile, 'the tile route is documented')
  t.ok(tile?.responses?.['200']?.content?.['application/vnd.mapbox-vector-tile'], '200 is a vector tile')
  t.ok(tile?.responses?.['204'] && tile.responses['304'] && tile.responses['400'] && tile.responses['404'])
  t.ok(doc.paths['/tiles/{layer}.json']?.get, 'TileJSON is documented')
})

t.test('writers of one table do not queue on a counter row, and folding keeps the version', async (t) => {
  const version = async (): Promise<number> => (await db.query<{ v: number }>(
    "SELECT (version + (SELECT count(*) FROM tile_changes WHERE name = 'cases'))::float8 AS v FROM tile_sources WHERE name = 'cases'")).rows[0].v
  if (db.kind === 'postgres') {
    // Two open transactions both write cases: with a counter row the second would wait for the first to commit.
    const ids = (await db.query<{ id: number }>('SELECT id::int AS id FROM cases ORDER BY id LIMIT 2')).rows.map((r) => r.id)
    const v0 = await version()
    let release: () => void = () => {}
    const held = new Promise<void>((r) => { release = r })
    const first = db.transaction(async (tx) => {
      await tx.query('UPDATE cases SET updated_at = updated_at WHERE id = $1', [ids[0]])
      await held
    })
    const second = db.transaction(async (tx) => {
      await tx.query("SET LOCAL lock_timeout = '2s'")
      await tx.query('UPDATE cases SET updated_at = updated_at WHERE id = $1', [ids[1]])
    })
    await t.resolves(second, 'the second writer committed while the first still held its transaction open')
    release()
    await first
    t.equal(await version(), v0 + 2, 'each committed write statement moved the version by one')
  }
  const before = await version()
  await db.query(`WITH d AS (DELETE FROM tile_changes RETURNING name), n AS (SELECT name, count(*) AS n FROM d GROUP BY name)
    UPDATE tile_sources s SET version = s.version + n.n FROM n WHERE s.name = n.name`)
  t.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM tile_changes')).rows[0].n, 0, 'folded')
  t.equal(await version(), before, 'folding leaves the version where it was')
})
