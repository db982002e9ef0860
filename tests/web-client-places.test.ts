/**
 * The web client's pure helpers added with the vector tiles and the analysis
 * layers (web/src/lib): places from tiles, tile arithmetic, the analysis
 * window, rankings and colour ramps. No browser.
 */
import t from 'tap'
import { clipRing, placesFromTiles, sharedAlongside, type DecodedTile } from '../web/src/lib/places.ts'
import { latToTileY, lonToTileX, tilePointToLonLat, tilesCovering, tileTemplate } from '../web/src/lib/tiles.ts'
import { endOfDay, windowOf } from '../web/src/lib/window.ts'
import { changeLabel, sortRows, sparkPoints, type RankRow } from '../web/src/lib/ranking.ts'
import { gradeOf, ownerColours, ramp, resolutionForZoom } from '../web/src/lib/ramp.ts'
import { formatState, parseState } from '../web/src/lib/url-state.ts'
import { resolutionForZoom as serverResolution } from '../server/analysis/heatmap.ts'

const square = (x: number, y: number, s: number): [number, number][] => [[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]
/** A flat plane: tile units are the coordinates, so lengths and centres can be checked by hand. */
const flat = (tile: DecodedTile, px: number, py: number): [number, number] => [tile.x * tile.extent + px, tile.y * tile.extent + py]
const length = (segs: [number, number][][]): number => segs.reduce((s, [a, b]) => s + Math.hypot(b[0] - a[0], b[1] - a[1]), 0)

t.test('places: two communities side by side in one tile, in two subdistricts', async (t) => {
  const tile: DecodedTile = {
    z: 11, x: 0, y: 0, extent: 100, features: [
      { code: '110105001001', name: 'A', subdistrict: '110105001', subdistrictName: 'SA', rings: [square(10, 10, 20)] },
      { code: '110105002001', name: 'B', subdistrict: '110105002', subdistrictName: 'SB', rings: [square(30, 10, 20)] },
    ],
  }
  const p = placesFromTiles([tile], flat)
  t.same(p.communityLabels.find((l) => l.code === '110105001001')?.position, [20, 20], 'label at the centre of A')
  t.equal(p.subdistrictLabels.length, 2)
  t.equal(length(p.outline), 120, 'the outline is the perimeter of the pair (40+20+40+20), without the shared edge')
})

t.test('places: a neighbour with an extra vertex on the shared edge (T-junction) leaves no stray outline', async (t) => {
  const b: [number, number][] = [[30, 10], [50, 10], [50, 30], [30, 30], [30, 20], [30, 10]]
  const tile: DecodedTile = {
    z: 11, x: 0, y: 0, extent: 100, features: [
      { code: 'a', name: 'A', subdistrict: 's', subdistrictName: 'S', rings: [square(10, 10, 20)] },
      { code: 'b', name: 'B', subdistrict: 's', subdistrictName: 'S', rings: [b] },
    ],
  }
  t.equal(length(placesFromTiles([tile], flat).outline), 120)
  t.same(sharedAlongside([{ a: [0, 0], b: [10, 0], owner: 0 }, { a: [0, 0], b: [4, 0], owner: 1 }, { a: [0, 5], b: [10, 5], owner: 1 }]), [true, true, false])
})

t.test('places: a polygon cut by the tile buffer counts its area once and draws no cut line', async (t) => {
  // A community straddling the tile edge x = 100, seen in both tiles with a buffer of 10.
  const left: DecodedTile = { z: 11, x: 0, y: 0, extent: 100, features: [{ code: 'a', name: 'A', subdistrict: 's', subdistrictName: 'S', rings: [[[80, 10], [110, 10], [110, 30], [80, 30], [80, 10]]] }] }
  const right: DecodedTile = { z: 11, x: 1, y: 0, extent: 100, features: [{ code: 'a', name: 'A', subdistrict: 's', subdistrictName: 'S', rings: [[[-10, 10], [20, 10], [20, 30], [-10, 30], [-10, 10]]] }] }
  const p = placesFromTiles([left, right], flat)
  t.equal(p.communityLabels[0].area, 40 * 20, 'the area of the 40 × 20 rectangle, not more')
  t.same(p.communityLabels[0].position, [100, 20], 'its centre')
  t.notOk(p.outline.some(([a, b]) => a[0] === b[0] && (a[0] === 110 || a[0] === 90)), 'no vertical line along the buffer cut')
  t.same(clipRing(square(-5, -5, 10), 100).length, 4, 'clipping keeps the quarter inside')
})

t.test('tiles: URL template from the origin, covering tiles, tile points back to lon/lat', async (t) => {
  t.equal(tileTemplate('http://127.0.0.1:3000/', 'cells'), 'http://127.0.0.1:3000/tiles/cells/{z}/{x}/{y}.mvt')
  const tiles = tilesCovering([116.34, 39.817, 116.645, 40.077], 8)
  t.same(tiles, [{ x: 210, y: 96 }, { x: 210, y: 97 }], 'Chaoyang at z8: two tiles (as the server serves them)')
  const [lon, lat] = tilePointToLonLat(12, Math.floor(lonToTileX(116.47, 12)), Math.floor(latToTileY(39.93, 12)), 4096,
    (lonToTileX(116.47, 12) % 1) * 4096, (latToTileY(39.93, 12) % 1) * 4096)
  t.ok(Math.abs(lon - 116.47) < 1e-9 && Math.abs(lat - 39.93) < 1e-9, 'round trip')
})

t.test('analysis window: ends at Beijing midnight after the newest case, slides back by days', async (t) => {
  t.same(endOfDay(new Date('2025-10-31T14:00:00Z')).toISOString(), '2025-10-31T16:00:00.000Z', '22:00 in Beijing → the end of that Beijing day')
  t.same(endOfDay(new Date('2025-10-31T17:00:00Z')).toISOString(), '2025-11-01T16:00:00.000Z', '01:00 the next Beijing day')
  const w = windowOf(new Date('2025-10-31T14:00:00Z'), { offsetDays: 7, days: 30, matter: null })
  t.same([w.from.toISOString(), w.to.toISOString()], ['2025-09-24T16:00:00.000Z', '2025-10-24T16:00:00.000Z'])
})

t.test('rankings sort by any column, unscored last, ties by code; rank change and sparkline', async (t) => {
  const row = (code: string, score: number | null, change: number | null): RankRow => ({ code, name: code, score, grade: null, rank: null, change, cases: 0 })
  const rows = [row('c', 80, 2), row('a', null, null), row('b', 90, -1), row('d', 80, 0)]
  t.same(sortRows(rows, 'score', 'desc').map((r) => r.code), ['b', 'c', 'd', 'a'])
  t.same(sortRows(rows, 'score', 'asc').map((r) => r.code), ['c', 'd', 'b', 'a'], 'unscored stay last ascending too')
  t.same(sortRows(rows, 'change', 'desc').map((r) => r.code), ['c', 'd', 'b', 'a'])
  t.same([changeLabel(3), changeLabel(-2), changeLabel(0), changeLabel(null)], ['↑3', '↓2', '–', ''])
  t.equal(sparkPoints([0, null, 100], 12, 12, 1), '1.0,11.0 11.0,1.0', 'gaps skipped, 0 at the bottom, 100 at the top')
})

t.test('ramps, grades, owner colours; the client picks H3 resolutions as the server does', async (t) => {
  t.same(ramp([[0, 0, 0], [255, 255, 255]], 0.5), [128, 128, 128])
  t.same(ramp([[0, 0, 0], [10, 10, 10]], 7), [10, 10, 10], 'clamped')
  t.same([90, 89.9, 75, 60, 40, 39.9, null].map(gradeOf), ['A', 'B', 'B', 'C', 'D', 'E', null])
  const colours = ownerColours([{ uscc: 'x', owned: 5 }, { uscc: 'y', owned: 50 }, { uscc: 'z', owned: 0 }, { uscc: 'w', owned: 1 }], ['#1', '#2'])
  t.same([...colours], [['y', '#1'], ['x', '#2']], 'largest owners first; owners of nothing get no colour')
  for (let z = 0; z <= 20; z += 0.5) t.equal(resolutionForZoom(z), serverResolution(z), `zoom ${z}`)
})

t.test('URL state keeps the big screen refresh interval', async (t) => {
  t.equal(parseState('#view=leader&refresh=15').refresh, 15)
  t.equal(parseState('#view=leader&refresh=1').refresh, undefined, 'too fast: ignored')
  t.match(formatState(parseState('#view=leader&refresh=15')), /refresh=15/)
})
