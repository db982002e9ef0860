/**
 * Checks a grid file (GeoJSON FeatureCollection of cells) before anything touches
 * the database: GeoJSON structure, CRS, coordinates, rings, codes and hierarchy.
 * Geometry validity in the OGC sense and overlaps are checked by PostGIS later,
 * inside the import transaction.
 */
import * as gjv from 'geojson-validation'
import type { MultiPolygon, Polygon, Position } from 'geojson'
import { parseCellCode } from './codes.ts'
import { isValidUscc } from './uscc.ts'
import { GridErrorCode, type FeatureProblem } from './errors.ts'

export interface GridCellInput {
  index: number
  code: string
  communityCode: string
  communityName: string
  subdistrictCode: string
  subdistrictName: string
  districtCode: string
  districtName: string
  /** Unified social credit code of the responsible unit; absent: the subdistrict's command centre. */
  responsibleUnit: string | null
  /** Coordinates rounded to 7 decimals (≈ 1 cm), the precision the grid is stored and exported at. */
  geometry: Polygon | MultiPolygon
}

export interface ValidateOptions {
  /** Most features one file may hold. */
  maxFeatures?: number
  /** Stop collecting problems after this many (the count is still reported). */
  maxProblems?: number
}

export interface ValidationResult {
  cells: GridCellInput[]
  problems: FeatureProblem[]
  /** Problems found, including those not listed past maxProblems. */
  problemCount: number
}

/** CRS members RFC 7946 allows us to accept: none, or plain WGS84 lon/lat. */
const WGS84_NAMES = new Set([
  'urn:ogc:def:crs:OGC:1.3:CRS84',
  'urn:ogc:def:crs:OGC::CRS84',
  'urn:ogc:def:crs:EPSG::4326',
  'EPSG:4326',
  'CRS84',
])

const round7 = (v: number): number => Math.round(v * 1e7) / 1e7

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function crsName(crs: unknown): string | null {
  if (!isRecord(crs) || !isRecord(crs.properties)) return null
  const name = crs.properties.name
  return typeof name === 'string' ? name : null
}

/**
 * Validates and normalises a grid file.
 * @example const { cells, problems } = validateGridGeoJSON(JSON.parse(text))
 */
