/**
 * The in-memory index: the edge rule on hand-built cases, then random and
 * adversarial points against a brute-force reference over every cell.
 */
import t, { type Test } from 'tap'
import { MemoryCellIndex } from '../geocoder/memory-index.ts'
import { buildCellStore, type CellStore } from '../geocoder/cell-store.ts'
import { cellStatus, OUTSIDE_RING } from '../geocoder/predicates.ts'
import { distanceM, metresPerDegLat, metresPerDegLon, nearestT } from '../geocoder/geodesy.ts'
import { GeocoderError, InvalidCoordinatesError } from '../geocoder/errors.ts'
import { INVALID, OUTSIDE, type CellRecord } from '../geocoder/types.ts'
import { edgeGrid, edgeProbes, vx, vy } from '../geocoder/testing/edge-grid.ts'
import { seededRandom, syntheticGrid } from '../geocoder/synthetic-grid.ts'
import { generateGrid } from '../grids/generate.ts'

const TOL = 30

for (const predicate of ['postgis', 'exact'] as const) {
  t.test(`edge cases (${predicate})`, async (t) => {
    const index = MemoryCellIndex.build(edgeGrid(), { predicate })
    for (const p of edgeProbes()) {
      const r = index.locate(p.lon, p.lat)
      t.equal(r.code, p.code, `${p.name}: code`)
      t.equal(r.outside, p.code === null, `${p.name}: outside`)
      if (!r.outside) t.equal(r.snapped, p.snapped, `${p.name}: snapped`)
      if (p.distanceM !== undefined) t.ok(Math.abs(r.distanceM - p.distanceM) <= 0.005 * p.distanceM + 1e-9, `${p.name}: ${r.distanceM} m ≈ ${p.distanceM} m`)
      // The batch answers the same.
      const b = index.locateMany(new Float64Array([p.lon, p.lat]))
      t.equal(b.cells[0] >= 0 ? index.codes[b.cells[0]] : null, p.code, `${p.name}: batch`)
      t.equal(b.distanceM[0], r.distanceM, `${p.name}: batch distance`)
    }
  })
}

t.test('cell → community → subdistrict', async (t) => {
  const index = MemoryCellIndex.build(edgeGrid())
  const r = index.locate((vx(0) + vx(1)) / 2, (vy(0) + vy(1)) / 2)
  if (r.outside) throw new Error('expected a cell')
  t.same(index.cell(r.ordinal), { code: '110105001001004', communityCode: '110105001001', subdistrictCode: '110105001' })
  t.throws(() => index.cell(99), RangeError)
})

t.test('bad coordinates are rejected with the field', async (t) => {
  const index = MemoryCellIndex.build(edgeGrid())
  for (const [lon, lat, field] of [[NaN, 39.9, 'lon'], [116.4, Infinity, 'lat'], [181, 39.9, 'lon'], [116.4, -90.5, 'lat']] as const) {
    try {
      index.locate(lon, lat)
      t.fail(`${lon}, ${lat} accepted`)
    } catch (err) {
      t.ok(err instanceof InvalidCoordinatesError && err.code === 'invalid_coordinates' && err.field === field, `${lon}, ${lat}: ${field}`)
    }
  }
  const b = index.locateMany(new Float64Array([NaN, 39.9, vx(0.5), vy(0.5), 200, 0]))
  t.same([...b.cells], [INVALID, 0 + index.codes.indexOf('110105001001004'), INVALID])
  t.ok(Number.isNaN(b.distanceM[0]))
  t.throws(() => index.locateMany(new Float64Array(3)), RangeError)
})

t.test('bad grids are refused with a code', async (t) => {
  const good = edgeGrid()
  const codeOf = (cells: CellRecord[]): string | null => {
    try {
      MemoryCellIndex.build(cells)
      return null
    } catch (err) {
      return err instanceof GeocoderError ? `${err.code}:${err.field}` : String(err)
    }
  }
  t.equal(codeOf([]), 'empty_grid:null')
  t.match(codeOf([...good, good[0]]), /^invalid_cell:110105001001004:code/)
  t.match(codeOf([{ ...good[0], code: '1101' }]), /^invalid_cell:1101:code/)
  const open = { ...good[0], geometry: { type: 'Polygon' as const, coordinates: [good[0].geometry.coordinates[0].slice(0, 4) as number[][]] } }
  t.match(codeOf([open]), /^invalid_cell:.*coordinates\[0\]\[0\]$/)
  const nan = { ...good[0], geometry: { type: 'Polygon' as const, coordinates: [[[NaN, 1], [1, 1], [1, 2], [NaN, 1]]] } }
  t.match(codeOf([nan]), /^invalid_cell:.*\[0\]\[0\]\[0\]$/)
  t.throws(() => MemoryCellIndex.build(good, { toleranceM: -1 }), RangeError)
})

