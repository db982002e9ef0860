/**
 * Validates a change set as a whole, before it may be committed:
 * - every new or reshaped cell is a valid polygon with a well-formed code
 *   (15 digits, its community's prefix) that was never retired;
 * - its area lies within the configured bounds;
 * - no two cells overlap, and the new cells cover exactly the ground the
 *   old ones did — no gap left, nothing outside taken — each beyond
 *   `toleranceM2` (0.5 m² by default).
 * All checks run on one planar arrangement of the old, new and neighbouring
 * cells, so they are local to the change and cost nothing for the rest of
 * the district. PostGIS checks validity and overlaps again at commit.
 */
import { area as turfArea } from '@turf/turf'
import { parseCellCode } from '../codes.ts'
import { arrange, fromLattice, insideRings, SCALE, type Face, type LPoint } from './planar.ts'
import { areaM2, latticeBBox, latticeRings, selfIntersection } from './geometry.ts'
import type { DraftState } from './changeset.ts'
import { RedrawErrorCode, type CellGeometry, type RedrawCell } from './types.ts'

export interface ValidationOptions {
  /** Smallest cell allowed, m². */
  minAreaM2: number
  /** Largest cell allowed, m². */
  maxAreaM2: number
  /** Overlaps and gaps up to this are rounding, not errors, m². */
  toleranceM2?: number
  /** Was this code issued once and retired? */
  isRetired(code: string): boolean
}

/**
 * Default cell-area bounds: 1,000 m² (a courtyard block; the fixture's smallest
 * urban cells are ≈ 2,000 m²) to 5 km² (above the fixture's largest rural cell).
 */
export const DEFAULT_AREA_BOUNDS = { minAreaM2: 1_000, maxAreaM2: 5_000_000 } as const
/** Overlaps and gaps up to 0.5 m² are tolerated (issue 8). */
export const DEFAULT_TOLERANCE_M2 = 0.5

export interface ChangeProblem {
  /** The operation (from 0) that produced the cell, or null. */
  operation: number | null
  cell: string | null
  field: string
  error: string
  reason: string
  /** Area concerned, m² (overlaps, gaps, bounds). */
  area_m2?: number
  /** [lon, lat] of a point in the problem area. */
  at?: [number, number]
}

/** The reason a cell geometry is not a valid polygon, or null. */
export function geometryProblem(g: CellGeometry): string | null {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : null
  if (!polys || !polys.length) return 'not a Polygon or MultiPolygon'
  for (const [pi, poly] of polys.entries()) {
    if (!poly.length) return `polygon ${pi} has no rings`
    const rings = latticeRings({ type: 'Polygon', coordinates: poly })
    for (const [ri, ring] of rings.entries()) {
      const distinct = new Set(ring.map((p) => `${p[0]},${p[1]}`)).size
      if (distinct < 3) return `ring ${ri} of polygon ${pi} has fewer than 3 distinct corners`
      const x = selfIntersection(ring, true)
      if (x) return `ring ${ri} of polygon ${pi} crosses itself near [${fromLattice(x).join(', ')}]`
    }
    if (turfArea({ type: 'Polygon', coordinates: poly }) <= 0) return `polygon ${pi} has no area`
  }
  return null
}

/**
 * Everything wrong with the draft. `neighbours` are active cells near the
 * change that the draft did not touch (what new cells must not overlap).
 */
export function validateDraft(state: DraftState, neighbours: RedrawCell[], opts: ValidationOptions): ChangeProblem[] {
  const tol = opts.toleranceM2 ?? DEFAULT_TOLERANCE_M2
  const problems: ChangeProblem[] = []
  const opOf = (code: string): number | null => state.origin.get(code) ?? null
  const current = [...state.current.values()]
  let geometryOk = true
  for (const c of current) {
    const p = parseCellCode(c.code)
    if ('error' in p) problems.push({ operation: opOf(c.code), cell: c.code, field: 'code', error: RedrawErrorCode.invalidCode, reason: p.error })
    else if (p.community !== c.community) {
      problems.push({ operation: opOf(c.code), cell: c.code, field: 'code', error: RedrawErrorCode.invalidCode, reason: `code ${c.code} does not start with its community ${c.community}` })
    }
    if (!state.base.has(c.code) && opts.isRetired(c.code)) {
      problems.push({ operation: opOf(c.code), cell: c.code, field: 'code', error: RedrawErrorCode.retiredCode, reason: `code ${c.code} was retired and is never issued again` })
    }
    const why = geometryProblem(c.geometry)
    if (why) {
      geometryOk = false
      problems.push({ operation: opOf(c.code), cell: c.code, field: 'geometry', error: RedrawErrorCode.invalidGeometry, reason: why })
      continue
    }
    const a = areaM2(c.geometry)
    if (a < opts.minAreaM2) problems.push({ operation: opOf(c.code), cell: c.code, field: 'geometry', error: RedrawErrorCode.areaTooSmall, reason: `${a.toFixed(1)} m² is below the minimum of ${opts.minAreaM2} m²`, area_m2: round1(a) })
    if (a > opts.maxAreaM2) problems.push({ operation: opOf(c.code), cell: c.code, field: 'geometry', error: RedrawErrorCode.areaTooLarge, reason: `${a.toFixed(1)} m² is above the maximum of ${opts.maxAreaM2} m²`, area_m2: round1(a) })
  }
  // Overlap and coverage need valid rings.
  if (geometryOk) problems.push(...coverage(state, neighbours, tol))
  return problems
}