export function validateGridGeoJSON(body: unknown, opts: ValidateOptions = {}): ValidationResult {
  const maxFeatures = opts.maxFeatures ?? 200_000
  const maxProblems = opts.maxProblems ?? 1_000
  const problems: FeatureProblem[] = []
  let problemCount = 0
  const report = (p: FeatureProblem): void => {
    problemCount++
    if (problems.length < maxProblems) problems.push(p)
  }
  const whole = (error: GridErrorCode, reason: string, field = '$'): ValidationResult => {
    report({ index: null, code: null, field, error, reason })
    return { cells: [], problems, problemCount }
  }

  if (!isRecord(body)) return whole(GridErrorCode.invalidGeojson, 'body is not a JSON object')
  if (body.type !== 'FeatureCollection') {
    const trace = gjv.valid(body, true)
    const why = trace.length ? `not valid GeoJSON: ${trace.slice(0, 5).join('; ')}` : `a ${String(body.type)}, not a FeatureCollection`
    return whole(trace.length ? GridErrorCode.invalidGeojson : GridErrorCode.notFeatureCollection, why, 'type')
  }
  if (!Array.isArray(body.features)) return whole(GridErrorCode.invalidGeojson, 'FeatureCollection has no "features" array', 'features')
  if ('crs' in body && body.crs !== null) {
    const name = crsName(body.crs)
    if (!name || !WGS84_NAMES.has(name)) {
      return whole(GridErrorCode.unsupportedCrs, `CRS ${name ?? JSON.stringify(body.crs).slice(0, 80)} is not WGS84 lon/lat (RFC 7946); reproject to EPSG:4326 first`, 'crs')
    }
  }
  const features: unknown[] = body.features
  if (features.length === 0) return whole(GridErrorCode.emptyGrid, 'the FeatureCollection has no features', 'features')
  if (features.length > maxFeatures) return whole(GridErrorCode.tooManyFeatures, `${features.length} features; at most ${maxFeatures} in one file`, 'features')

  const cells: GridCellInput[] = []
  const firstIndexOfCode = new Map<string, number>()
  const communityNames = new Map<string, { name: string; index: number }>()
  const subdistrictNames = new Map<string, { name: string; index: number }>()
  let district: { code: string; name: string; index: number } | null = null

  features.forEach((feature, index) => {
    const rawCode = isRecord(feature) && isRecord(feature.properties) ? feature.properties.code : undefined
    const code = typeof rawCode === 'string' ? rawCode : null
    const bad = (error: GridErrorCode, field: string, reason: string): void => report({ index, code, field, error, reason })
    const before = problemCount

    if (!isRecord(feature) || !isRecord(feature.geometry) || !isRecord(feature.properties)) {
      const trace = gjv.isFeature(feature, true)
      const why = trace.length ? `not a valid GeoJSON Feature: ${trace.slice(0, 3).join('; ')}` : 'a cell needs a geometry and properties'
      return bad(GridErrorCode.invalidGeojson, 'feature', why)
    }
    // The Feature's own members (type, id, properties) by the GeoJSON rules; its geometry
    // by ours below, which name the ring and position that is wrong.
    const trace = gjv.isFeature({ ...feature, geometry: null }, true)
    if (trace.length) return bad(GridErrorCode.invalidGeojson, 'feature', `not a valid GeoJSON Feature: ${trace.slice(0, 3).join('; ')}`)
    const geometry = normaliseGeometry(feature.geometry, (field, error, reason) => bad(error, `geometry${field}`, reason))

    const props = feature.properties
    const parts = parseCellCode(props.code)
    if ('error' in parts) bad(GridErrorCode.invalidCode, 'properties.code', parts.error)
    const text = (key: string): string | null => {
      const v = props[key]
      if (typeof v === 'string' && v.trim()) return v.trim()
      bad(GridErrorCode.missingProperty, `properties.${key}`, `${key} is required (non-empty text)`)
      return null
    }
    const communityName = text('community_name')
    const subdistrictName = text('subdistrict_name')
    const districtName = typeof props.district_name === 'string' && props.district_name.trim() ? props.district_name.trim() : null
    let responsibleUnit: string | null = null
    if (props.responsible_unit !== undefined && props.responsible_unit !== null) {
      if (typeof props.responsible_unit === 'string' && isValidUscc(props.responsible_unit)) responsibleUnit = props.responsible_unit
      else bad(GridErrorCode.invalidResponsibleUnit, 'properties.responsible_unit', 'not an 18-character unified social credit code with a valid check character')
    }

    if (!('error' in parts)) {
      for (const [key, expected] of [['community_code', parts.community], ['subdistrict_code', parts.subdistrict], ['district_code', parts.district]] as const) {
        if (props[key] !== undefined && props[key] !== expected) {
          bad(GridErrorCode.inconsistentHierarchy, `properties.${key}`, `${key} ${String(props[key])} does not match the cell code's prefix ${expected}`)
        }
      }
      const seen = firstIndexOfCode.get(parts.cell)
      if (seen !== undefined) bad(GridErrorCode.duplicateCode, 'properties.code', `code ${parts.cell} already used by feature ${seen}`)
      else firstIndexOfCode.set(parts.cell, index)

      if (district === null) district = { code: parts.district, name: districtName ?? parts.district, index }
      else if (district.code !== parts.district) {
        bad(GridErrorCode.mixedDistricts, 'properties.code', `district ${parts.district} differs from ${district.code} of feature ${district.index}; import one district per file`)
      }
      const checkName = (map: Map<string, { name: string; index: number }>, key: string, name: string | null, field: string): void => {
        if (name === null) return
        const prev = map.get(key)
        if (!prev) map.set(key, { name, index })
        else if (prev.name !== name) bad(GridErrorCode.inconsistentHierarchy, field, `${key} is named "${prev.name}" by feature ${prev.index} but "${name}" here`)
      }
      checkName(communityNames, parts.community, communityName, 'properties.community_name')
      checkName(subdistrictNames, parts.subdistrict, subdistrictName, 'properties.subdistrict_name')
    }

    if (problemCount === before && geometry && !('error' in parts) && communityName && subdistrictName) {
      cells.push({
        index,
        code: parts.cell,
        communityCode: parts.community,
        communityName,
        subdistrictCode: parts.subdistrict,
        subdistrictName,
        districtCode: parts.district,
        districtName: districtName ?? (district as { name: string } | null)?.name ?? parts.district,
        responsibleUnit,
        geometry,
      })
    }
  })
  return { cells: problemCount ? [] : cells, problems, problemCount }
}

