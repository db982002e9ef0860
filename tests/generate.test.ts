import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import area from '@turf/area'
import kinks from '@turf/kinks'
import type { Feature, Polygon, Position } from 'geojson'
import t from 'tap'
import { CHAOYANG_SUBDISTRICTS, generateGrid, polygonAreaWgs84, type CellProperties } from '../grids/generate.ts'
import { createNoise2D, createRandom, hash32 } from '../grids/random.ts'

type Cell = Feature<Polygon, CellProperties>

const csvPath = fileURLToPath(new URL('../fixtures/townships.csv', import.meta.url))
const townships = readFileSync(csvPath, 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  // no field of this file holds a comma, so a plain split is a full parse
  .map((line) => line.split(',').map((f) => f.replace(/^"|"$/g, '')))
  .filter((f) => f[1] === '110105')
  .map((f) => ({ code: f[0], name: f[7], pinyin: f[5] }))

const started = performance.now()
const grid = generateGrid()
const seconds = (performance.now() - started) / 1000
const cells = grid.features as Cell[]
const ring = (c: Cell): Position[] => c.geometry.coordinates[0]
const key = (p: Position): string => `${p[0]},${p[1]}`

// a local metric frame is enough to order cells and compare distances
const metresPerDegLat = 111_000
const metresPerDegLon = metresPerDegLat * Math.cos((39.95 * Math.PI) / 180)
/** Area centroid in lon/lat, computed relative to the first vertex. */
const centroid = (c: Cell): [number, number] => {
  const r = ring(c)
  const [x0, y0] = r[0]
  let a = 0
  let x = 0
  let y = 0
  for (let i = 0; i + 1 < r.length; i++) {
    const [xi, yi] = [r[i][0] - x0, r[i][1] - y0]
    const [xj, yj] = [r[i + 1][0] - x0, r[i + 1][1] - y0]
    const cross = xi * yj - xj * yi
    a += cross
    x += (xi + xj) * cross
    y += (yi + yj) * cross
  }
  return [x0 + x / (3 * a), y0 + y / (3 * a)]
}

t.test('makes 8,423 cells in a few seconds, centred on 116.49 E, 39.95 N', async (t) => {
  t.equal(cells.length, 8423)
  t.ok(seconds < 10, `took ${seconds.toFixed(2)} s`)
  t.ok(cells.every((c) => c.type === 'Feature' && c.geometry.type === 'Polygon'))
  let [mx, my, ma] = [0, 0, 0]
  for (const c of cells) {
    const a = area(c)
    const [x, y] = centroid(c)
    mx += x * a
    my += y * a
    ma += a
  }
  const off = Math.hypot((mx / ma - 116.49) * metresPerDegLon, (my / ma - 39.95) * metresPerDegLat)
  t.ok(off < 300, `centroid ${off.toFixed(0)} m from 116.49 E, 39.95 N`)
})

t.test('has the 43 subdistricts of the townships list, codes and names', async (t) => {
  t.equal(townships.length, 43)
  const got = new Map(cells.map((c) => [c.properties.subdistrict_code, c.properties.subdistrict_name]))
  t.same([...got].sort(), townships.map((r) => [r.code, r.name]).sort())
  t.same(
    CHAOYANG_SUBDISTRICTS.map((s) => [s.code, s.name, s.pinyin]),
    townships.map((r) => [r.code, r.name, r.pinyin]),
  )
})

t.test('codes are 15 characters, unique, sorted and consistent with their parents', async (t) => {
  const codes = cells.map((c) => c.properties.code)
  t.equal(new Set(codes).size, codes.length, 'unique')
  t.same(codes, [...codes].sort(), 'features sorted by code')
  const bad = cells.filter((c) => {
    const p = c.properties
    return (
      !/^\d{15}$/.test(p.code) ||
      c.id !== p.code ||
      p.community_code !== p.code.slice(0, 12) ||
      p.subdistrict_code !== p.code.slice(0, 9) ||
      p.district_code !== '110105' ||
      p.district_name !== '朝阳区' ||
      !p.code.startsWith('110105')
    )
  })
  t.same(
    bad.map((c) => c.properties.code),
    [],
  )
})

t.test('communities: plausible count, unique names within a subdistrict, cells numbered from 001', async (t) => {
  const byCommunity = new Map<string, Cell[]>()
  for (const c of cells) {
    const list = byCommunity.get(c.properties.community_code) ?? []
    list.push(c)
    byCommunity.set(c.properties.community_code, list)
  }
  t.ok(byCommunity.size >= 400 && byCommunity.size <= 600, `${byCommunity.size} communities`)
  const names = new Map<string, Set<string>>()
  const problems: string[] = []
  for (const [code, list] of byCommunity) {
    const expected = list.map((_, i) => code + String(i + 1).padStart(3, '0'))
    if (list.some((c, i) => c.properties.code !== expected[i])) problems.push(`${code}: cells not numbered 001… without gaps`)
    const { subdistrict_code: s, community_name: name } = list[0].properties
    if (list.some((c) => c.properties.community_name !== name)) problems.push(`${code}: two names`)
    const set = names.get(s) ?? new Set<string>()
    if (set.has(name)) problems.push(`${code}: ${name} repeated in ${s}`)
    set.add(name)
    names.set(s, set)
    if (!/^\p{Script=Han}{2,}(社区|村)$/u.test(name)) problems.push(`${code}: odd name ${name}`)
  }
  t.same(problems, [])
  const communitiesPerSubdistrict = [...names.values()].map((s) => s.size)
  t.ok(Math.min(...communitiesPerSubdistrict) >= 1)
})

t.test('cells are numbered north to south, then west to east', async (t) => {
  const byCommunity = new Map<string, Cell[]>()
  for (const c of cells) byCommunity.set(c.properties.community_code, [...(byCommunity.get(c.properties.community_code) ?? []), c])
  let firstNorth = 0
  let rankAgreement = 0
  for (const list of byCommunity.values()) {
    const ys = list.map((c) => centroid(c)[1])
    const median = [...ys].sort((a, b) => a - b)[ys.length >> 1]
    const sizes = list.map((c) => area(c)).sort((a, b) => a - b)
    // the rows are bands of about one cell: the first cell is in the top one
    const band = Math.sqrt(sizes[sizes.length >> 1]) / metresPerDegLat
    if (ys[0] >= median - band / 2) firstNorth++
    // and later numbers are mostly further south
    let concordant = 0
    let pairs = 0
    for (let i = 0; i < ys.length; i++) {
      for (let j = i + 1; j < ys.length; j++) {
        if (Math.abs(ys[i] - ys[j]) < band) continue
        pairs++
        if (ys[i] > ys[j]) concordant++
      }
    }
    rankAgreement += pairs ? concordant / pairs : 1
  }
  t.equal(firstNorth, byCommunity.size, 'every first cell is at least about as far north as its community median')
  t.ok(rankAgreement / byCommunity.size > 0.9, `order agreement ${(rankAgreement / byCommunity.size).toFixed(3)}`)
  // numbers run east along a row; a step back west starts a new row, clearly south of the last one's top
  const badRows: string[] = []
  for (const list of byCommunity.values()) {
    const sizes = list.map((c) => area(c)).sort((a, b) => a - b)
    const band = Math.sqrt(sizes[sizes.length >> 1]) / metresPerDegLat
    const at = list.map(centroid)
    let rowTop = at[0][1]
    for (let i = 1; i < at.length; i++) {
      if (at[i][0] > at[i - 1][0]) {
        rowTop = Math.max(rowTop, at[i][1])
        continue
      }
      if (!(at[i][1] < rowTop - 0.45 * band)) badRows.push(list[i].properties.code)
      rowTop = at[i][1]
    }
  }
  t.same(badRows, [], 'west to east within rows, rows north to south')
})

t.test('area: 470.8 km² in all, small core cells, larger rural ones', async (t) => {
  const areas = cells.map((c) => area(c))
  const total = areas.reduce((a, b) => a + b, 0)
  t.ok(Math.abs(total / 470.8e6 - 1) < 0.005, `turf (sphere) ${(total / 1e6).toFixed(3)} km²`)
  const ellipsoidal = cells.reduce((s, c) => s + polygonAreaWgs84(c.geometry.coordinates), 0)
  t.ok(Math.abs(ellipsoidal / 470.8e6 - 1) < 0.0001, `WGS84 ${(ellipsoidal / 1e6).toFixed(3)} km²`)
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]
  // the inner urban 街道 (001–018) are the core of ~10,000 m² cells
  const core = areas.filter((_, i) => Number(cells[i].properties.subdistrict_code.slice(6)) <= 18)
  t.ok(median(core) >= 7000 && median(core) <= 15000, `core median ${median(core).toFixed(0)} m²`)
  const rural = areas.filter((_, i) => cells[i].properties.subdistrict_name.endsWith('乡'))
  t.ok(median(rural) > 3 * median(core), `rural median ${median(rural).toFixed(0)} m²`)
  const mean = total / cells.length
  t.ok(mean > 50_000 && mean < 62_000, `mean ${mean.toFixed(0)} m²`)
})

