/**
 * Golden tests of the redraw operations (grids/redraw/): each directory under
 * tests/golden/redraw/ holds in.geojson (cells, and the operation as the
 * foreign member `operation`, drawn as a red feature) and out.geojson (the
 * grid after it, coloured by change, or the error). REGEN=1 rewrites the
 * out files; open them on a map to check by eye.
 *
 * Besides the golden comparison, every successful result must pass the
 * change-set validation: no overlap, no gap, nothing taken from outside.
 */
import t from 'tap'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import type { Feature, FeatureCollection, LineString, Polygon, MultiPolygon } from 'geojson'
import { ArrayContext } from '../grids/redraw/context.ts'
import { applyOperation } from '../grids/redraw/operations.ts'
import { emptyDraft, fold, type BaseCell } from '../grids/redraw/changeset.ts'
import { validateDraft } from '../grids/redraw/validate.ts'
import { RedrawError, type OpResult, type RedrawCell, type RedrawOp } from '../grids/redraw/types.ts'
import { areaM2 } from '../grids/redraw/geometry.ts'

const DIR = new URL('./golden/redraw/', import.meta.url)
const REGEN = process.env.REGEN === '1'

interface GoldenIn extends FeatureCollection { description: string; operation: RedrawOp; issued?: string[] }

const FILL = { added: '#2ca02c', reshaped: '#ff7f0e', unchanged: '#c7c7c7' } as const

function cellsOf(fc: FeatureCollection): RedrawCell[] {
  return fc.features.filter((f) => f.properties?.role !== 'operation').map((f) => ({
    code: String(f.properties?.code),
    community: String(f.properties?.code).slice(0, 12),
    geometry: f.geometry as Polygon | MultiPolygon,
    responsibleUnit: typeof f.properties?.responsible_unit === 'string' ? f.properties.responsible_unit : null,
  }))
}

function render(input: GoldenIn, before: RedrawCell[], result: OpResult): FeatureCollection & Record<string, unknown> {
  const after = new Map(before.map((c) => [c.code, c]))
  for (const code of result.removed) after.delete(code)
  for (const c of result.upserted) after.set(c.code, c)
  const was = new Set(before.map((c) => c.code))
  const changed = new Set(result.upserted.map((c) => c.code))
  const features: Feature[] = [...after.values()].sort((a, b) => a.code.localeCompare(b.code)).map((c) => {
    const change = !was.has(c.code) ? 'added' : changed.has(c.code) ? 'reshaped' : 'unchanged'
    return {
      type: 'Feature',
      geometry: c.geometry,
      properties: {
        code: c.code, community: c.community, ...(c.responsibleUnit ? { responsible_unit: c.responsibleUnit } : {}),
        change, area_m2: Math.round(areaM2(c.geometry)), fill: FILL[change], 'fill-opacity': 0.5, stroke: '#333333',
      },
    }
  })
  const blade = input.features.filter((f) => f.properties?.role === 'operation')
  return { type: 'FeatureCollection', description: input.description, removed: [...result.removed].sort(), features: [...features, ...blade] }
}

const cases = readdirSync(DIR).filter((d) => existsSync(new URL(`${d}/in.geojson`, DIR))).sort()
t.ok(cases.length >= 25, `golden cases found: ${cases.length}`)

