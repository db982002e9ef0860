/**
 * District, subdistrict and community outlines derived from the cells alone.
 *
 * The grid is a partition: neighbouring cells share their edges vertex for
 * vertex (the import checks overlaps; the generator and PostGIS keep shared
 * edges identical at 7 decimals). So an edge seen once is on the district's
 * outline, and an edge shared by two cells of different communities (or
 * subdistricts) is on that boundary. One pass over ≈ 60,000 edges replaces a
 * polygon union, which the browser would do far more slowly.
 *
 * A grid whose neighbours do not share vertices (a T-junction) would show
 * stray outline segments there; when the API serves the outlines themselves
 * (vector tiles), this module becomes a fallback.
 */
import type { Feature, FeatureCollection, MultiLineString, Position } from 'geojson'
import type { CellCollection } from '../types.ts'

export type BoundaryLevel = 'district' | 'subdistrict' | 'community'

export interface BoundaryProperties { level: BoundaryLevel }

export type Boundaries = FeatureCollection<MultiLineString, BoundaryProperties>

interface EdgeOwner { community: string; subdistrict: string; a: Position; b: Position; count: number }

const key = (p: Position): string => `${p[0]},${p[1]}`

/**
 * The boundary lines of a cell collection, one MultiLineString per level; a
 * subdistrict boundary is also a community boundary but is only drawn once, at
 * the higher level.
 * @example
 * const b = boundaries(cells) // b.features.map(f => f.properties.level) → ['district', 'subdistrict', 'community']
 */
export function boundaries(cells: CellCollection): Boundaries {
  const edges = new Map<string, EdgeOwner>()
  for (const f of cells.features) {
    const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates
    const { community_code: community, subdistrict_code: subdistrict } = f.properties
    for (const poly of polys) {
      for (const ring of poly) {
        for (let i = 0; i + 1 < ring.length; i++) {
          const a = ring[i]
          const b = ring[i + 1]
          const ka = key(a)
          const kb = key(b)
          if (ka === kb) continue
          const k = ka < kb ? `${ka}|${kb}` : `${kb}|${ka}`
          const seen = edges.get(k)
          if (!seen) {
            edges.set(k, { community, subdistrict, a, b, count: 1 })
          } else {
            seen.count++
            // Mark the edge by what separates its two cells; 'same' edges are interior.
            if (seen.subdistrict !== subdistrict) seen.subdistrict = '\u0000'
            else if (seen.community !== community) seen.community = '\u0000'
          }
        }
      }
    }
  }
  const lines: Record<BoundaryLevel, Position[][]> = { district: [], subdistrict: [], community: [] }
  for (const e of edges.values()) {
    if (e.count === 1) lines.district.push([e.a, e.b])
    else if (e.subdistrict === '\u0000') lines.subdistrict.push([e.a, e.b])
    else if (e.community === '\u0000') lines.community.push([e.a, e.b])
  }
  const feature = (level: BoundaryLevel): Feature<MultiLineString, BoundaryProperties> => ({
    type: 'Feature',
    properties: { level },
    geometry: { type: 'MultiLineString', coordinates: chain(lines[level]) },
  })
  return { type: 'FeatureCollection', features: [feature('district'), feature('subdistrict'), feature('community')] }
}

/**
 * Joins two-point segments into longer lines where they meet end to end, so
 * the renderer draws continuous strokes with proper joins instead of 10,000
 * separate dashes.
 */
export function chain(segments: Position[][]): Position[][] {
  const byStart = new Map<string, number[]>()
  segments.forEach((s, i) => {
    for (const p of [s[0], s[1]]) {
      const k = key(p)
      const list = byStart.get(k)
      if (list) list.push(i)
      else byStart.set(k, [i])
    }
  })
  const used = new Uint8Array(segments.length)
  const next = (p: Position): Position | undefined => {
    const list = byStart.get(key(p))
    if (!list) return undefined
    for (const i of list) {
      if (used[i]) continue
      used[i] = 1
      const s = segments[i]
      return key(s[0]) === key(p) ? s[1] : s[0]
    }
    return undefined
  }
  const out: Position[][] = []
  for (let i = 0; i < segments.length; i++) {
    if (used[i]) continue
    used[i] = 1
    const line = [segments[i][0], segments[i][1]]
    for (let p = next(line[line.length - 1]); p; p = next(line[line.length - 1])) line.push(p)
    const head: Position[] = []
    for (let p = next(line[0]); p; p = next(head.length ? head[head.length - 1] : line[0])) head.push(p)
    out.push(head.reverse().concat(line))
  }
  return out
}