t.test('rings are closed, counter-clockwise, simple and rounded to 7 decimals', async (t) => {
  const problems: string[] = []
  for (const c of cells) {
    const r = ring(c)
    const code = c.properties.code
    if (r.length < 4) problems.push(`${code}: ${r.length} positions`)
    if (key(r[0]) !== key(r[r.length - 1])) problems.push(`${code}: not closed`)
    if (new Set(r.slice(0, -1).map(key)).size !== r.length - 1) problems.push(`${code}: repeats a vertex`)
    let twice = 0
    for (let i = 0; i + 1 < r.length; i++) twice += (r[i][0] - r[0][0]) * (r[i + 1][1] - r[0][1]) - (r[i + 1][0] - r[0][0]) * (r[i][1] - r[0][1])
    if (!(twice > 0)) problems.push(`${code}: clockwise`)
    if (r.some((p) => p.length !== 2 || p.some((v) => Math.round(v * 1e7) / 1e7 !== v))) problems.push(`${code}: more than 7 decimals`)
    if (kinks(c).features.length > 0) problems.push(`${code}: self-intersects`)
  }
  t.same(problems, [])
})

t.test('cells tile the district: shared edges match, one outer boundary, areas add up', async (t) => {
  // every directed edge once; an inner edge is matched by its reverse in the neighbour
  const directed = new Map<string, string>()
  let duplicates = 0
  for (const c of cells) {
    const r = ring(c)
    for (let i = 0; i + 1 < r.length; i++) {
      const k = `${key(r[i])}>${key(r[i + 1])}`
      if (directed.has(k)) duplicates++
      directed.set(k, c.properties.code)
    }
  }
  t.equal(duplicates, 0, 'no edge is used twice in the same direction (no overlap)')
  const next = new Map<string, string>()
  let outerStarts = 0
  for (const k of directed.keys()) {
    const [a, b] = k.split('>')
    if (directed.has(`${b}>${a}`)) continue
    if (next.has(a)) outerStarts++
    next.set(a, b)
  }
  t.equal(outerStarts, 0, 'the boundary passes each vertex once')
  // follow the unmatched edges: they must form one closed loop (no gap, no hole, no T-junction)
  const start = next.keys().next().value as string
  const loop: Position[] = []
  let at = start
  do {
    loop.push(at.split(',').map(Number))
    at = next.get(at) as string
  } while (at !== start && at !== undefined && loop.length <= next.size)
  t.equal(at, start, 'the boundary closes')
  t.equal(loop.length, next.size, 'all unmatched edges are on one outer loop')
  loop.push(loop[0])
  const outline: Feature<Polygon> = { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [loop] } }
  const sum = cells.reduce((s, c) => s + area(c), 0)
  t.ok(Math.abs(area(outline) / sum - 1) < 1e-9, 'the cells add up to the area inside the outline')
  t.equal(kinks(outline).features.length, 0, 'the outline is simple')
})