/** The answer by testing every cell in code order; distances to every edge. */
function bruteForce(store: CellStore, x: number, y: number, exact: boolean): { cell: number; snapped: boolean; distanceM: number } {
  for (let c = 0; c < store.n; c++) if (cellStatus(store, c, x, y, exact) !== OUTSIDE_RING) return { cell: c, snapped: false, distanceM: 0 }
  const kx = metresPerDegLon(y)
  const ky = metresPerDegLat(y)
  let best = Infinity
  let bestCell = -1
  for (let c = 0; c < store.n; c++) {
    for (let r = store.polyRingStart[store.cellPolyStart[c]]; r < store.polyRingStart[store.cellPolyStart[c + 1]]; r++) {
      for (let i = store.ringStart[r]; i < store.ringStart[r] + 2 * (store.ringVerts[r] - 1); i += 2) {
        const b = store.blob
        const s = nearestT(x, y, b[i], b[i + 1], b[i + 2], b[i + 3], kx, ky)
        const d = distanceM(x, y, b[i] + s * (b[i + 2] - b[i]), b[i + 1] + s * (b[i + 3] - b[i + 1]))
        if (d < best) {
          best = d
          bestCell = c
        }
      }
    }
  }
  return best <= TOL ? { cell: bestCell, snapped: true, distanceM: best } : { cell: OUTSIDE, snapped: false, distanceM: best }
}

/** Random points over the cells' box and a margin, every vertex, edge midpoints, and points a hair off edges. */
function probePoints(store: CellStore, seed: number, random: number): Float64Array {
  const rnd = seededRandom(seed)
  const pts: number[] = []
  const mx = (store.maxX - store.minX) * 0.05
  const my = (store.maxY - store.minY) * 0.05
  for (let i = 0; i < random; i++) pts.push(store.minX - mx + rnd() * (store.maxX - store.minX + 2 * mx), store.minY - my + rnd() * (store.maxY - store.minY + 2 * my))
  const b = store.blob
  for (let r = 0; r < store.ringStart.length; r++) {
    if (rnd() > 0.3) continue
    for (let i = store.ringStart[r]; i < store.ringStart[r] + 2 * (store.ringVerts[r] - 1); i += 2) {
      const t = rnd()
      const ex = b[i] + t * (b[i + 2] - b[i])
      const ey = b[i + 1] + t * (b[i + 3] - b[i + 1])
      const off = [0, 1e-12, 1e-9, 2e-4][Math.floor(rnd() * 4)]
      pts.push(b[i], b[i + 1], (b[i] + b[i + 2]) / 2, (b[i + 1] + b[i + 3]) / 2, ex, ey, ex + off, ey - off, ex - off, ey + off)
    }
  }
  return new Float64Array(pts)
}

function compareWithBruteForce(t: Test, cells: CellRecord[], points: Float64Array, exact: boolean): void {
  const index = MemoryCellIndex.build(cells, { predicate: exact ? 'exact' : 'postgis' })
  const store = buildCellStore(cells)
  const got = index.locateMany(points)
  let bad = 0
  let inside = 0
  let snapped = 0
  let outside = 0
  for (let i = 0; i < points.length / 2; i++) {
    const want = bruteForce(store, points[2 * i], points[2 * i + 1], exact)
    const sameCell = got.cells[i] === want.cell && (got.snapped[i] === 1) === want.snapped
    const d = got.distanceM[i]
    const sameDistance = Math.abs(d - want.distanceM) <= 1e-4 * want.distanceM + 1e-6
    if (want.cell < 0) outside++
    else if (want.snapped) snapped++
    else inside++
    if (!sameCell || !sameDistance) {
      if (bad++ < 5) t.fail(`point ${i} (${points[2 * i]}, ${points[2 * i + 1]}): got ${got.cells[i]}/${got.snapped[i]}/${d}, want ${want.cell}/${want.snapped}/${want.distanceM}`)
    }
  }
  t.equal(bad, 0, `${points.length / 2} points agree (${inside} inside, ${snapped} snapped, ${outside} outside)`)
  t.ok(inside > 0 && snapped > 0 && outside > 0, 'all three outcomes exercised')
}

