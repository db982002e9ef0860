/**
 * The gazetteer fixture and search: the generator is deterministic and puts
 * every point inside a cell of the district; exact addresses come back with
 * score 1, misspelt or incomplete ones still first, traditional and
 * full-width input the same, and text that matches nothing gives no
 * candidates but the nearest names.
 */
import t from 'tap'
import Flatbush from 'flatbush'
import { booleanPointInPolygon } from '@turf/turf'
import type { Feature, MultiPolygon, Polygon } from 'geojson'
import * as OpenCC from 'opencc-js/cn2t'
import { generateGrid } from '../grids/generate.ts'
import { createRandom } from '../grids/random.ts'
import { generateGazetteer } from '../fixtures/gazetteer.ts'
import { Gazetteer, type GazetteerEntry } from '../geocoder/gazetteer.ts'
import { smallGrid } from './helpers/grids.ts'

// the published fixture: generateGrid's default seed is the one fixtures/load.ts uses
const SEED = 20050101
const grid = generateGrid({ seed: SEED })
const entries = generateGazetteer(grid, { seed: SEED })
const gaz = new Gazetteer(entries)
const toTraditional = OpenCC.Converter({ from: 'cn', to: 'tw' })
const fullWidthDigits = (s: string): string => s.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0))

const first = (q: string): { entry?: GazetteerEntry; score: number; method?: string } => {
  const c = gaz.search(q).candidates[0]
  return { entry: c?.entry, score: c?.score ?? 0, method: c?.method }
}
const find = (pred: (e: GazetteerEntry) => boolean, what: string): GazetteerEntry => {
  const e = entries.find(pred)
  if (!e) throw new Error(`the fixture has no ${what}`)
  return e
}
const roadNames = new Set(entries.filter((e) => e.kind === 'road').map((e) => e.name))
const zoneBuilding = find((e) => e.kind === 'building' && /[一二三四五六七八九十]区\d{3}号楼$/.test(e.name), 'zone building (望京西园三区312号楼)')
const yardBuilding = find((e) => e.kind === 'building' && /[里园苑]\d+号院\d+号楼$/.test(e.name), 'yard building (花家地北里4号院2号楼)')
const roadDoor = find((e) => e.kind === 'building' && /^(.+?)(\d+)号$/.test(e.name) && roadNames.has(e.name.replace(/\d+号$/, '')), 'road door (阜通东大街6号)')
const station = find((e) => e.kind === 'poi' && e.name.endsWith('站') && (e.aliases?.length ?? 0) > 0, 'metro station')

t.test('the fixture: counts, unique ids, plausible names', async (t) => {
  const kinds = new Map<string, number>()
  for (const e of entries) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1)
  const communities = new Set(grid.features.map((f) => f.properties.community_code))
  t.equal(kinds.get('subdistrict'), 43)
  t.equal(kinds.get('community'), communities.size)
  t.ok((kinds.get('road') ?? 0) >= 250, `a few hundred roads: ${kinds.get('road')}`)
  t.ok((kinds.get('building') ?? 0) >= 30_000, `tens of thousands of buildings: ${kinds.get('building')}`)
  t.ok((kinds.get('poi') ?? 0) >= 500, `points of interest: ${kinds.get('poi')}`)
  t.equal(new Set(entries.map((e) => e.id)).size, entries.length, 'ids are unique')
  t.equal(roadNames.size, kinds.get('road'), 'road names are unique')
  const addresses = entries.filter((e) => e.address).map((e) => e.address)
  t.equal(new Set(addresses).size, addresses.length, 'door addresses are unique')
  t.ok(roadNames.has('阜通东大街') && roadNames.has('东三环中路'), 'real road names where their subdistricts are')
  t.ok(entries.some((e) => e.name === '望京南站'), 'real metro stations')
  t.match(zoneBuilding.address, /^北京市朝阳区.+(街道|地区|乡)/, 'addresses are full postal addresses')
  for (const e of entries.filter((x) => x.kind === 'road')) {
    if ((e.line?.length ?? 0) < 2) t.fail(`${e.name} has no line`)
  }
})

