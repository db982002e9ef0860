/**
 * The in-memory index against the PostGIS reference (PGlite here, a real
 * PostGIS with DATABASE_URL): the same cell for hand-built edge cases, random
 * points, every vertex, edge midpoints and — the hard part — points on the
 * rounded line of an edge, where PostGIS's own arithmetic decides.
 *
 * The cells go into a TEMP table `cells` (it shadows any migrated one) with the
 * columns the reference assumes, written as WKB so the doubles are the same
 * bits on both sides. Nothing persistent is touched, so the test needs no
 * migrated database: an in-memory PGlite, or the server at DATABASE_URL.
 */
import t from 'tap'
import { orient2d } from 'robust-predicates'
import type { Position } from 'geojson'
import { openPglite } from '../server/db/pglite.ts'
import { openPostgres } from '../server/db/postgres.ts'
import { MemoryCellIndex } from '../geocoder/memory-index.ts'
import { PostgisCellIndex } from '../geocoder/postgis-index.ts'
import { buildCellStore } from '../geocoder/cell-store.ts'
import { boundaryEdges } from '../geocoder/outside.ts'
import { metresPerDegLat, metresPerDegLon } from '../geocoder/geodesy.ts'
import { seededRandom, syntheticGrid } from '../geocoder/synthetic-grid.ts'
import { edgeGrid, edgeProbes } from '../geocoder/testing/edge-grid.ts'
import { generateGrid } from '../grids/generate.ts'
import type { CellRecord, LocateResult } from '../geocoder/types.ts'
import type { Queryable } from '../server/db/types.ts'

const TOL = 30

/** Little-endian WKB of a Polygon or MultiPolygon, bit-exact. */
function wkb(g: CellRecord['geometry']): string {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates
  const parts: Buffer[] = []
  const u32 = (v: number): Buffer => {
    const b = Buffer.alloc(4)
    b.writeUInt32LE(v)
    return b
  }
  const polygon = (rings: Position[][]): void => {
    parts.push(Buffer.from([1]), u32(3), u32(rings.length))
    for (const ring of rings) {
      parts.push(u32(ring.length))
      const b = Buffer.alloc(16 * ring.length)
      ring.forEach((p, i) => {
        b.writeDoubleLE(p[0], 16 * i)
        b.writeDoubleLE(p[1], 16 * i + 8)
      })
      parts.push(b)
    }
  }
  if (g.type === 'Polygon') polygon(g.coordinates)
  else {
    parts.push(Buffer.from([1]), u32(6), u32(polys.length))
    for (const p of polys) polygon(p)
  }
  return Buffer.concat(parts).toString('hex')
}

async function loadCells(db: Queryable, cells: CellRecord[]): Promise<void> {
  await db.query('DROP TABLE IF EXISTS pg_temp.cells')
  await db.query(`CREATE TEMP TABLE cells (
    code char(15) PRIMARY KEY, community_code char(12), subdistrict_code char(9),
    geom geometry(Geometry, 4326) NOT NULL)`)
  await db.query('CREATE INDEX ON pg_temp.cells USING gist (geom)')
  await db.query(
    `INSERT INTO cells (code, community_code, subdistrict_code, geom)
     SELECT u.code, u.community, u.subdistrict, ST_GeomFromWKB(decode(u.wkb, 'hex'), 4326)
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(code, community, subdistrict, wkb)`,
    [cells.map((c) => c.code), cells.map((c) => c.communityCode), cells.map((c) => c.subdistrictCode), cells.map((c) => wkb(c.geometry))],
  )
  await db.query('ANALYZE pg_temp.cells')
}

interface Compared {
  points: number
  inside: number
  snapped: number
  outside: number
  mismatches: string[]
}