type Report = (field: string, error: GridErrorCode, reason: string) => void

function normaliseGeometry(g: Record<string, unknown>, bad: Report): Polygon | MultiPolygon | null {
  if (g.type !== 'Polygon' && g.type !== 'MultiPolygon') {
    bad('.type', GridErrorCode.invalidGeometryType, `a cell is a Polygon or MultiPolygon, not a ${String(g.type)}`)
    return null
  }
  const polys = (g.type === 'Polygon' ? [g.coordinates] : g.coordinates) as unknown[]
  if (!Array.isArray(polys) || polys.length === 0) {
    bad('.coordinates', GridErrorCode.invalidGeojson, 'no coordinates')
    return null
  }
  let ok = true
  const out = polys.map((poly, pi) => {
    const prefix = g.type === 'Polygon' ? '.coordinates' : `.coordinates[${pi}]`
    if (!Array.isArray(poly) || poly.length === 0) {
      bad(prefix, GridErrorCode.invalidGeojson, 'a polygon needs at least an exterior ring')
      ok = false
      return []
    }
    return poly.map((ring: unknown, ri) => normaliseRing(ring, `${prefix}[${ri}]`, (f, e, r) => { ok = false; bad(f, e, r) }))
  })
  if (!ok) return null
  return g.type === 'Polygon' ? { type: 'Polygon', coordinates: out[0] } : { type: 'MultiPolygon', coordinates: out }
}

function normaliseRing(ring: unknown, field: string, bad: Report): Position[] {
  if (!Array.isArray(ring)) {
    bad(field, GridErrorCode.invalidGeojson, 'a ring is an array of positions')
    return []
  }
  const out: Position[] = []
  for (let i = 0; i < ring.length; i++) {
    const p: unknown = ring[i]
    if (!Array.isArray(p) || p.length < 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number' || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
      bad(`${field}[${i}]`, GridErrorCode.invalidGeojson, 'a position is [longitude, latitude] as finite numbers')
      return []
    }
    const [lon, lat] = p as number[]
    if (lon < -180 || lon > 180 || lat < -90 || lat > 90) {
      bad(`${field}[${i}]`, GridErrorCode.coordinatesOutOfRange, `[${lon}, ${lat}] is outside longitude −180…180 / latitude −90…90 (is it in a projected CRS?)`)
      return []
    }
    const q: Position = [round7(lon), round7(lat)]
    const last = out[out.length - 1]
    // Rounding to 1e-7 may make neighbours equal; a repeated vertex carries no shape.
    if (!last || last[0] !== q[0] || last[1] !== q[1]) out.push(q)
  }
  const first = ring[0] as number[] | undefined
  const lastIn = ring[ring.length - 1] as number[] | undefined
  if (!first || !lastIn || first[0] !== lastIn[0] || first[1] !== lastIn[1]) {
    bad(field, GridErrorCode.ringNotClosed, 'the last position of a ring must repeat the first')
    return []
  }
  if (out.length < 4) {
    bad(field, GridErrorCode.ringTooShort, `a ring needs at least 4 positions (3 distinct corners and the closing one); it has ${ring.length}${out.length < ring.length ? ' before rounding to 7 decimals' : ''}`)
    return []
  }
  return out
}
