/**
 * The grid as the client holds it: the cells from /api/cells, indexed by code,
 * and what is derived from them (outlines, label points). Until the API serves
 * vector tiles this is the whole district in memory: ≈ 5 MB of GeoJSON for
 * 8,423 cells, parsed once.
 *
 * Derivation waits for the next task, so the cells reach the map's worker
 * first and are tiled there while the outlines are computed here.
 */
import type { FeatureCollection } from 'geojson'
import { boundaries, type Boundaries } from './lib/boundaries.ts'
import { bbox, centroid, extend, labelPoint, type BBox } from './lib/geometry.ts'
import type { CellCollection, CellFeature, CellGeometry } from './types.ts'

/** A place name and where to write it; `area` (m²) ranks names when they compete for space. */
export interface Label { code: string; name: string; position: [number, number]; area: number }

/** What the map's worker needs of a cell: the code (feature id) and the subdistrict (fill colour). */
export interface LeanCellProperties { code: string; subdistrict_code: string }

export interface Outlines {
  boundaries: Boundaries
  subdistrictLabels: Label[]
  communityLabels: Label[]
}

export interface Grid {
  cells: CellCollection
  /** The cells with only the properties the style reads: a third of the data to copy to and tile in the worker. */
  lean: FeatureCollection<CellGeometry, LeanCellProperties>
  byCode: Map<string, CellFeature>
  bounds: BBox
  /** District, subdistrict and community outlines and label points, computed after the cells are on their way to the map. */
  outlines: Promise<Outlines>
}

function labels(cells: CellFeature[], code: (f: CellFeature) => string, name: (f: CellFeature) => string): Label[] {
  const groups = new Map<string, { name: string; members: { centroid: [number, number]; area: number }[] }>()
  for (const f of cells) {
    const k = code(f)
    let g = groups.get(k)
    if (!g) {
      g = { name: name(f), members: [] }
      groups.set(k, g)
    }
    g.members.push({ centroid: centroid(f.geometry), area: f.properties.area_m2 })
  }
  return [...groups]
    .map(([k, g]) => ({ code: k, name: g.name, position: labelPoint(g.members), area: g.members.reduce((s, m) => s + m.area, 0) }))
    .sort((a, b) => b.area - a.area)
}

export function deriveOutlines(cells: CellCollection): Outlines {
  return {
    boundaries: boundaries(cells),
    subdistrictLabels: labels(cells.features, (f) => f.properties.subdistrict_code, (f) => f.properties.subdistrict_name),
    communityLabels: labels(cells.features, (f) => f.properties.community_code, (f) => f.properties.community_name),
  }
}

export function buildGrid(cells: CellCollection): Grid {
  const byCode = new Map<string, CellFeature>()
  const bounds: BBox = [Infinity, Infinity, -Infinity, -Infinity]
  const lean: Grid['lean'] = { type: 'FeatureCollection', features: [] }
  for (const f of cells.features) {
    byCode.set(f.properties.code, f)
    const b = bbox(f.geometry)
    extend(bounds, [b[0], b[1]])
    extend(bounds, [b[2], b[3]])
    lean.features.push({ type: 'Feature', geometry: f.geometry, properties: { code: f.properties.code, subdistrict_code: f.properties.subdistrict_code } })
  }
  const outlines = new Promise<Outlines>((resolve, reject) => {
    setTimeout(() => {
      try {
        resolve(deriveOutlines(cells))
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)))
      }
    }, 0)
  })
  return { cells, lean, byCode, bounds, outlines }
}
