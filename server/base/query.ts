/**
 * The comprehensive query (综合查询): for a cell, community, subdistrict or a
 * drawn polygon, the base records by kind with lists, the people (households,
 * registered and resident population, named residents for the roles that may
 * see them), the cases (open now, and reported in a window), the components
 * and the frontage units inside.
 *
 * Membership: an area given by code holds what was assigned to its cells
 * (base records, components and frontage units by their cell, cases by the
 * cell they were reported in); a drawn polygon holds what its geometry
 * intersects.
 */
import type { Geometry, MultiPolygon, Polygon, Position } from 'geojson'
import type { Queryable } from '../db/types.ts'
import { AppError } from '../errors.ts'
import { toWgs84 } from '../../geocoder/crs.ts'
import type { InputCrs } from '../../geocoder/facility-validate.ts'
import { BaseQueryRepository, type AreaMode, type ListRow, type OpenCaseRow, type ResidentRow } from '../repositories/base-query.ts'
import { BASE_KINDS, BUILDING_USES } from './validate.ts'
import { SEES_RESIDENTS } from './access.ts'
import type { Role } from '../cases/roles.ts'

export type Area =
  | { kind: 'cell' | 'community' | 'subdistrict'; code: string }
  | { kind: 'polygon'; geometry: Polygon | MultiPolygon }

export interface QueryOptions {
  /** Records listed per kind (default 20). */
  limit: number
  /** Cases reported in [from, to) are counted besides the open ones; default the last 30 days. */
  from: Date
  to: Date
  now: Date
  role: Role | 'system'
}

/** Largest polygon accepted, m²: the district is 470.8 km². */
export const MAX_POLYGON_M2 = 600e6
/** Most vertices in a drawn polygon. */
export const MAX_VERTICES = 10_000

const STATUSES = ['reported', 'accepted', 'dispatched', 'in_progress', 'handled', 'verified', 'deferred', 'closed', 'voided'] as const
const RESIDENT_CATEGORIES = ['elderly_alone', 'disabled', 'low_income', 'special_care'] as const
const FACILITY_STATUSES = ['intact', 'damaged', 'missing', 'occupied', 'abandoned'] as const

export interface ComprehensiveResult {
  area: { kind: Area['kind']; code: string | null; name: string | null; area_m2: number; cells: number }
  counts: Record<string, number>
  buildings: { count: number; floors_mean: number | null; by_use: Record<string, number> }
  people: {
    households: number
    registered: number
    resident: number
    key_persons: { total: number; by_category: Record<string, number> }
    /** 'names': `residents` lists them; 'counts': this role sees counts only and `residents` is null. */
    personal_data: 'names' | 'counts'
    residents: ResidentRow[] | null
  }
  cases: {
    window: { from: string; to: string }
    reported_in_window: number
    open: number
    overdue: number
    by_status: Record<string, number>
    open_items: (Omit<OpenCaseRow, 'reported_at' | 'due_at'> & { reported_at: string; due_at: string | null })[]
  }
  facilities: { total: number; by_major: Record<string, number>; by_status: Record<string, number> }
  frontage_units: { count: number; length_m: number }
  lists: Record<string, ListRow[]>
  ms: number
}

const fail = (status: number, code: string, message: string, details?: unknown): AppError => new AppError(status, code, message, details)

/** Checks a drawn polygon and brings it to WGS84. */
export function polygonArea(g: unknown, crs: InputCrs): Polygon | MultiPolygon {
  const geom = g as Geometry | null
  if (!geom || typeof geom !== 'object' || (geom.type !== 'Polygon' && geom.type !== 'MultiPolygon') || !Array.isArray(geom.coordinates)) {
    throw fail(400, 'invalid_geometry', 'polygon must be a GeoJSON Polygon or MultiPolygon', { field: 'body.polygon' })
  }
  let vertices = 0
  const ring = (r: unknown): Position[] => {
    if (!Array.isArray(r) || r.length < 4) throw fail(400, 'invalid_geometry', 'a ring needs at least 4 positions', { field: 'body.polygon' })
    return r.map((p: unknown) => {
      if (!Array.isArray(p) || typeof p[0] !== 'number' || typeof p[1] !== 'number' || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
        throw fail(400, 'invalid_coordinates', 'positions are [lon, lat] numbers', { field: 'body.polygon' })
      }
      if (++vertices > MAX_VERTICES) throw fail(400, 'too_many_vertices', `at most ${MAX_VERTICES} vertices`, { field: 'body.polygon' })
      try {
        return crs === 'wgs84' ? toWgs84(p[0], p[1], 'wgs84') : toWgs84(p[0], p[1], crs)
      } catch {
        throw fail(400, 'invalid_coordinates', `[${p[0]}, ${p[1]}] is not a lon/lat`, { field: 'body.polygon' })
      }
    })
  }
  const poly = (rings: unknown): Position[][] => {
    if (!Array.isArray(rings) || !rings.length) throw fail(400, 'invalid_geometry', 'a polygon needs an outer ring', { field: 'body.polygon' })
    return rings.map(ring)
  }
  return geom.type === 'Polygon'
    ? { type: 'Polygon', coordinates: poly(geom.coordinates) }
    : { type: 'MultiPolygon', coordinates: (geom.coordinates as unknown[]).map(poly) }
}