t.test('the same grid and seed give the same entries; another seed others', async (t) => {
  t.equal(JSON.stringify(generateGazetteer(grid, { seed: SEED })), JSON.stringify(entries))
  // the rest on a smaller grid: the same code paths at a fifth of the time
  const smaller = generateGrid({ seed: SEED, cells: 1500 })
  const once = JSON.stringify(generateGazetteer(smaller, { seed: 7 }))
  t.not(JSON.stringify(generateGazetteer(smaller, { seed: 8 })), once, 'another seed, other entries')
  const shuffled = { ...smaller, features: createRandom(3).shuffle([...smaller.features]) }
  t.equal(JSON.stringify(generateGazetteer(shuffled, { seed: 7 })), once, 'feature order does not matter')
})

/** A spatial index of the cells: which cell a point is strictly inside. */
function cellLocator(features: Feature<Polygon | MultiPolygon>[]): (lon: number, lat: number, boundary?: boolean) => Feature<Polygon | MultiPolygon>[] {
  const index = new Flatbush(features.length)
  for (const f of features) {
    const rings = f.geometry.type === 'Polygon' ? [f.geometry.coordinates[0]] : f.geometry.coordinates.map((p) => p[0])
    let x0 = Infinity; let y0 = Infinity; let x1 = -Infinity; let y1 = -Infinity
    for (const ring of rings) for (const [x, y] of ring) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y) }
    index.add(x0, y0, x1, y1)
  }
  index.finish()
  return (lon, lat, boundary = false) => index.search(lon, lat, lon, lat)
    .map((i) => features[i])
    .filter((f) => booleanPointInPolygon([lon, lat], f, { ignoreBoundary: !boundary }))
}

t.test('every point lies strictly inside one cell, of the subdistrict and community it names', async (t) => {
  const locate = cellLocator(grid.features)
  let bad = 0
  for (const e of entries) {
    const cells = locate(e.lon, e.lat)
    const ok = cells.length === 1 && cells[0].properties?.subdistrict_code === e.subdistrictCode &&
      (e.communityCode === undefined || cells[0].properties?.community_code === e.communityCode)
    if (!ok && bad++ < 10) t.fail(`${e.id} ${e.name} at ${e.lon},${e.lat}: in ${cells.length} cells`)
  }
  t.equal(bad, 0, `${entries.length} points checked`)
  let off = 0
  for (const e of entries) for (const [lon, lat] of e.line ?? []) if (locate(lon, lat, true).length === 0) off++
  t.equal(off, 0, 'road lines run along cell edges, inside the district')
})

t.test('a small hand-built grid works too, with what fits on it', async (t) => {
  const small = generateGazetteer(smallGrid(), { seed: 1 })
  const locate = cellLocator(smallGrid().features as Feature<Polygon>[])
  t.equal(small.filter((e) => e.kind === 'subdistrict').length, 1)
  t.equal(small.filter((e) => e.kind === 'community').length, 2)
  t.ok(small.some((e) => e.kind === 'building'))
  t.ok(small.every((e) => locate(e.lon, e.lat).length === 1), 'every point inside a cell')
  t.same(generateGazetteer(smallGrid(), { seed: 1 }), small)
  t.same(generateGazetteer({ type: 'FeatureCollection', features: [] }, { seed: 1 }), [])
  const g = new Gazetteer(small)
  const b = small.find((e) => e.kind === 'building')
  t.equal(b && g.search(b.name).candidates[0]?.entry.id, b?.id)
})