t.test('every community and subdistrict is one piece', async (t) => {
  const owner = new Map<string, number>()
  const neighbours: number[][] = cells.map(() => [])
  cells.forEach((c, i) => {
    const r = ring(c)
    for (let k = 0; k + 1 < r.length; k++) {
      const j = owner.get(`${key(r[k + 1])}>${key(r[k])}`)
      if (j !== undefined) {
        neighbours[i].push(j)
        neighbours[j].push(i)
      }
      owner.set(`${key(r[k])}>${key(r[k + 1])}`, i)
    }
  })
  const pieces = (group: (c: Cell) => string): string[] => {
    const seen = new Set<number>()
    const counted = new Map<string, number>()
    cells.forEach((c, i) => {
      if (seen.has(i)) return
      const g = group(c)
      counted.set(g, (counted.get(g) ?? 0) + 1)
      const stack = [i]
      seen.add(i)
      while (stack.length) {
        const a = stack.pop() as number
        for (const b of neighbours[a]) {
          if (!seen.has(b) && group(cells[b]) === g) {
            seen.add(b)
            stack.push(b)
          }
        }
      }
    })
    return [...counted].filter(([, n]) => n > 1).map(([g]) => g)
  }
  t.same(pieces((c) => c.properties.community_code), [], 'communities')
  t.same(pieces((c) => c.properties.subdistrict_code), [], 'subdistricts')
  t.same(pieces(() => 'district'), [], 'district')
})