const round1 = (v: number): number => Math.round(v * 10) / 10

/**
 * Area of an arrangement face in m², planar on the lattice (exact integer
 * arithmetic) scaled at the face's latitude. Cells are straight-edged lon/lat
 * polygons, so the ground between two of them is measured the same way: a
 * spherical formula (Turf's) gives a triangle whose third corner lies within
 * a thousandth of a millimetre of a 600 m diagonal edge 0.5 m² — the chord of
 * that edge bends in its equal-area projection — and reported every vertex
 * put on the district's outline as a gap.
 */
function faceM2(f: Face): number {
  const lat = (f.inside[1] / SCALE) * (Math.PI / 180)
  return f.area * (METRES_PER_DEGREE / SCALE) ** 2 * Math.cos(lat)
}
/** Metres per degree of latitude (and of longitude at the equator) on the authalic sphere. */
const METRES_PER_DEGREE = (2 * Math.PI * 6_371_007.2) / 360

interface Member { code: string; kind: 'base' | 'current' | 'neighbour'; rings: LPoint[][]; box: [number, number, number, number] }

function coverage(state: DraftState, neighbours: RedrawCell[], tol: number): ChangeProblem[] {
  const members: Member[] = []
  const add = (c: RedrawCell, kind: Member['kind']): void => { members.push({ code: c.code, kind, rings: latticeRings(c.geometry), box: latticeBBox(c.geometry) }) }
  for (const c of state.base.values()) add(c, 'base')
  for (const c of state.current.values()) add(c, 'current')
  for (const c of neighbours) if (!state.base.has(c.code) && !state.current.has(c.code)) add(c, 'neighbour')
  if (!members.some((m) => m.kind === 'current' || m.kind === 'base')) return []
  const arr = arrange(members.flatMap((m) => m.rings.map((points) => ({ points, closed: true }))))
  const overlaps = new Map<string, { area: number; at: [number, number]; a: string; b: string }>()
  const gaps = new Map<string, { area: number; at: [number, number]; largest: number }>()
  const spills = new Map<string, { area: number; at: [number, number]; largest: number }>()
  for (const f of arr.faces) {
    const [x, y] = f.inside
    const inside = members.filter((m) => x > m.box[0] && x < m.box[2] && y > m.box[1] && y < m.box[3] && insideRings(x, y, m.rings))
    const base = inside.filter((m) => m.kind === 'base')
    const now = inside.filter((m) => m.kind !== 'base')
    const cur = now.filter((m) => m.kind === 'current')
    if (!base.length && !cur.length) continue
    const m2 = faceM2(f)
    const at = fromLattice([x, y]) as [number, number]
    const bump = (map: Map<string, { area: number; at: [number, number]; largest: number }>, k: string): void => {
      const e = map.get(k)
      if (!e) map.set(k, { area: m2, at, largest: m2 })
      else {
        e.area += m2
        if (m2 > e.largest) { e.largest = m2; e.at = at }
      }
    }
    if (cur.length && now.length >= 2) {
      for (let i = 0; i < now.length; i++) {
        for (let j = i + 1; j < now.length; j++) {
          const [a, b] = [now[i].code, now[j].code].sort()
          const k = `${a}|${b}`
          const e = overlaps.get(k)
          if (!e) overlaps.set(k, { area: m2, at, a, b })
          else e.area += m2
        }
      }
    }
    if (base.length && !now.length) bump(gaps, base[0].code)
    if (!base.length && cur.length && now.length === 1) bump(spills, cur[0].code)
  }
  const problems: ChangeProblem[] = []
  for (const o of overlaps.values()) {
    if (o.area <= tol) continue
    const mine = state.current.has(o.a) ? o.a : o.b
    const other = mine === o.a ? o.b : o.a
    problems.push({ operation: state.origin.get(mine) ?? null, cell: mine, field: 'geometry', error: RedrawErrorCode.overlappingCells, reason: `overlaps cell ${other} by ${o.area.toFixed(2)} m²`, area_m2: round1(o.area), at: o.at })
  }
  for (const [code, g] of gaps) {
    if (g.area <= tol) continue
    problems.push({ operation: null, cell: code, field: 'geometry', error: RedrawErrorCode.gap, reason: `${g.area.toFixed(2)} m² of old cell ${code} is covered by no cell after the change`, area_m2: round1(g.area), at: g.at })
  }
  for (const [code, g] of spills) {
    if (g.area <= tol) continue
    problems.push({ operation: state.origin.get(code) ?? null, cell: code, field: 'geometry', error: RedrawErrorCode.outsideFootprint, reason: `cell ${code} covers ${g.area.toFixed(2)} m² that no cell covered before (outside the district or in a hole)`, area_m2: round1(g.area), at: g.at })
  }
  return problems
}