t.test('exact names and addresses: score 1, first', async (t) => {
  for (const e of [zoneBuilding, yardBuilding, roadDoor, station]) {
    t.match(first(e.name), { entry: { id: e.id }, score: 1, method: 'exact' }, e.name)
    if (e.address) t.match(first(e.address), { entry: { id: e.id }, score: 1 }, e.address)
  }
  for (const e of createRandom(11).shuffle(entries.slice()).slice(0, 300)) {
    const hit = first(e.address ?? e.name)
    if (hit.entry?.id !== e.id || hit.score !== 1) t.fail(`${e.address ?? e.name} → ${hit.entry?.name} ${hit.score}`)
  }
  t.match(first(`${station.aliases?.[0]}`), { entry: { id: station.id }, score: 1 }, 'aliases')
  t.match(first('八十中'), { entry: { name: '北京市第八十中学' }, score: 1 }, 'what a numbered school is called')
  t.match(first('北京第八十中学'), { entry: { name: '北京市第八十中学' }, score: 1 }, 'a bare 北京 before a name')
  t.match(first('北京朝阳医院'), { entry: { name: '朝阳医院' }, score: 1 })
  t.match(first('望京街道'), { entry: { kind: 'subdistrict', name: '望京街道' }, score: 1 })
  t.match(first('南磨房乡'), { entry: { name: '南磨房地区' } }, '街道/地区/乡 are one')
  t.ok(first('南磨房乡').score >= 0.95)
})

t.test('traditional and full-width input finds the same', async (t) => {
  for (const e of [zoneBuilding, yardBuilding, roadDoor, station]) {
    const q = fullWidthDigits(toTraditional(e.address ?? e.name))
    t.match(first(q), { entry: { id: e.id }, score: 1 }, q)
  }
  t.match(first('北京市朝陽區望京南站'), { entry: { name: '望京南站' }, score: 1 })
})

t.test('unit and room after a building, spaces and punctuation, a stated subdistrict', async (t) => {
  t.match(first(`${zoneBuilding.name}2单元1001室`), { entry: { id: zoneBuilding.id }, score: 1 })
  t.match(first(`${yardBuilding.name.replace(/(\d+)号楼$/, ' $1栋')}，3单元`), { entry: { id: yardBuilding.id }, score: 1 })
  const sub = entries.find((e) => e.id === `sd-${zoneBuilding.subdistrictCode}`)?.name ?? ''
  t.match(first(`${sub}${zoneBuilding.name}`), { entry: { id: zoneBuilding.id }, score: 1 })
  const wrong = entries.find((e) => e.kind === 'subdistrict' && e.subdistrictCode !== zoneBuilding.subdistrictCode)?.name ?? ''
  const w = first(`${wrong}${zoneBuilding.name}`)
  t.equal(w.entry?.id, zoneBuilding.id, 'a wrong subdistrict does not hide the building…')
  t.ok(w.score < 1 && w.score >= 0.85, `…but costs score: ${w.score}`)
})

t.test('missing suffixes, other spellings of numbers: still first', async (t) => {
  const noSuffix = zoneBuilding.name.replace(/号楼$/, '')
  t.match(first(noSuffix), { entry: { id: zoneBuilding.id } }, noSuffix)
  t.ok(first(noSuffix).score >= 0.9)
  const yardShort = yardBuilding.name.replace(/号院(\d+)号楼$/, '号$1号楼')
  t.match(first(yardShort), { entry: { id: yardBuilding.id } }, yardShort)
  const zoneDigits = zoneBuilding.name.replace(/([一二三四五六七八九十])区/, (_, c: string) => `${'一二三四五六七八九十'.indexOf(c) + 1}区`)
  t.match(first(zoneDigits), { entry: { id: zoneBuilding.id }, score: 1 }, zoneDigits)
  const spelt = zoneBuilding.name.replace(/(\d)(\d)(\d)号楼$/, (_, a: string, b: string, c: string) => `${'〇一二三四五六七八九'[+a]}${'〇一二三四五六七八九'[+b]}${'〇一二三四五六七八九'[+c]}号楼`)
  t.match(first(spelt), { entry: { id: zoneBuilding.id }, score: 1 }, spelt)
  // dropping 号楼 / 号 from many buildings: the right one first nearly always
  const rand = createRandom(5)
  const sample = rand.shuffle(entries.filter((e) => e.kind === 'building' && /\d+号(楼)?$/.test(e.name))).slice(0, 400)
  const hits = sample.filter((e) => first(e.name.replace(/号楼?$/, '')).entry?.id === e.id).length
  t.ok(hits / sample.length >= 0.98, `suffix left off: ${hits}/${sample.length} first`)
})

