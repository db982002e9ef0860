/**
 * The JavaScript renderer against ST_AsMVT, on a real PostGIS (the embedded one
 * has no ST_AsMVT): the same tiles from both, decoded, must hold the same layers,
 * the same features with the same ids and attributes, and geometry within a tile
 * unit of each other (ST_AsMVTGeom repairs polygons with wagyu, the JS path clips
 * with Sutherland–Hodgman: vertices may differ by the snapping, not the shapes).
 */
import t, { type Test } from 'tap'
import { VectorTile, type VectorTileFeature } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { testApp } from './helpers/app.ts'
import { backend } from './helpers/db.ts'
import { LAYERS, type LayerName } from '../server/tiles/layers.ts'
import { tileAt, type TileCoord } from '../server/tiles/tile-math.ts'

if (backend !== 'postgres') {
  t.comment('ST_AsMVT needs a real PostGIS (the embedded one is built without protobuf): run with DATABASE_URL to compare the two renderers')
  t.pass('skipped on the embedded database: nothing to compare against')
} else {
  const ctx = await testApp('chaoyang')
  const { app, db } = ctx
  t.teardown(() => ctx.close())
  const maybe = app.tiles.postgis
  if (!maybe) throw new Error('on PostgreSQL the service must have the ST_AsMVT renderer')
  const postgis = maybe

  type P = { x: number; y: number }
  interface Decoded { key: string; id: number | undefined; type: number; properties: Record<string, unknown>; parts: P[][] }

  function decode(bytes: Uint8Array, layer: string): { extent: number; features: Map<string, Decoded>; layers: string[] } {
    const vt = new VectorTile(new PbfReader(bytes))
    const l = vt.layers[layer]
    const features = new Map<string, Decoded>()
    if (l) {
      for (let i = 0; i < l.length; i++) {
        const f: VectorTileFeature = l.feature(i)
        const key = String(f.properties.code ?? f.properties.id)
        features.set(key, { key, id: f.id, type: f.type, properties: f.properties, parts: f.loadGeometry().map((r) => r.map((p) => ({ x: p.x, y: p.y }))) })
      }
    }
    return { extent: l?.extent ?? 4096, features, layers: Object.keys(vt.layers) }
  }

  function segDist(p: P, a: P, b: P): number {
    const dx = b.x - a.x, dy = b.y - a.y
    let tt = dx || dy ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / (dx * dx + dy * dy) : 0
    tt = Math.max(0, Math.min(1, tt))
    return Math.hypot(p.x - (a.x + dx * tt), p.y - (a.y + dy * tt))
  }

  /** Farthest any vertex of `a` lies from the lines (or points) of `b`. */
  function farthest(a: Decoded, b: Decoded): number {
    let worst = 0
    for (const part of a.parts) {
      for (const p of part) {
        let best = Infinity
        for (const q of b.parts) {
          if (q.length === 1) best = Math.min(best, Math.hypot(p.x - q[0].x, p.y - q[0].y))
          for (let i = 0; i + 1 < q.length; i++) best = Math.min(best, segDist(p, q[i], q[i + 1]))
          if (a.type === 1) for (const r of q) best = Math.min(best, Math.hypot(p.x - r.x, p.y - r.y))
        }
        worst = Math.max(worst, best)
      }
    }
    return worst
  }

  /** A pixel of a 512-pixel rendering of a 4096-unit tile. */
  const PIXEL = 8
  /** b's properties in a's key order (ST_AsMVT and the JS writer may list keys differently). */
  const sortKeys = (b: Record<string, unknown>, a: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries([...Object.keys(a).filter((k) => k in b), ...Object.keys(b).filter((k) => !(k in a))].map((k) => [k, b[k]]))

  const area = (parts: P[][]): number => parts.reduce((s, r) => {
    let a = 0
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) a += r[j].x * r[i].y - r[i].x * r[j].y
    return s + a / 2
  }, 0)

  // Where the district is dense, sparse, and at its edges; each layer at low and high zooms.
  const places: [number, number][] = [[116.46, 39.93], [116.58, 40.02], [116.35, 39.83], [116.5, 39.98]]
  const cases: [LayerName, number][] = [
    ['cells', 11], ['cells', 12], ['cells', 14], ['cells', 17],
    ['facilities', 14], ['facilities', 16], ['facilities', 18],
    ['subdistricts', 8], ['subdistricts', 10], ['subdistricts', 13],
    ['communities', 11], ['communities', 14],
  ]
  // The open cases' own tiles, so the case layer is compared where it has features.
  const openCases = (await db.query<{ lon: number; lat: number }>('SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM cases WHERE is_open ORDER BY id LIMIT 3')).rows

  async function compare(t: Test, layer: LayerName, c: TileCoord): Promise<{ features: number; worst: number }> {
    const def = LAYERS[layer]
    const js = await app.tiles.render(def, c, app.tiles.js)
    const pg = await app.tiles.render(def, c, postgis)
    const a = decode(js.bytes, layer)
    const b = decode(pg.bytes, layer)
    t.same(a.layers, b.layers, `${layer} ${c.z}/${c.x}/${c.y}: same layers`)
    t.equal(a.extent, b.extent)
    t.same([...a.features.keys()].sort(), [...b.features.keys()].sort(), `${layer} ${c.z}/${c.x}/${c.y}: same ${a.features.size} features`)
    t.equal(js.nextChangeMs, pg.nextChangeMs, 'same time of the next light change')
    let worst = 0
    const attrs: string[] = []
    const shapes: string[] = []
    for (const [k, fa] of a.features) {
      const fb = b.features.get(k)
      if (!fb) continue
      if (JSON.stringify(fa.properties) !== JSON.stringify(sortKeys(fb.properties, fa.properties)) || fa.id !== fb.id || fa.type !== fb.type) {
        attrs.push(`${k}: ${JSON.stringify([fa.id, fa.type, fa.properties])} vs ${JSON.stringify([fb.id, fb.type, fb.properties])}`)
      }
      const d = Math.max(farthest(fa, fb), farthest(fb, fa))
      worst = Math.max(worst, d)
      if (d > PIXEL) shapes.push(`${k}: vertices ${d.toFixed(2)} units apart`)
      if (fa.type === 3) {
        const aa = area(fa.parts), ab = area(fb.parts)
        if (aa > 0 !== ab > 0) shapes.push(`${k}: winding differs`)
        // A pixel of snapping along the outline is the most the areas may differ by.
        const perimeter = fb.parts.reduce((s, r) => s + r.reduce((q, p, i) => q + Math.hypot(p.x - r[(i + 1) % r.length].x, p.y - r[(i + 1) % r.length].y), 0), 0)
        if (Math.abs(aa - ab) > perimeter * PIXEL / 2 + 4) shapes.push(`${k}: areas ${aa} vs ${ab}`)
      }
    }
    t.same(attrs, [], `${layer} ${c.z}/${c.x}/${c.y}: same ids, types and attributes`)
    t.same(shapes, [], `${layer} ${c.z}/${c.x}/${c.y}: geometry within a pixel (largest ${worst.toFixed(1)} units)`)
    return { features: a.features.size, worst }
  }

  t.test('JavaScript and ST_AsMVT tiles agree on every layer', async (t) => {
    let total = 0
    let worst = 0
    for (const [layer, z] of cases) {
      for (const [lon, lat] of places) {
        const r = await compare(t, layer, tileAt(lon, lat, z))
        total += r.features
        worst = Math.max(worst, r.worst)
      }
    }
    t.ok(total > 5000, `${total} features compared`)
    t.comment(`largest vertex distance between the two renderers: ${worst.toFixed(2)} tile units`)
  })

  t.test('case tiles agree, lights and next change included, at several clock times', async (t) => {
    t.ok(openCases.length > 0)
    for (const when of [new Date('2025-10-01T00:00:00Z'), new Date('2025-11-01T00:00:00Z'), new Date()]) {
      app.cases.setClock(() => when)
      for (const p of openCases) {
        for (const z of [11, 14, 18]) await compare(t, 'cases', tileAt(p.lon, p.lat, z))
      }
    }
    app.cases.setClock(() => new Date())
  })

  t.test('cells with scores agree (the score provider through both renderers)', async (t) => {
    app.tiles.setCellScores((codes) => new Map(codes.map((c) => [c, { score: (Number(c.slice(-4)) % 1000) / 10, grade: 'ABCDE'[Number(c.slice(-1)) % 5] }])))
    t.teardown(() => app.tiles.setCellScores(null))
    const r = await compare(t, 'cells', tileAt(116.46, 39.93, 14))
    t.ok(r.features > 50)
    const js = await app.tiles.render(LAYERS.cells, tileAt(116.46, 39.93, 14), postgis)
    const f = new VectorTile(new PbfReader(js.bytes)).layers.cells.feature(0)
    t.equal(typeof f.properties.score, 'number', 'ST_AsMVT carries the provider\'s score')
    t.match(f.properties.grade, /^[A-E]$/)
  })
}