t.test('random and edge points agree with brute force: synthetic grid with holes and MultiPolygons', async (t) => {
  const cells = syntheticGrid({ cells: 600, seed: 3, areaKm2: 30 })
  t.ok(cells.some((c) => c.geometry.type === 'MultiPolygon') && cells.some((c) => c.geometry.type === 'Polygon' && c.geometry.coordinates.length > 1))
  const points = probePoints(buildCellStore(cells), 11, 4000)
  compareWithBruteForce(t, cells, points, false)
  compareWithBruteForce(t, cells, points, true)
})

t.test('random and edge points agree with brute force: the realistic generator', async (t) => {
  const fc = generateGrid({ cells: 900, seed: 7, areaKm2: 50 })
  const cells: CellRecord[] = fc.features.map((f) => ({
    code: f.properties.code,
    communityCode: f.properties.community_code,
    subdistrictCode: f.properties.subdistrict_code,
    geometry: f.geometry,
  }))
  compareWithBruteForce(t, cells, probePoints(buildCellStore(cells), 12, 4000), false)
})

t.test('postgis and exact predicates differ only on rounding slivers, each as specified', async (t) => {
  // Two cells sharing one long diagonal edge; points on the rounded line of that edge.
  const a: [number, number] = [116.4000013, 39.9000007]
  const b: [number, number] = [116.4031111, 39.9003333]
  const cells: CellRecord[] = [
    { code: '110105001001001', communityCode: '110105001001', subdistrictCode: '110105001', geometry: { type: 'Polygon', coordinates: [[a, b, [116.4027777, 39.9029999], a]] } },
    { code: '110105001001002', communityCode: '110105001001', subdistrictCode: '110105001', geometry: { type: 'Polygon', coordinates: [[a, [116.4029, 39.898], b, a]] } },
  ]
  const n = 2_000_000
  const pts = new Float64Array(2 * n)
  for (let k = 0; k < n; k++) {
    const x = a[0] + ((k + 0.5) / n) * (b[0] - a[0])
    pts[2 * k] = x
    pts[2 * k + 1] = a[1] + ((x - a[0]) * (b[1] - a[1])) / (b[0] - a[0])
  }
  const store = buildCellStore(cells)
  const viaPostgis = MemoryCellIndex.build(cells, { predicate: 'postgis' }).locateMany(pts)
  const viaExact = MemoryCellIndex.build(cells, { predicate: 'exact' }).locateMany(pts)
  let differ = 0
  let coveredByNeither = 0
  for (let k = 0; k < n; k++) {
    const x = pts[2 * k]
    const y = pts[2 * k + 1]
    const p = [0, 1].map((c) => cellStatus(store, c, x, y, false) !== OUTSIDE_RING)
    const e = [0, 1].map((c) => cellStatus(store, c, x, y, true) !== OUTSIDE_RING)
    // Exact arithmetic: a point is on exactly one side of the shared edge, or on it.
    if (!e[0] && !e[1]) t.fail(`exact: point ${k} in no cell`)
    if (!p[0] && !p[1]) coveredByNeither++
    if (viaPostgis.cells[k] !== viaExact.cells[k]) differ++
    const wantP = p[0] ? 0 : p[1] ? 1 : -1
    if (wantP >= 0 && (viaPostgis.cells[k] !== wantP || viaPostgis.snapped[k])) t.fail(`postgis: point ${k}`)
    if (viaExact.cells[k] !== (e[0] ? 0 : 1) || viaExact.snapped[k]) t.fail(`exact: point ${k}`)
  }
  t.ok(differ > 0 && differ < n / 1000, `the two predicates differ on ${differ} of ${n} points`)
  t.comment(`${coveredByNeither} points fall between the two cells under PostGIS arithmetic and are snapped`)
})

t.test('stats and memory', async (t) => {
  const index = MemoryCellIndex.build(syntheticGrid({ cells: 500, seed: 1, areaKm2: 25 }))
  const s = index.stats()
  t.equal(s.cells, 500)
  t.ok(s.buckets >= 500 * 16 && s.boundaryEdges > 0)
  t.ok(index.memoryBytes() > 100_000 && index.memoryBytes() < 20_000_000, `${index.memoryBytes()} bytes`)
})