for (const name of cases) {
  t.test(name, async (t) => {
    const input = JSON.parse(readFileSync(new URL(`${name}/in.geojson`, DIR), 'utf8')) as GoldenIn
    const cells = cellsOf(input)
    const ctx = new ArrayContext(cells, input.issued ?? [])
    let out: Record<string, unknown>
    let result: OpResult | null = null
    try {
      result = applyOperation(input.operation, ctx)
      out = render(input, cells, result)
    } catch (err) {
      if (!(err instanceof RedrawError)) throw err
      out = { type: 'FeatureCollection', description: input.description, error: { code: err.code, field: err.field, cell: err.cell, message: err.message }, features: [] }
    }
    const file = new URL(`${name}/out.geojson`, DIR)
    const text = JSON.stringify(out, null, 1) + '\n'
    if (REGEN || !existsSync(file)) writeFileSync(file, text)
    t.same(JSON.parse(text), JSON.parse(readFileSync(file, 'utf8')), 'matches out.geojson')
    const expectError = /outside|ends-inside|self-intersecting|along-edge|non-adjacent|corner-touch|unsaid|boundary-three-parts|not-adjacent|unknown|too-small|covers-cell/.test(name)
    t.equal(result === null, expectError, expectError ? 'refused' : 'applied')
    if (!result) return

    // The result passes the change-set validation against the untouched cells.
    const state = emptyDraft()
    const byCode = new Map(cells.map((c) => [c.code, c]))
    const base: BaseCell[] = [...result.removed, ...result.upserted.map((c) => c.code)]
      .filter((code) => byCode.has(code)).map((code) => ({ ...(byCode.get(code) as RedrawCell), version: 1 }))
    fold(state, 0, result, base)
    const neighbours = cells.filter((c) => !state.base.has(c.code))
    // Far stricter than the 0.5 m² the change sets allow: the operations leave no slivers at all.
    const problems = validateDraft(state, neighbours, { minAreaM2: 0, maxAreaM2: Infinity, toleranceM2: 0.01, isRetired: (c) => (input.issued ?? []).includes(c) })
    t.same(problems, [], 'no overlap, gap or bad code after the operation')
    const before = [...state.base.values()].reduce((s, c) => s + areaM2(c.geometry), 0)
    const after = [...state.current.values()].reduce((s, c) => s + areaM2(c.geometry), 0)
    t.ok(Math.abs(before - after) < 0.5, `area kept: ${before.toFixed(2)} → ${after.toFixed(2)} m²`)
  })
}

t.test('validation finds what an operation could get wrong', async (t) => {
  const input = JSON.parse(readFileSync(new URL('split-line-straight/in.geojson', DIR), 'utf8')) as GoldenIn
  const cells = cellsOf(input)
  const byCode = new Map(cells.map((c) => [c.code, c]))
  const a = byCode.get('110105001001001') as RedrawCell
  const state = emptyDraft()
  // Cell 001 pushed 10 m (0.0001°) east over its neighbour: overlap there, gap on its west side.
  const shifted = (a.geometry as Polygon).coordinates[0].map(([x, y]) => [Math.round((x + 0.0001) * 1e7) / 1e7, y])
  fold(state, 3, { removed: [], upserted: [{ ...a, geometry: { type: 'Polygon', coordinates: [shifted] } }] }, [{ ...a, version: 1 }])
  const problems = validateDraft(state, cells.filter((c) => c.code !== a.code), { minAreaM2: 10_000, maxAreaM2: Infinity, isRetired: () => false })
  const kinds = problems.map((p) => `${p.error}:${p.cell}:${p.operation}`).sort()
  t.same(kinds, ['area_too_small:110105001001001:3', 'gap:110105001001001:null', 'overlapping_cells:110105001001001:3'])
  const overlap = problems.find((p) => p.error === 'overlapping_cells')
  t.match(overlap?.reason, /overlaps cell 110105001001002 by 9\d\d\.\d\d m²/, 'the overlap is 10 m × 111 m ≈ 950 m²')

  // A bow-tie is not a valid cell; a retired code may not come back.
  const bow: LineString = { type: 'LineString', coordinates: [[116.49, 39.95], [116.491, 39.949], [116.491, 39.95], [116.49, 39.949], [116.49, 39.95]] }
  const s2 = emptyDraft()
  fold(s2, 0, { removed: [], upserted: [{ code: '110105001001009', community: '110105001001', geometry: { type: 'Polygon', coordinates: [bow.coordinates] }, responsibleUnit: null }] }, [])
  const p2 = validateDraft(s2, [], { minAreaM2: 0, maxAreaM2: Infinity, isRetired: (c) => c === '110105001001009' })
  t.same(p2.map((p) => p.error).sort(), ['invalid_geometry', 'retired_code'])
  t.match(p2.find((p) => p.error === 'invalid_geometry')?.reason, /crosses itself/)
})
