/**
 * Regenerate on the real fixture grid (8,423 Voronoi cells, 495 communities),
 * as a pure function: 18 communities — the eight the first regenerate left
 * gaps or overlaps in, the longest stretches of the district's outline, the
 * most irregular outlines, and a spread — each in squares and in H3 hexagons
 * at 1.5 × the community's mean cell area. Every result goes through the
 * change-set validation a draft gets (grids/redraw/validate.ts, default area
 * bounds, 0.5 m² tolerance) against the untouched cells around it, and must
 * pass with no problem at all; the community keeps its ground (planar, to
 * 0.5 m²), every old cell (a block of the fixture) has a new cell over its
 * interior, every new cell is one polygon of its community with a new code.
 */
import t from 'tap'
import { ArrayContext } from '../grids/redraw/context.ts'
import { applyOperation } from '../grids/redraw/operations.ts'
import { emptyDraft, fold, type BaseCell } from '../grids/redraw/changeset.ts'
import { DEFAULT_AREA_BOUNDS, DEFAULT_TOLERANCE_M2, validateDraft } from '../grids/redraw/validate.ts'
import { areaM2, cellInterior, latticeBBox, latticeRings } from '../grids/redraw/geometry.ts'
import { h3Resolution } from '../grids/redraw/regenerate.ts'
import { insideRings } from '../grids/redraw/planar.ts'
import type { RedrawCell, RegenerateShape } from '../grids/redraw/types.ts'
import { fixtureCells, latticeArea, pickCommunities } from './helpers/fixture-communities.ts'

const cells = await fixtureCells()
const byCode = new Map(cells.map((c) => [c.code, c]))
const picks = pickCommunities(cells)
const index = new ArrayContext(cells)
t.ok(picks.length >= 18, `${picks.length} communities`)

t.test('H3 resolution nearest the target area on a ratio scale', async (t) => {
  t.equal(h3Resolution(15_000), 10)
  t.equal(h3Resolution(50_000), 9, '105,333 m² (2.1×) rather than 15,048 m² (3.3×)')
  t.equal(h3Resolution(700_000), 8)
})

const timings: number[] = []
for (const shape of ['square', 'h3'] as RegenerateShape[]) {
  for (const { community, why } of picks) {
    t.test(`${community} (${why}) in ${shape === 'h3' ? 'H3 hexagons' : 'squares'}`, async (t) => {
      const old = index.communityCells(community)
      const target = Math.round((1.5 * old.reduce((s, c) => s + areaM2(c.geometry), 0)) / old.length)
      const t0 = performance.now()
      const result = applyOperation({ type: 'regenerate', community, target_area_m2: target, shape }, new ArrayContext(cells))
      timings.push(performance.now() - t0)

      const state = emptyDraft()
      const base: BaseCell[] = [...result.removed, ...result.upserted.map((c) => c.code)]
        .filter((code) => byCode.has(code)).map((code) => ({ ...(byCode.get(code) as RedrawCell), version: 1 }))
      fold(state, 0, result, base)
      const boxes = base.map((c) => latticeBBox(c.geometry))
      const around = index.near([Math.min(...boxes.map((b) => b[0])) - 1000, Math.min(...boxes.map((b) => b[1])) - 1000, Math.max(...boxes.map((b) => b[2])) + 1000, Math.max(...boxes.map((b) => b[3])) + 1000])
        .filter((c) => !state.base.has(c.code))
      const problems = validateDraft(state, around, { ...DEFAULT_AREA_BOUNDS, toleranceM2: DEFAULT_TOLERANCE_M2, isRetired: (c) => byCode.has(c) })
      t.same(problems, [], 'passes the change-set validation: every cell valid, no gap, overlap or spill beyond 0.5 m², codes and areas in order')

      const fresh = result.upserted.filter((c) => c.community === community)
      const stitched = result.upserted.filter((c) => c.community !== community)
      t.same(result.removed.sort(), old.map((c) => c.code).sort(), 'every old cell of the community is retired')
      t.ok(fresh.length >= 1 && fresh.every((c) => /^[0-9]{15}$/.test(c.code) && c.code.startsWith(community) && !byCode.has(c.code)), `${fresh.length} new cells with new codes of the community`)
      t.ok(fresh.every((c) => c.geometry.type === 'Polygon'), 'each new cell is one polygon')
      t.ok(stitched.every((c) => byCode.has(c.code)), 'neighbours only get vertices, keep their codes')
      const m2PerUnit2 = (111_320 / 1e7) ** 2 * Math.cos((39.95 * Math.PI) / 180)
      const before = [...state.base.values()].reduce((s, c) => s + latticeArea(c), 0) * m2PerUnit2
      const after = [...state.current.values()].reduce((s, c) => s + latticeArea(c), 0) * m2PerUnit2
      t.ok(Math.abs(before - after) < 0.5, `ground kept: ${before.toFixed(2)} → ${after.toFixed(2)} m²`)
      const uncovered = old.filter((c) => {
        const [x, y] = cellInterior(c.geometry)
        return !fresh.some((n) => insideRings(x, y, latticeRings(n.geometry)))
      })
      t.same(uncovered.map((c) => c.code), [], 'every old cell (a block of the fixture) has a new cell over its interior')
    })
  }
}

t.test('timing', async (t) => {
  const sorted = [...timings].sort((a, b) => a - b)
  t.comment(`regenerate on ${timings.length} fixture communities: median ${sorted[sorted.length >> 1].toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms`)
  t.ok(sorted.length === picks.length * 2)
})
