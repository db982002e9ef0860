/**
 * The web client's pure helpers (web/src/lib): outlines derived from cells,
 * the shareable URL state, typed coordinates and label points. No browser:
 * the map itself is tested in tests/browser/ (npm run test:browser).
 */
import t from 'tap'
import type { Position } from 'geojson'
import { boundaries, chain } from '../web/src/lib/boundaries.ts'
import { parsePoint } from '../web/src/lib/coords.ts'
import { centroid, contains, labelPoint } from '../web/src/lib/geometry.ts'
import { declutter } from '../web/src/lib/declutter.ts'
import { DEFAULT_STATE, formatState, parseState, safeBasemap } from '../web/src/lib/url-state.ts'
import type { CellCollection, CellFeature } from '../web/src/types.ts'

/** A unit square cell at (x, y) in community `cm` of subdistrict `sd`. */
function square(x: number, y: number, sd: string, cm: string): CellFeature {
  const ring: Position[] = [[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]
  return {
    type: 'Feature',
    geometry: { type: 'Polygon', coordinates: [ring] },
    properties: {
      code: `110105${sd}${cm}${x}${y}`, community_code: `110105${sd}${cm}`, community_name: cm, subdistrict_code: `110105${sd}`,
      subdistrict_name: sd, district_code: '110105', district_name: '朝阳区', responsible_unit: 'x', responsible_unit_name: null, area_m2: 1, version: 1,
    },
  }
}

const totalLength = (lines: Position[][]): number => lines.reduce((s, l) => s + l.slice(1).reduce((a, p, i) => a + Math.hypot(p[0] - l[i][0], p[1] - l[i][1]), 0), 0)

t.test('outlines: a 3×2 block of cells in two subdistricts, one of them with two communities', async (t) => {
  // x = 0,1 → subdistrict 001 (community 001 at x=0, 002 at x=1); x = 2 → subdistrict 002.
  const cells: CellCollection = { type: 'FeatureCollection', features: [] }
  for (let x = 0; x < 3; x++) for (let y = 0; y < 2; y++) cells.features.push(square(x, y, x < 2 ? '001' : '002', x === 0 ? '001' : '002'))
  const b = boundaries(cells)
  const by = Object.fromEntries(b.features.map((f) => [f.properties.level, f.geometry.coordinates]))
  t.equal(totalLength(by.district), 10, 'the district outline is the block perimeter (3+2+3+2)')
  t.equal(totalLength(by.subdistrict), 2, 'one vertical line between x=2 and the rest')
  t.equal(totalLength(by.community), 2, 'one vertical line between the two communities')
  t.equal(by.district.length, 1, 'the perimeter is chained into one closed line')
  const line = by.district[0]
  t.same(line[0], line[line.length - 1], 'and it closes')
})

t.test('outlines: interior edges shared by cells of the same community are not drawn', async (t) => {
  const cells: CellCollection = { type: 'FeatureCollection', features: [square(0, 0, '001', '001'), square(1, 0, '001', '001')] }
  const b = boundaries(cells)
  t.equal(totalLength(b.features[0].geometry.coordinates), 6)
  t.same(b.features[1].geometry.coordinates, [])
  t.same(b.features[2].geometry.coordinates, [])
})

t.test('chain joins segments end to end whatever their direction', async (t) => {
  const out = chain([[[1, 0], [2, 0]], [[0, 0], [1, 0]], [[3, 0], [2, 0]], [[10, 10], [11, 10]]])
  t.equal(out.length, 2)
  t.same(out.find((l) => l.length === 4)?.map((p) => p[0]).sort(), [0, 1, 2, 3])
})

t.test('centroid, contains and label points', async (t) => {
  const c = square(116, 39, '001', '001').geometry
  t.same(centroid(c), [116.5, 39.5])
  t.ok(contains(c, 116.5, 39.5))
  t.notOk(contains(c, 117.5, 39.5))
  // An L-shaped group: the label goes on a member cell, not into the notch.
  const p = labelPoint([{ centroid: [0.5, 0.5], area: 1 }, { centroid: [1.5, 0.5], area: 1 }, { centroid: [0.5, 1.5], area: 1 }])
  t.ok([[0.5, 0.5], [1.5, 0.5], [0.5, 1.5]].some((q) => q[0] === p[0] && q[1] === p[1]))
})

t.test('typed coordinates: lon,lat in any separator; lat,lon only when unambiguous', async (t) => {
  t.same(parsePoint('116.4631, 39.9210'), { lon: 116.4631, lat: 39.921, swapped: false })
  t.same(parsePoint('116.4631 39.9210'), { lon: 116.4631, lat: 39.921, swapped: false })
  t.same(parsePoint('39.9210，116.4631'), { lon: 116.4631, lat: 39.921, swapped: true }, 'full-width comma, latitude first')
  t.same(parsePoint('10, 20'), { lon: 10, lat: 20, swapped: false }, 'ambiguous: read as lon, lat')
  t.equal(parsePoint(''), 'empty')
  t.equal(parsePoint('116.46'), 'format')
  t.equal(parsePoint('abc, 39'), 'format')
  t.equal(parsePoint('200, 100'), 'range')
})

t.test('URL state round-trips and survives hand-edited links', async (t) => {
  const s = { ...DEFAULT_STATE, view: 'dispatcher', layers: ['cells', 'district'], viewport: { zoom: 16.5, lat: 39.921, lon: 116.4631 }, lang: 'en' as const, at: { lon: 116.4631, lat: 39.921 }, crs: 'gcj02' as const }
  const hash = formatState(s)
  t.match(hash, /^#view=dispatcher&map=16\.50\/39\.921\d*\/116\.4631\d*&layers=cells,district&lang=en&at=116\.463100,39\.921000&crs=gcj02$/)
  t.same(parseState(hash), { ...s, basemap: undefined })
  t.same(parseState(''), DEFAULT_STATE, 'an empty hash is the default state')
  const bad = parseState('#view=&map=99/abc/1&lang=fr&at=1000,1&crs=utm&layers=cells,<script>')
  t.same(bad, { ...DEFAULT_STATE, layers: ['cells'] }, 'each bad part falls back on its own')
  t.equal(formatState(DEFAULT_STATE), '#view=dispatcher', 'defaults are left out')
})

t.test('a base map is only an http(s) tile template, from the hash or the query string', async (t) => {
  t.equal(safeBasemap('https://tiles.example.org/{z}/{x}/{y}.png'), 'https://tiles.example.org/{z}/{x}/{y}.png')
  t.equal(safeBasemap('javascript:alert(1)'), undefined)
  t.equal(safeBasemap('data:image/png;base64,AAAA'), undefined)
  t.equal(safeBasemap('not a url'), undefined)
  t.equal(parseState('', '?basemap=http%3A%2F%2F127.0.0.1%3A8080%2F%7Bz%7D%2F%7Bx%7D%2F%7By%7D.png').basemap, 'http://127.0.0.1:8080/{z}/{x}/{y}.png')
  t.equal(parseState('').basemap, undefined, 'off by default')
})

t.test('declutter keeps the first of overlapping labels and every label that fits', async (t) => {
  const boxes = [
    { x: 100, y: 100, w: 60, h: 20 },
    { x: 120, y: 105, w: 60, h: 20 }, // overlaps the first
    { x: 300, y: 100, w: 60, h: 20 },
    { x: 100, y: 140, w: 60, h: 20 }, // below the first, clear of it
  ]
  t.same(declutter(boxes), [0, 2, 3])
  t.same(declutter([boxes[1], boxes[0]]), [0], 'priority is the input order')
  t.same(declutter([]), [])
})
