/**
 * Gi* hot spots: the statistic on a case worked by hand, then a hot spot
 * planted in the test grid — found at 99 % over grid cells and over H3, with
 * nothing far away — and its emergence over four windows: new, intensifying,
 * then former.
 */
import t from 'tap'
import { latLngToCell } from 'h3-js'
import { testApp } from './helpers/app.ts'
import { bearer, buildDistrict, cellCentre, cellCode, closedCase, insertCases, N, type CaseInput } from './helpers/analysis.ts'
import { adjacency, confidence, giStar, pValue } from '../server/analysis/gistar.ts'
import { classify } from '../server/analysis/hotspots.ts'

t.test('Gi* on a line of four, worked by hand', async (t) => {
  // x = [0, 0, 9, 0]: mean 2.25, S = √(81/4 − 2.25²) = 3.8971.
  // Unit 0 (neighbour 1): (0 − 2·2.25) / (S √((4·2 − 4)/3)) = −4.5 / 4.5 = −1.
  // Unit 2 (neighbours 1, 3): (9 − 3·2.25) / (S √((12 − 9)/3)) = 2.25 / 3.8971 = 1/√3.
  // Unit 3 (neighbour 2): (9 − 4.5) / 4.5 = 1.
  const z = giStar([0, 0, 9, 0], adjacency([[1], [0, 2], [1, 3], [2]]))
  t.same([...z].map((v) => Math.round(v * 1e4) / 1e4), [-1, 0.5774, 0.5774, 1])
  t.same([...giStar([3, 3, 3], adjacency([[1], [0, 2], [1]]))], [0, 0, 0], 'no variation, no hot spot')
  t.equal(Math.round(pValue(1.96) * 1000) / 1000, 0.05)
  t.equal(Math.round(pValue(2.5758) * 1000) / 1000, 0.01)
  t.same([2.6, 2.0, 1.7, 1.5, -1.7, -2.0, -3].map(confidence), [99, 95, 90, 0, -90, -95, -99])
  t.same([classify(3, 0, 0), classify(3, 3, 2), classify(3, 3, 0), classify(3, 3, -2), classify(0, 3, -3), classify(0, 0, 0)],
    ['new', 'intensifying', 'persistent', 'diminishing', 'former', 'none'])
})

const { app, db, close } = await testApp('empty')
t.teardown(close)
const users = await buildDistrict(db)
const leader = bearer(users.leader)

// Four windows of 14 days: W1 background only, W2 a 3 × 3 block around (3, 6) with 20 more per cell,
// W3 the block with 40 more, W4 background only again. Background: 2 cases in every cell.
const START = new Date('2025-07-01T00:00:00+08:00')
const LEN = 14 * 86_400_000
const W = [0, 1, 2, 3].map((i) => ({ from: new Date(START.getTime() + i * LEN), to: new Date(START.getTime() + (i + 1) * LEN) }))
const HOT = { col: 3, row: 6 }
const cases: CaseInput[] = []
W.forEach((w, wi) => {
  const at = (k: number) => new Date(w.from.getTime() + (1 + (k % 12)) * 86_400_000)
  for (let col = 0; col < N; col++) for (let row = 0; row < N; row++) for (let k = 0; k < 2; k++) cases.push(closedCase(at(k + col), { col, row, dx: 40 * k - 20 }))
  const extra = [0, 20, 40, 0][wi]
  for (let dc = -1; dc <= 1; dc++) for (let dr = -1; dr <= 1; dr++) for (let k = 0; k < extra; k++) {
    // Within 60 m of the cell centre, so the H3 test below finds them in one or two hexagons.
    cases.push(closedCase(at(k), { col: HOT.col + dc, row: HOT.row + dr, dx: (k % 5) * 12 - 24, dy: Math.floor(k / 5) % 5 * 12 - 24 }))
  }
})
await insertCases(db, cases)

