/**
 * Case-density heatmaps: counts per H3 cell at a resolution fitted to the map
 * zoom, or per grid cell, as two parallel arrays (keys and counts) — at the
 * finest resolution the whole district is ≈ 30,000 hexagons, so a bbox trims
 * what a zoomed-in map does not show.
 */
import { cellToLatLng } from 'h3-js'
import { BASE_RES, MIN_RES, type CaseStore, type HeatFilter, type HeatTarget } from './case-store.ts'

/**
 * The resolution whose hexagons are ≈ 10–30 px across at a zoom: metres per
 * pixel at Beijing's latitude are 119,900 / 2^zoom, and H3 edges run from
 * 3.7 km (res 6) to 76 m (res 10), a factor ≈ 2.65 per step, a bit more than a zoom level.
 * @example resolutionForZoom(12) // 8
 */
export function resolutionForZoom(zoom: number): number {
  if (zoom <= 9) return MIN_RES
  if (zoom < 12) return 7
  if (zoom < 13) return 8
  if (zoom < 14) return 9
  return BASE_RES
}

export interface HeatQuery extends HeatFilter {
  target: HeatTarget
  bbox?: [number, number, number, number] | null
}

export interface Heatmap {
  target: 'h3' | 'cell'
  resolution: number | null
  /** Sum of the counts returned (weighted); total over the whole district when no bbox. */
  total: number
  max: number
  keys: string[]
  counts: number[]
}

export function heatmap(store: CaseStore, q: HeatQuery): Heatmap {
  let { keys, values } = store.aggregate(q, q.target)
  if (q.bbox && q.target.kind === 'h3') {
    const [x0, y0, x1, y1] = q.bbox
    const k2: string[] = []
    const v2: number[] = []
    keys.forEach((k, i) => {
      const [lat, lon] = cellToLatLng(k)
      if (lon >= x0 && lon <= x1 && lat >= y0 && lat <= y1) { k2.push(k); v2.push(values[i]) }
    })
    keys = k2
    values = v2
  }
  let total = 0
  let max = 0
  for (const v of values) { total += v; if (v > max) max = v }
  return { target: q.target.kind, resolution: q.target.kind === 'h3' ? q.target.res : null, total, max, keys, counts: values }
}