t.test('deterministic: the same seed gives the same bytes, another seed another grid', async (t) => {
  t.equal(JSON.stringify(generateGrid()), JSON.stringify(grid))
  const other = generateGrid({ seed: 7 })
  t.equal(other.features.length, 8423)
  t.not(JSON.stringify(other.features.map((f) => f.geometry)), JSON.stringify(grid.features.map((f) => f.geometry)))
})

t.test('options: cell count and centre', async (t) => {
  const small = generateGrid({ cells: 2000, center: [121.47, 31.23], areaKm2: 100 })
  t.equal(small.features.length, 2000)
  const total = small.features.reduce((s, f) => s + polygonAreaWgs84((f.geometry as Polygon).coordinates), 0)
  t.ok(Math.abs(total / 100e6 - 1) < 1e-4, `${(total / 1e6).toFixed(3)} km²`)
  let [mx, my, ma] = [0, 0, 0]
  for (const f of small.features as Cell[]) {
    const a = area(f)
    const [x, y] = centroid(f)
    mx += x * a
    my += y * a
    ma += a
  }
  const off = Math.hypot((mx / ma - 121.47) * 111_000 * Math.cos((31.23 * Math.PI) / 180), (my / ma - 31.23) * 111_000)
  t.ok(off < 200, `centroid ${off.toFixed(0)} m from the asked centre`)
  t.throws(() => generateGrid({ cells: 10 }), RangeError)
  t.throws(() => generateGrid({ cells: 8423.5 }), RangeError)
})

t.test('random: seeded streams, hashes and noise repeat', async (t) => {
  const a = createRandom(1)
  const b = createRandom(1)
  const xs = Array.from({ length: 1000 }, () => a.next())
  t.same(
    Array.from({ length: 1000 }, () => b.next()),
    xs,
  )
  t.ok(xs.every((x) => x >= 0 && x < 1))
  t.ok(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5) < 0.05, 'roughly uniform')
  t.not(createRandom(2).next(), xs[0])
  t.equal(hash32(1, 2, 3), hash32(1, 2, 3))
  t.not(hash32(1, 2, 3), hash32(1, 3, 2))
  const noise = createNoise2D(5)
  t.equal(noise(0.3, 0.7), createNoise2D(5)(0.3, 0.7))
  t.ok(Math.abs(noise(0.3, 0.7) - noise(0.301, 0.7)) < 0.01, 'smooth')
})