/** Memory (postgis predicate) vs the SQL batch on the same points. */
async function compare(db: Queryable, cells: CellRecord[], pts: Float64Array): Promise<Compared> {
  const memory = MemoryCellIndex.build(cells, { toleranceM: TOL })
  const ref = new PostgisCellIndex(db, { toleranceM: TOL })
  const n = pts.length / 2
  const lons = Array.from({ length: n }, (_, i) => pts[2 * i])
  const lats = Array.from({ length: n }, (_, i) => pts[2 * i + 1])
  const want = await ref.locateMany(lons, lats)
  const got = memory.locateMany(pts)
  const out: Compared = { points: n, inside: 0, snapped: 0, outside: 0, mismatches: [] }
  for (let i = 0; i < n; i++) {
    const w = want[i]
    const code = got.cells[i] >= 0 ? memory.codes[got.cells[i]] : null
    const d = got.distanceM[i]
    if (w.outside) out.outside++
    else if (w.snapped) out.snapped++
    else out.inside++
    // Geography measures along great circles, geometry along straight lon/lat
    // lines: centimetres apart on long edges. A decision that close to the
    // tolerance may go either way.
    const nearTolerance = Math.abs(w.distanceM - TOL) < 0.05
    const sameCell = w.code === code && (w.outside || w.snapped === (got.snapped[i] === 1))
    const closeDistance = Math.abs(w.distanceM - d) <= 1e-3 * w.distanceM + 0.05
    if ((!sameCell && !nearTolerance) || !closeDistance) {
      out.mismatches.push(`(${pts[2 * i]}, ${pts[2 * i + 1]}): PostGIS ${describe(w)}, memory ${code ?? 'outside'}${got.snapped[i] ? ' snapped' : ''} ${d} m`)
    }
  }
  return out
}

const describe = (r: LocateResult): string => `${r.code ?? 'outside'}${!r.outside && r.snapped ? ' snapped' : ''} ${r.distanceM} m`

/** Points on the rounded line of edges where PostGIS's arithmetic and exact arithmetic disagree. */
function slivers(cells: CellRecord[], limit: number): Float64Array {
  const store = buildCellStore(cells)
  const b = store.blob
  const out: number[] = []
  for (let r = 0; r < store.ringStart.length && out.length < 2 * limit; r++) {
    for (let i = store.ringStart[r]; i < store.ringStart[r] + 2 * (store.ringVerts[r] - 1); i += 2) {
      const [x1, y1, x2, y2] = [b[i], b[i + 1], b[i + 2], b[i + 3]]
      if (x1 === x2 || y1 === y2) continue
      for (let k = 1; k < 3000; k++) {
        const px = x1 + (k / 3000) * (x2 - x1)
        const py = y1 + ((px - x1) * (y2 - y1)) / (x2 - x1)
        const naive = Math.sign((x2 - x1) * (py - y1) - (px - x1) * (y2 - y1))
        const exact = Math.sign(-orient2d(x1, y1, x2, y2, px, py))
        if (naive !== exact) out.push(px, py)
      }
    }
  }
  return new Float64Array(out.slice(0, 2 * limit))
}

/** Random points over the box, every third ring's vertices and edge midpoints, and points up to 50 m off edges. */
function spread(cells: CellRecord[], random: number, seed: number): Float64Array {
  const store = buildCellStore(cells)
  const rnd = seededRandom(seed)
  const pts: number[] = []
  const mx = (store.maxX - store.minX) * 0.05
  const my = (store.maxY - store.minY) * 0.05
  for (let i = 0; i < random; i++) pts.push(store.minX - mx + rnd() * (store.maxX - store.minX + 2 * mx), store.minY - my + rnd() * (store.maxY - store.minY + 2 * my))
  const b = store.blob
  for (let r = 0; r < store.ringStart.length; r += 3) {
    for (let i = store.ringStart[r]; i < store.ringStart[r] + 2 * (store.ringVerts[r] - 1); i += 2) {
      pts.push(b[i], b[i + 1], (b[i] + b[i + 2]) / 2, (b[i + 1] + b[i + 3]) / 2)
      // Off the edge by up to 50 m (≈ 4.5e-4°): around the snapping tolerance on the outer boundary.
      const t = rnd()
      pts.push(b[i] + t * (b[i + 2] - b[i]) + (rnd() - 0.5) * 9e-4, b[i + 1] + t * (b[i + 3] - b[i + 1]) + (rnd() - 0.5) * 9e-4)
    }
  }
  return new Float64Array(pts)
}

