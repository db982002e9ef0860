/** Small hand-built grids for tests: squares near Chaoyang's centre with real-looking codes. */
import type { Feature, FeatureCollection, Polygon } from 'geojson'

export const ORIGIN: [number, number] = [116.49, 39.95]
/** ≈ 100 m in degrees at 40° N. */
export const STEP = 0.001

export interface CellSpec {
  code: string
  /** Column and row of the square, from ORIGIN eastward and southward. */
  col: number
  row: number
  community_name?: string
  subdistrict_name?: string
}

export function square(col: number, row: number, size = STEP): Polygon {
  const x = Math.round((ORIGIN[0] + col * size) * 1e7) / 1e7
  const y = Math.round((ORIGIN[1] - row * size) * 1e7) / 1e7
  const x2 = Math.round((x + size) * 1e7) / 1e7
  const y2 = Math.round((y - size) * 1e7) / 1e7
  return { type: 'Polygon', coordinates: [[[x, y2], [x2, y2], [x2, y], [x, y], [x, y2]]] }
}

export function cellFeature(spec: CellSpec, geometry: Polygon = square(spec.col, spec.row)): Feature {
  return {
    type: 'Feature',
    geometry,
    properties: {
      code: spec.code,
      community_name: spec.community_name ?? `社区${spec.code.slice(9, 12)}`,
      subdistrict_name: spec.subdistrict_name ?? `街道${spec.code.slice(6, 9)}`,
      district_name: '朝阳区',
    },
  }
}

/**
 * A 3 × 2 block of 100 m squares: two communities of one subdistrict, three cells each,
 * numbered west→east, north→south.
 */
export function smallGrid(): FeatureCollection {
  const specs: CellSpec[] = [
    { code: '110105001001001', col: 0, row: 0 },
    { code: '110105001001002', col: 1, row: 0 },
    { code: '110105001001003', col: 2, row: 0 },
    { code: '110105001002001', col: 0, row: 1 },
    { code: '110105001002002', col: 1, row: 1 },
    { code: '110105001002003', col: 2, row: 1 },
  ]
  return { type: 'FeatureCollection', features: specs.map((s) => cellFeature(s)) }
}