t.test('misspelt names: still first', async (t) => {
  t.match(first('付通东大街'), { entry: { name: '阜通东大街', kind: 'road' }, method: 'fuzzy' }, 'a homophone in a road name')
  t.match(first('阜通东大路'), { entry: { name: '阜通东大街' } }, 'the wrong road type')
  t.match(first('东三环中'), { entry: { name: '东三环中路' } }, 'a missing last character')
  t.match(first('中国中医科学院望京医院'), { entry: { name: '望京医院' } }, 'the name inside a longer one')
  const typo = zoneBuilding.name.replace(/^(.)(.)/, (_, a: string) => `${a}某`)
  t.match(first(typo), { entry: { id: zoneBuilding.id } }, typo)
  t.ok(first(typo).score < 1 && first(typo).score >= 0.5)
  // one character of the name replaced, in many entries with names of five or more characters
  const rand = createRandom(6)
  const sample = rand.shuffle(entries.filter((e) => e.kind !== 'community' && [...e.name.replace(/\d.*$/, '')].length >= 5)).slice(0, 300)
  let hits = 0
  for (const e of sample) {
    const chars = [...e.name]
    chars[1 + rand.int(3)] = '某'
    if (first(chars.join('')).entry?.id === e.id) hits++
  }
  t.ok(hits / sample.length >= 0.8, `one wrong character: ${hits}/${sample.length} first`)
})

t.test('a road number that is not there: the nearest door on that road', async (t) => {
  const road = roadDoor.name.replace(/\d+号$/, '')
  const doors = entries.filter((e) => e.kind === 'building' && new RegExp(`^${road}(\\d+)号$`).test(e.name)).map((e) => Number(/(\d+)号$/.exec(e.name)?.[1]))
  const taken = new Set(doors)
  let n = Math.max(...doors)
  while (taken.has(n)) n--
  const r = gaz.search(`${road}${n}号`)
  const top = r.candidates[0]
  t.ok(top && top.score < 1 && top.score >= 0.5, `${road}${n}号 → ${top?.entry.name} ${top?.score}`)
  t.match(top?.entry.name, new RegExp(`^${road}`), 'on the same road')
  t.ok(r.candidates.some((c) => c.entry.kind === 'road' && c.entry.name === road), 'the road itself is a candidate too')
})

t.test('text that matches nothing: no candidates, the nearest names', async (t) => {
  for (const q of ['火星基地九号', 'qwertyuiop', '∑∂ƒ©', '海淀区中关村大街27号']) {
    const r = gaz.search(q)
    t.same(r.candidates, [], q)
    t.ok(r.nearest.length > 0 && r.nearest.length <= 5, `${q} → ${r.nearest.join('、')}`)
  }
  t.same(gaz.search('').candidates, [])
  t.same(gaz.search('，。').nearest, [], 'empty after normalisation: nothing to suggest')
})

t.test('options and the index itself', async (t) => {
  t.equal(gaz.size, entries.length)
  t.equal(gaz.get(zoneBuilding.id), zoneBuilding)
  t.ok(gaz.search(zoneBuilding.name.replace(/号楼$/, ''), { limit: 2 }).candidates.length <= 2)
  t.same(gaz.search('付通东大街', { minScore: 0.99 }).candidates, [], 'minScore drops weaker candidates')
  const scores = gaz.search('望京', { limit: 10 }).candidates.map((c) => c.score)
  t.same(scores, [...scores].sort((a, b) => b - a), 'best first')
  t.throws(() => new Gazetteer([zoneBuilding, zoneBuilding]), /duplicate/)
})