/** Points 0–60 m off the district's boundary edges, both sides: where snapping decides. */
function boundaryBand(cells: CellRecord[], seed: number): Float64Array {
  const e = boundaryEdges(buildCellStore(cells))
  const rnd = seededRandom(seed)
  const pts: number[] = []
  for (let k = 0; k < e.length; k += 4) {
    const t = rnd()
    const x = e[k] + t * (e[k + 2] - e[k])
    const y = e[k + 1] + t * (e[k + 3] - e[k + 1])
    const kx = metresPerDegLon(y)
    const ky = metresPerDegLat(y)
    // Unit normal in metres, then back to degrees.
    const dx = (e[k + 2] - e[k]) * kx
    const dy = (e[k + 3] - e[k + 1]) * ky
    const len = Math.hypot(dx, dy)
    for (const m of [rnd() * 60, -rnd() * 60, 25 + rnd() * 10]) pts.push(x + (-dy / len) * m / kx, y + (dx / len) * m / ky)
  }
  return new Float64Array(pts)
}

const url = process.env.DATABASE_URL
const db = url ? await openPostgres({ connectionString: url }) : await openPglite({ cacheDir: '.data' })
t.teardown(() => db.close())
await db.exec('CREATE EXTENSION IF NOT EXISTS postgis')

await db.transaction(async (tx) => {
  await t.test('hand-built edge cases: the reference gives the expected answers, single and batch', async (t) => {
    await loadCells(tx, edgeGrid())
    const ref = new PostgisCellIndex(tx, { toleranceM: TOL })
    const probes = edgeProbes()
    const batch = await ref.locateMany(probes.map((p) => p.lon), probes.map((p) => p.lat))
    for (const [i, p] of probes.entries()) {
      const r = await ref.locate(p.lon, p.lat)
      t.equal(r.code, p.code, `${p.name}: code`)
      if (!r.outside) t.equal(r.snapped, p.snapped, `${p.name}: snapped`)
      if (p.distanceM !== undefined) t.ok(Math.abs(r.distanceM - p.distanceM) <= 0.005 * p.distanceM + 1e-6, `${p.name}: ${r.distanceM} m`)
      t.equal(batch[i].code, r.code, `${p.name}: batch code`)
      t.ok(Math.abs(batch[i].distanceM - r.distanceM) < 1e-9, `${p.name}: batch distance`)
    }
  })

  await t.test('synthetic grid (holes, MultiPolygons, enclaves): memory = PostGIS', async (t) => {
    const cells = syntheticGrid({ cells: 250, seed: 4, areaKm2: 12 })
    await loadCells(tx, cells)
    const r = await compare(tx, cells, spread(cells, 4000, 5))
    t.same(r.mismatches, [], `${r.points} points: ${r.inside} inside, ${r.snapped} snapped, ${r.outside} outside`)
    t.ok(r.inside > 0 && r.snapped > 0 && r.outside > 0)
  })

  await t.test('generated grid: memory = PostGIS, including points where rounding decides', async (t) => {
    const fc = generateGrid({ cells: 900, seed: 11, areaKm2: 40 })
    const cells: CellRecord[] = fc.features.map((f) => ({
      code: f.properties.code,
      communityCode: f.properties.community_code,
      subdistrictCode: f.properties.subdistrict_code,
      geometry: f.geometry,
    }))
    await loadCells(tx, cells)
    const r = await compare(tx, cells, spread(cells, 10_000, 6))
    t.same(r.mismatches, [], `${r.points} points: ${r.inside} inside, ${r.snapped} snapped, ${r.outside} outside`)
    const band = await compare(tx, cells, boundaryBand(cells, 9))
    t.same(band.mismatches, [], `${band.points} points by the boundary: ${band.inside} inside, ${band.snapped} snapped, ${band.outside} outside`)
    const sliver = slivers(cells, 400)
    t.ok(sliver.length / 2 >= 20, `${sliver.length / 2} points where double and exact arithmetic disagree`)
    const s = await compare(tx, cells, sliver)
    t.same(s.mismatches, [], `all ${s.points} agree with PostGIS under the 'postgis' predicate`)
    // The same points under exact arithmetic: some land elsewhere — why the default is 'postgis'.
    const exact = MemoryCellIndex.build(cells, { predicate: 'exact' }).locateMany(sliver)
    const postgisMode = MemoryCellIndex.build(cells).locateMany(sliver)
    let differ = 0
    for (let i = 0; i < exact.cells.length; i++) if (exact.cells[i] !== postgisMode.cells[i]) differ++
    t.comment(`exact orientation would put ${differ} of ${exact.cells.length} of them in another cell than PostGIS does`)
  })

  // Nothing to keep: the temporary table goes with the session.
  await tx.query('DROP TABLE IF EXISTS pg_temp.cells')
})