function codeRange(code: string): [string, string] {
  return [code.padEnd(15, '0'), code.padEnd(15, '9')]
}

/**
 * Runs the comprehensive query.
 * @example await comprehensive(db, { kind: 'subdistrict', code: '110105001' }, { limit: 20, from, to, now, role: 'leader' })
 */
export async function comprehensive(db: Queryable, area: Area, o: QueryOptions): Promise<ComprehensiveResult> {
  const t0 = performance.now()
  const repo = new BaseQueryRepository(db)
  let mode: AreaMode
  let args: [string, string | null]
  let head: ComprehensiveResult['area']
  if (area.kind === 'polygon') {
    const text = JSON.stringify(area.geometry)
    const info = await repo.polygonInfo(text)
    if (!info.valid) throw fail(422, 'invalid_geometry', `the polygon is not valid: ${info.reason ?? 'unknown reason'}`, { field: 'body.polygon' })
    if (info.area_m2 > MAX_POLYGON_M2) throw fail(422, 'area_too_large', `the polygon covers ${(info.area_m2 / 1e6).toFixed(1)} km²; at most ${MAX_POLYGON_M2 / 1e6} km²`, { field: 'body.polygon' })
    mode = 'polygon'
    args = [text, null]
    head = { kind: 'polygon', code: null, name: null, area_m2: Math.round(info.area_m2), cells: info.cells }
  } else {
    const info = await repo.codeInfo(area.kind, area.code)
    if (!info) throw fail(404, 'not_found', `${area.kind} ${area.code} not found`, { field: `querystring.${area.kind}` })
    mode = 'code'
    args = codeRange(area.code)
    head = { kind: area.kind, code: area.code, name: info.name, area_m2: Math.round(info.area_m2), cells: info.cells }
  }
  const seesNames = o.role !== 'system' && SEES_RESIDENTS.includes(o.role)
  const [kinds, lists, residentCounts, residents, caseCounts, openCases, facilities, frontage] = await Promise.all([
    repo.kinds(mode, args), repo.lists(mode, args, o.limit), repo.residentCounts(mode, args),
    seesNames ? repo.residents(mode, args, Math.max(o.limit, 100)) : Promise.resolve(null),
    repo.caseCounts(mode, args, o.from, o.to, o.now), repo.openCases(mode, args, o.limit),
    repo.facilityCounts(mode, args), repo.frontage(mode, args),
  ])
  const counts: Record<string, number> = Object.fromEntries(BASE_KINDS.map((k) => [k, 0]))
  const byUse: Record<string, number> = Object.fromEntries(BUILDING_USES.map((u) => [u, 0]))
  let households = 0
  let registered = 0
  let resident = 0
  let floors = 0
  for (const k of kinds) {
    counts[k.kind] += k.n
    households += Number(k.households)
    registered += Number(k.registered)
    resident += Number(k.resident)
    if (k.kind === 'building') {
      floors += Number(k.floors)
      if (k.use) byUse[k.use] += k.n
    }
  }
  const byCategory: Record<string, number> = Object.fromEntries(RESIDENT_CATEGORIES.map((c) => [c, 0]))
  for (const r of residentCounts) byCategory[r.category] = r.n
  const byStatus: Record<string, number> = Object.fromEntries(STATUSES.map((s) => [s, 0]))
  let open = 0
  let overdue = 0
  let inWindow = 0
  for (const c of caseCounts) {
    byStatus[c.status] = c.n
    open += c.open_n
    overdue += c.overdue_n
    inWindow += c.in_window
  }
  const byMajor: Record<string, number> = { '01': 0, '02': 0, '03': 0, '04': 0, '05': 0 }
  const fStatus: Record<string, number> = Object.fromEntries(FACILITY_STATUSES.map((s) => [s, 0]))
  let fTotal = 0
  for (const f of facilities) {
    byMajor[f.major] = (byMajor[f.major] ?? 0) + f.n
    fStatus[f.status] = (fStatus[f.status] ?? 0) + f.n
    fTotal += f.n
  }
  const listed: Record<string, ListRow[]> = Object.fromEntries(BASE_KINDS.map((k) => [k, []]))
  for (const l of lists) listed[l.kind].push({ ...l, cell_code: l.cell_code.trim(), uscc: l.uscc?.trim() ?? null })
  return {
    area: head,
    counts,
    buildings: { count: counts.building, floors_mean: counts.building ? Math.round((floors / counts.building) * 10) / 10 : null, by_use: byUse },
    people: {
      households, registered, resident,
      key_persons: { total: Object.values(byCategory).reduce((a, b) => a + b, 0), by_category: byCategory },
      personal_data: seesNames ? 'names' : 'counts',
      residents,
    },
    cases: {
      window: { from: o.from.toISOString(), to: o.to.toISOString() },
      reported_in_window: inWindow, open, overdue, by_status: byStatus,
      open_items: openCases.map((c) => ({ ...c, cell_code: c.cell_code.trim(), reported_at: new Date(c.reported_at).toISOString(), due_at: c.due_at ? new Date(c.due_at).toISOString() : null })),
    },
    facilities: { total: fTotal, by_major: byMajor, by_status: fStatus },
    frontage_units: { count: frontage.n, length_m: Math.round(frontage.length_m) },
    lists: listed,
    ms: Math.round(performance.now() - t0),
  }
}
