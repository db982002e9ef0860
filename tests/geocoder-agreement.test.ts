/**
 * The in-memory index and the PostGIS reference agree on the Chaoyang fixture as
 * the service loads it (cells read back from the database as WKB): 100,000 seeded
 * random points over the district's box, every cell vertex, and every edge midpoint
 * of a sample of cells — 100 %, under the smallest-code edge rule.
 */
import t from 'tap'
import { testDatabase } from './helpers/db.ts'
import { loadIndexCells } from '../server/repositories/geocoder-repository.ts'
import { buildSnapshot } from '../server/plugins/geocoder.ts'
import { PostgisCellIndex } from '../geocoder/postgis-index.ts'
import { createRandom } from '../grids/random.ts'
import { parseWkbPolygonal } from '../server/db/wkb.ts'

// PGlite answers ≈ 1,000–3,000 reference points a second: this file needs more than the default time.
t.setTimeout(900_000)
const { db, cleanup } = await testDatabase('chaoyang')
t.teardown(cleanup)

const rows = await loadIndexCells(db)
const snapshot = buildSnapshot(rows, [])
if (!snapshot) throw new Error('no grid in the fixture')
const reference = new PostgisCellIndex(db)

/** Compares both implementations on interleaved lon,lat points; returns the mismatches. */
async function compare(points: number[]): Promise<{ n: number; inside: number; snapped: number; outside: number; mismatches: string[] }> {
  const res = snapshot!.index.locateMany(Float64Array.from(points))
  const out = { n: 0, inside: 0, snapped: 0, outside: 0, mismatches: [] as string[] }
  const CHUNK = 25_000
  for (let start = 0; start < points.length / 2; start += CHUNK) {
    const end = Math.min(points.length / 2, start + CHUNK)
    const lons: number[] = []
    const lats: number[] = []
    for (let i = start; i < end; i++) { lons.push(points[2 * i]); lats.push(points[2 * i + 1]) }
    // Which cell is the question here; distances to the district are tested elsewhere.
    const ref = await reference.locateMany(lons, lats, { outsideDistance: false })
    for (let i = start; i < end; i++) {
      out.n++
      const r = ref[i - start]
      const ordinal = res.cells[i]
      const mine = ordinal >= 0 ? snapshot!.index.codes[ordinal] : null
      if (r.outside) out.outside++
      else if (r.snapped) out.snapped++
      else out.inside++
      const same = r.outside ? mine === null : mine === r.code && (res.snapped[i] === 1) === r.snapped
      if (!same && out.mismatches.length < 20) {
        out.mismatches.push(`(${points[2 * i]}, ${points[2 * i + 1]}): memory ${mine}${res.snapped[i] ? ' snapped' : ''}, PostGIS ${r.outside ? 'outside' : r.code + (r.snapped ? ' snapped' : '')}`)
      }
    }
  }
  return out
}

t.test('100,000 random points over the district box', async (t) => {
  const rnd = createRandom(20_051_105)
  const pts: number[] = []
  for (let i = 0; i < 100_000; i++) pts.push(116.36 + rnd.next() * 0.28, 39.81 + rnd.next() * 0.26)
  const r = await compare(pts)
  t.equal(r.n, 100_000)
  t.ok(r.inside > 50_000 && r.outside > 1_000, `a mix: ${r.inside} inside, ${r.snapped} snapped, ${r.outside} outside`)
  t.same(r.mismatches, [], '100 % agreement')
})

t.test('every vertex of every cell and edge midpoints', async (t) => {
  const seen = new Set<string>()
  const vertices: number[] = []
  const mids: number[] = []
  rows.forEach((row, k) => {
    const g = parseWkbPolygonal(row.wkb)
    const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates
    for (const ring of polys.flat()) {
      for (let i = 0; i < ring.length - 1; i++) {
        const key = `${ring[i][0]},${ring[i][1]}`
        if (!seen.has(key)) { seen.add(key); vertices.push(ring[i][0], ring[i][1]) }
        // Midpoints of every 4th cell's edges: points that lie on (the rounding of) a shared edge.
        if (k % 4 === 0) mids.push((ring[i][0] + ring[i + 1][0]) / 2, (ring[i][1] + ring[i + 1][1]) / 2)
      }
    }
  })
  const v = await compare(vertices)
  t.ok(v.n > 15_000, `${v.n} distinct vertices, many shared by 3 cells`)
  t.same(v.mismatches, [], 'vertices: 100 % agreement (smallest covering code)')
  const m = await compare(mids)
  t.same(m.mismatches, [], `${m.n} edge midpoints: 100 % agreement`)
})
