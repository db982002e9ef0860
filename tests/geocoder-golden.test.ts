/**
 * Golden files for the edge cases: geocoder/testdata/edge-cases.in.geojson
 * (the cells and the probe points, styled to be opened on a map) →
 * edge-cases.out.geojson (each probe with the cell it went to). Regenerate with
 * REGEN=1 after a deliberate change, and look at the diff.
 */
import t from 'tap'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Feature, FeatureCollection, Geometry } from 'geojson'
import { MemoryCellIndex } from '../geocoder/memory-index.ts'
import { edgeGrid, edgeProbes } from '../geocoder/testing/edge-grid.ts'
import type { CellRecord } from '../geocoder/types.ts'

const DIR = new URL('../geocoder/testdata/', import.meta.url)
const IN = fileURLToPath(new URL('edge-cases.in.geojson', DIR))
const OUT = fileURLToPath(new URL('edge-cases.out.geojson', DIR))
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f']

/** Stable text: 2-space JSON, one feature per line block. */
const text = (fc: FeatureCollection): string => `${JSON.stringify(fc, null, 1)}\n`

function inputCollection(): FeatureCollection {
  const cells: Feature[] = edgeGrid().map((c, i) => ({
    type: 'Feature',
    geometry: c.geometry,
    properties: { code: c.code, community_code: c.communityCode, subdistrict_code: c.subdistrictCode, fill: PALETTE[i % PALETTE.length], 'fill-opacity': 0.4, stroke: '#333' },
  }))
  const probes: Feature[] = edgeProbes().map((p) => ({
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [p.lon, p.lat] },
    properties: { probe: p.name, 'marker-size': 'small' },
  }))
  return { type: 'FeatureCollection', features: [...cells, ...probes] }
}

t.test('edge cases in → out', async (t) => {
  const input = inputCollection()
  if (process.env.REGEN || !existsSync(IN)) writeFileSync(IN, text(input))
  const stored = JSON.parse(readFileSync(IN, 'utf8')) as FeatureCollection
  t.same(stored, input, 'the in file matches geocoder/testing/edge-grid.ts (REGEN=1 to rewrite)')

  const cells: CellRecord[] = stored.features
    .filter((f) => f.geometry.type !== 'Point')
    .map((f) => ({
      code: String(f.properties?.code),
      communityCode: String(f.properties?.community_code),
      subdistrictCode: String(f.properties?.subdistrict_code),
      geometry: f.geometry as CellRecord['geometry'],
    }))
  const index = MemoryCellIndex.build(cells)
  const out: FeatureCollection = {
    type: 'FeatureCollection',
    features: stored.features
      .filter((f) => f.geometry.type === 'Point')
      .map((f) => {
        const [lon, lat] = (f.geometry as Extract<Geometry, { type: 'Point' }>).coordinates
        const r = index.locate(lon, lat)
        return {
          type: 'Feature',
          geometry: f.geometry,
          properties: {
            probe: f.properties?.probe,
            cell: r.code,
            snapped: r.outside ? false : r.snapped,
            outside: r.outside,
            // Rounded so the file does not change with the last bits of the distance arithmetic.
            distance_m: Math.round(r.distanceM * 10) / 10,
            'marker-color': r.outside ? '#000000' : PALETTE[cells.findIndex((c) => c.code === r.code) % PALETTE.length],
          },
        }
      }),
  }
  if (process.env.REGEN || !existsSync(OUT)) writeFileSync(OUT, text(out))
  t.same(JSON.parse(readFileSync(OUT, 'utf8')), out, 'results match the golden file (REGEN=1 to rewrite)')
})
