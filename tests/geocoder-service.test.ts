/**
 * The service's holder: lookups give cell → community → subdistrict, a
 * rebuild swaps the whole index at once (a lookup sees the old grid or the new,
 * never a mix), the last rebuild started wins, and a failed build changes nothing.
 */
import t from 'tap'
import { GeocoderService } from '../geocoder/service.ts'
import { GeocoderError } from '../geocoder/errors.ts'
import { fromWgs84 } from '../geocoder/crs.ts'
import { seededRandom, syntheticGrid } from '../geocoder/synthetic-grid.ts'
import type { CellRecord } from '../geocoder/types.ts'

const gridA = syntheticGrid({ cells: 300, seed: 21, areaKm2: 15 })
/** The same cells renumbered into subdistrict 9xx: every answer tells which grid gave it. */
const gridB: CellRecord[] = gridA.map((c) => ({
  ...c,
  code: `${c.code.slice(0, 6)}9${c.code.slice(7)}`,
  communityCode: `${c.communityCode.slice(0, 6)}9${c.communityCode.slice(7)}`,
  subdistrictCode: `${c.subdistrictCode.slice(0, 6)}9${c.subdistrictCode.slice(7)}`,
}))
const grid = (code: string): 'A' | 'B' => (code[6] === '9' ? 'B' : 'A')

/** Points inside the grids (cell centres of bounding boxes, kept when located). */
function points(n: number): Float64Array {
  const rnd = seededRandom(8)
  const out = new Float64Array(2 * n)
  const ring = gridA[0].geometry.type === 'Polygon' ? gridA[0].geometry.coordinates[0] : gridA[0].geometry.coordinates[0][0]
  const [x0, y0] = ring[0]
  for (let i = 0; i < n; i++) {
    out[2 * i] = x0 + (rnd() - 0.5) * 0.03
    out[2 * i + 1] = y0 + (rnd() - 0.5) * 0.03
  }
  return out
}

t.test('no grid yet: index_not_ready', async (t) => {
  const s = new GeocoderService()
  t.equal(s.current(), null)
  t.same(s.status(), { ready: false, version: null, cells: 0, builtAt: null, buildMs: null, memoryBytes: null })
  try {
    s.locate(116.49, 39.95)
    t.fail('answered without an index')
  } catch (err) {
    t.ok(err instanceof GeocoderError && err.code === 'index_not_ready')
  }
})

t.test('a lookup gives cell → community → subdistrict and the version', async (t) => {
  const s = new GeocoderService({ toleranceM: 30 })
  const snap = s.rebuild(gridA, 1)
  t.equal(snap.version, 1)
  t.equal(snap.cellCount, 300)
  t.ok(snap.memoryBytes > 0 && snap.buildMs >= 0)
  const st = s.status()
  t.equal(st.ready, true)
  t.equal(st.version, 1)
  // Points inside cells, sent again in GCJ-02 as a phone would report them.
  const pts = points(50)
  let checked = 0
  for (let i = 0; i < 50; i++) {
    const [lon, lat] = [pts[2 * i], pts[2 * i + 1]]
    const wgs = s.locate(lon, lat)
    if (wgs.outside || wgs.snapped) continue
    const [gx, gy] = fromWgs84(lon, lat, 'gcj02')
    const gcj = s.locate(gx, gy, 'gcj02')
    if (gcj.code !== wgs.code) t.fail(`GCJ-02 point ${i} landed in ${gcj.code}, not ${wgs.code}`)
    checked++
  }
  t.ok(checked > 10, `${checked} GCJ-02 points land where their WGS84 originals do`)
  const wgs = s.locate(pts[0], pts[1])
  if (wgs.outside) throw new Error('expected a cell')
  t.equal(wgs.communityCode, wgs.code.slice(0, 12))
  t.equal(wgs.subdistrictCode, wgs.code.slice(0, 9))
  t.equal(wgs.version, 1)
})

t.test('a batch running across rebuilds answers from one grid only', async (t) => {
  const s = new GeocoderService()
  s.rebuild(gridA, 1)
  const pts = points(2000)
  // Rebuild to B and back to A between the batch's chunks.
  let swaps = 0
  const flip = (): void => {
    if (swaps >= 6) return
    swaps++
    s.rebuild(swaps % 2 ? gridB : gridA, swaps + 1)
    setImmediate(flip)
  }
  setImmediate(flip)
  const { snapshot, result } = await s.locateManyAsync(pts, { chunk: 100 })
  t.ok(swaps >= 3, `${swaps} rebuilds happened during the batch`)
  t.equal(snapshot.version, 1)
  const seen = new Set<string>()
  for (const c of result.cells) if (c >= 0) seen.add(grid(snapshot.index.codes[c]))
  t.same([...seen], ['A'], 'every chunk answered from grid A')
  t.equal(s.current()?.version, 7)
})

t.test('single lookups during an async rebuild see the old grid, then the new', async (t) => {
  const s = new GeocoderService()
  s.rebuild(gridA, 1)
  const pts = points(200)
  let release = (): void => {}
  const loaded = new Promise<void>((resolve) => (release = resolve))
  const rebuilding = s.rebuildFrom(async () => {
    await loaded
    return { cells: gridB, version: 2 }
  })
  const during: string[] = []
  for (let i = 0; i < 100; i++) {
    const r = s.locate(pts[2 * i], pts[2 * i + 1])
    if (!r.outside) during.push(`${grid(r.code)}${r.version}`)
    await new Promise((resolve) => setImmediate(resolve))
  }
  release()
  await rebuilding
  const after = s.locate(pts[0], pts[1])
  t.ok(during.length > 0 && during.every((x) => x === 'A1'), 'old grid while loading')
  t.equal(after.outside ? null : `${grid(after.code)}${after.version}`, 'B2', 'new grid after the swap')
})

t.test('the last rebuild started wins; a failed one changes nothing', async (t) => {
  const s = new GeocoderService()
  s.rebuild(gridA, 1)
  let releaseSlow = (): void => {}
  const slowLoad = new Promise<void>((resolve) => (releaseSlow = resolve))
  const slow = s.rebuildFrom(async () => {
    await slowLoad
    return { cells: gridA, version: 2 }
  })
  const fast = s.rebuildFrom(async () => ({ cells: gridB, version: 3 }))
  t.equal((await fast)?.version, 3)
  releaseSlow()
  t.equal((await slow)?.version, 3, 'the older rebuild finished later but did not swap')
  t.equal(s.current()?.version, 3)
  const broken = [{ ...gridA[0], geometry: { type: 'Polygon' as const, coordinates: [] } }]
  t.throws(() => s.rebuild(broken, 4))
  t.equal(s.current()?.version, 3, 'still serving version 3')
})
