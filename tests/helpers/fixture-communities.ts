/**
 * Communities of the Chaoyang fixture grid that exercise regenerate: on the
 * district's outline (long rural edges with nothing across them), the most
 * irregular outlines, the ones the first regenerate got wrong, and a spread
 * across the district. Read from the fixture file, so the pure tests and the
 * API tests (whose template database loads the same file) pick the same ones.
 */
import type { Polygon, MultiPolygon } from 'geojson'
import { chaoyangGridText } from '../../fixtures/load.ts'
import { latticeRings } from '../../grids/redraw/geometry.ts'
import { ringArea2 } from '../../grids/redraw/planar.ts'
import type { RedrawCell } from '../../grids/redraw/types.ts'

export interface Pick { community: string; why: string }

/**
 * Communities where the first regenerate left a gap or overlap beyond 0.5 m²
 * (nearest-point crossings on long district-boundary edges, a tile corner on
 * the outline) at 1.5 × their mean cell area.
 */
export const REGRESSIONS = ['110105005006', '110105028009', '110105028010', '110105227007', '110105230010', '110105236002', '110105236003', '110105237003'] as const

export async function fixtureCells(): Promise<RedrawCell[]> {
  const fc = JSON.parse(await chaoyangGridText()) as { features: { geometry: Polygon | MultiPolygon; properties: { code: string } }[] }
  return fc.features.map((f) => ({ code: f.properties.code, community: f.properties.code.slice(0, 12), geometry: f.geometry, responsibleUnit: null }))
}

/** Planar area of a cell, lattice units² (exact; for comparing before and after). */
export const latticeArea = (c: RedrawCell): number => latticeRings(c.geometry).reduce((s, r) => s + ringArea2(r), 0) / 2

/** About `count` communities: the regressions, then boundary, irregular and spread picks, each community once. */
export function pickCommunities(cells: RedrawCell[], count = 18): Pick[] {
  const byCommunity = new Map<string, RedrawCell[]>()
  for (const c of cells) {
    const list = byCommunity.get(c.community) ?? []
    list.push(c)
    byCommunity.set(c.community, list)
  }
  // Edges used by one cell only lie on the district's outline (the fixture's neighbours share their vertices).
  const uses = new Map<string, number>()
  const edges = (c: RedrawCell): { k: string; len: number }[] => latticeRings(c.geometry).flatMap((r) => r.map((a, i) => {
    const b = r[(i + 1) % r.length]
    const [p, q] = [`${a[0]},${a[1]}`, `${b[0]},${b[1]}`].sort()
    return { k: `${p}|${q}`, len: Math.hypot(b[0] - a[0], b[1] - a[1]) }
  }))
  for (const c of cells) for (const e of edges(c)) uses.set(e.k, (uses.get(e.k) ?? 0) + 1)
  const outerLength = new Map<string, number>()
  const perimeter = new Map<string, number>()
  for (const [community, list] of byCommunity) {
    const inside = new Map<string, number>()
    for (const c of list) for (const e of edges(c)) inside.set(e.k, (inside.get(e.k) ?? 0) + 1)
    let outer = 0
    let per = 0
    for (const c of list) {
      for (const e of edges(c)) {
        if (uses.get(e.k) === 1) outer += e.len
        if (inside.get(e.k) === 1) per += e.len
      }
    }
    outerLength.set(community, outer)
    const area = list.reduce((s, c) => s + latticeArea(c), 0)
    perimeter.set(community, (per * per) / (4 * Math.PI * area))
  }
  const picks: Pick[] = []
  const add = (community: string, why: string): void => { if (!picks.some((p) => p.community === community)) picks.push({ community, why }) }
  for (const c of REGRESSIONS) add(c, 'failed before the fix')
  const communities = [...byCommunity.keys()].sort()
  const share = Math.max(1, Math.ceil((count - picks.length) / 3))
  for (const c of [...communities].sort((a, b) => (outerLength.get(b) ?? 0) - (outerLength.get(a) ?? 0)).slice(0, share)) add(c, 'longest stretch of the district outline')
  for (const c of [...communities].sort((a, b) => (perimeter.get(b) ?? 0) - (perimeter.get(a) ?? 0)).slice(0, share)) add(c, 'most irregular outline (perimeter² / 4π·area)')
  const step = Math.floor(communities.length / share)
  for (let i = step >> 1; picks.length < count; i = (i + step + 1) % communities.length) add(communities[i], 'spread across the district')
  return picks
}