interface Spots { units: number; cases: number; previous_cases: number; significant: { hot: number; cold: number }; keys: string[]; count: number[]; z: number[]; p: number[]; confidence: number[]; emerging: string[] }
async function spots(w: { from: Date; to: Date }, query: string): Promise<Spots> {
  const r = await app.inject({ method: 'GET', url: `/api/analysis/hotspots?from=${encodeURIComponent(w.from.toISOString())}&to=${encodeURIComponent(w.to.toISOString())}&${query}`, headers: leader })
  if (r.statusCode !== 200) throw new Error(`${r.statusCode} ${r.body}`)
  return r.json()
}
const at = (s: Spots, key: string) => {
  const i = s.keys.indexOf(key)
  return i < 0 ? null : { count: s.count[i], z: s.z[i], p: s.p[i], confidence: s.confidence[i], emerging: s.emerging[i] }
}

t.test('a planted hot spot over grid cells: 99 % at the block, nothing far away, and new', async (t) => {
  const s = await spots(W[1], 'target=cell&all=true')
  t.equal(s.units, 100, 'every cell of the grid, zeros included')
  t.equal(s.cases, 200 + 9 * 20)
  t.equal(s.previous_cases, 200)
  const centre = at(s, cellCode(HOT.col, HOT.row))
  // n = 100, mean 3.8, S = 5.724; centre: (9·22 − 9·3.8) / (S √((100·9 − 81)/99)) = 9.95.
  t.equal(centre?.count, 22)
  t.ok(Math.abs((centre?.z ?? 0) - 9.95) < 0.01, `centre z ${centre?.z}`)
  t.equal(centre?.confidence, 99)
  t.ok((centre?.p ?? 1) < 0.001)
  t.equal(centre?.emerging, 'new')
  const far = at(s, cellCode(9, 0))
  t.ok(far && far.confidence <= 0 && far.emerging === 'none', 'the far corner is not hot')
  // Every significant hot cell lies within two cells of the block's centre.
  s.keys.forEach((k, i) => {
    if (s.confidence[i] <= 0) return
    const n = Number(k.slice(12)) - 1
    const col = Math.floor(n / N)
    const row = n % N
    t.ok(Math.abs(col - HOT.col) <= 2 && Math.abs(row - HOT.row) <= 2, `hot cell ${k} near the block`)
  })
  const only = await spots(W[1], 'target=cell')
  t.ok(only.keys.length < 100 && only.keys.includes(cellCode(HOT.col, HOT.row)), 'by default only significant or emerging units')
})

t.test('emerging: intensifying when the block grows, former when it is gone', async (t) => {
  const w3 = await spots(W[2], 'target=cell')
  t.equal(at(w3, cellCode(HOT.col, HOT.row))?.emerging, 'intensifying')
  const w4 = await spots(W[3], 'target=cell')
  const c = at(w4, cellCode(HOT.col, HOT.row))
  t.equal(c?.emerging, 'former')
  t.equal(c?.confidence, 0)
})

t.test('the same hot spot over H3 (resolution 9)', async (t) => {
  const s = await spots(W[1], 'resolution=9&all=true')
  const p = cellCentre(HOT.col, HOT.row)
  const hex = latLngToCell(p.lat, p.lon, 9)
  const c = at(s, hex)
  t.ok(c, 'the hexagon of the block centre is in the study area')
  t.equal(c?.confidence, 99)
  t.ok(s.units > 50, `study area of ${s.units} hexagons covers the grid`)
  const far = cellCentre(9, 0)
  const f = at(s, latLngToCell(far.lat, far.lon, 9))
  t.ok(f && f.confidence <= 0, 'the far corner is not hot')
})

t.test('bad parameters get 4xx', async (t) => {
  const r1 = await app.inject({ method: 'GET', url: '/api/analysis/hotspots?resolution=12', headers: leader })
  t.equal(r1.statusCode, 400)
  const r2 = await app.inject({ method: 'GET', url: `/api/analysis/hotspots?from=${encodeURIComponent(W[1].to.toISOString())}&to=${encodeURIComponent(W[1].from.toISOString())}`, headers: leader })
  t.equal(r2.json().error.code, 'invalid_window')
  const r3 = await app.inject({ method: 'GET', url: '/api/analysis/hotspots?matter=11010699999', headers: leader })
  t.equal(r3.json().error.code, 'unknown_matter')
  const r4 = await app.inject({ method: 'GET', url: '/api/analysis/hotspots', headers: bearer(users.resident) })
  t.equal(r4.statusCode, 403)
})
