/**
 * Reading and checking a file of base records (GeoJSON points or CSV with
 * lon/lat) before anything is written, in the house style of the facility
 * import (geocoder/facility-validate.ts): every bad row is reported by its row
 * number, field and reason. What needs the database (the cell a point falls
 * in, the building a shop names) is checked in the import's transaction.
 *
 * Rows: CSV — the line a spreadsheet shows (header = 1); GeoJSON — the
 * feature's position counted from 1 (`index` from 0).
 */
import { toWgs84 } from '../../geocoder/crs.ts'
import { CsvError, parseCsv } from '../../geocoder/facility-csv.ts'
import { CRS_NAMES, type InputCrs } from '../../geocoder/facility-validate.ts'
import { isValidUscc } from '../../grids/uscc.ts'

export const BASE_KINDS = ['building', 'organisation', 'shop', 'school', 'hospital', 'market', 'poi'] as const
export type BaseKind = (typeof BASE_KINDS)[number]
export const BUILDING_USES = ['residential', 'office', 'commercial', 'mixed', 'public', 'industrial', 'rural_house'] as const

export const BaseErrorCode = {
  invalidFile: 'invalid_file',
  emptyFile: 'empty_file',
  tooManyRows: 'too_many_rows',
  invalidId: 'invalid_id',
  duplicateId: 'duplicate_id',
  unknownKind: 'unknown_kind',
  missingProperty: 'missing_property',
  invalidCoordinates: 'invalid_coordinates',
  invalidGeometryType: 'invalid_geometry_type',
  invalidNumber: 'invalid_number',
  invalidUse: 'invalid_use',
  notForKind: 'not_for_kind',
  invalidOrganisationCode: 'invalid_organisation_code',
  invalidText: 'invalid_text',
  outsideGrid: 'outside_grid',
  unknownBuilding: 'unknown_building',
} as const
export type BaseErrorCode = (typeof BaseErrorCode)[keyof typeof BaseErrorCode]

export interface BaseProblem {
  row: number | null
  index?: number
  id: string | null
  field: string
  error: BaseErrorCode
  reason: string
}

/** A checked row, WGS84. */
export interface BaseInput {
  row: number
  id: string
  kind: BaseKind
  name: string
  address: string | null
  lon: number
  lat: number
  use: string | null
  floors: number | null
  households: number | null
  pop_registered: number | null
  pop_resident: number | null
  uscc: string | null
  building_id: string | null
  capacity: number | null
}

interface Raw { row: number; index?: number; props: Record<string, unknown>; lon: unknown; lat: unknown; geometryType?: string }

export const MAX_ROWS = 1_000_000
const ID = /^[A-Za-z0-9_.:-]{1,64}$/
const COLUMNS = ['id', 'kind', 'name', 'address', 'lon', 'lat', 'use', 'floors', 'households', 'pop_registered', 'pop_resident', 'uscc', 'building_id', 'capacity'] as const

export { CRS_NAMES, type InputCrs }

export function readBaseGeoJSON(body: unknown): { raws: Raw[]; problems: BaseProblem[] } {
  const fc = body as { type?: unknown; features?: unknown }
  if (!fc || typeof fc !== 'object' || fc.type !== 'FeatureCollection' || !Array.isArray(fc.features)) {
    return { raws: [], problems: [{ row: null, id: null, field: 'body', error: BaseErrorCode.invalidFile, reason: 'expected a GeoJSON FeatureCollection' }] }
  }
  if (!fc.features.length) return { raws: [], problems: [{ row: null, id: null, field: 'features', error: BaseErrorCode.emptyFile, reason: 'no features' }] }
  if (fc.features.length > MAX_ROWS) return { raws: [], problems: [{ row: null, id: null, field: 'features', error: BaseErrorCode.tooManyRows, reason: `at most ${MAX_ROWS} rows a file` }] }
  const raws = (fc.features as unknown[]).map((f, index): Raw => {
    const feat = (f && typeof f === 'object' ? f : {}) as { id?: unknown; geometry?: { type?: unknown; coordinates?: unknown } | null; properties?: unknown }
    const props = (feat.properties && typeof feat.properties === 'object' ? { ...(feat.properties as Record<string, unknown>) } : {})
    if (props.id === undefined && feat.id !== undefined) props.id = feat.id
    const g = feat.geometry
    const c = g && Array.isArray(g.coordinates) ? g.coordinates : []
    return { row: index + 1, index, props, lon: c[0], lat: c[1], geometryType: g && typeof g.type === 'string' ? g.type : 'none' }
  })
  return { raws, problems: [] }
}

export function readBaseCsv(text: string): { raws: Raw[]; problems: BaseProblem[] } {
  let t
  try {
    t = parseCsv(text)
  } catch (err) {
    if (err instanceof CsvError) return { raws: [], problems: [{ row: err.line, id: null, field: 'file', error: BaseErrorCode.invalidFile, reason: err.message }] }
    throw err
  }
  if (!t.records.length) return { raws: [], problems: [{ row: null, id: null, field: 'file', error: BaseErrorCode.emptyFile, reason: 'no rows after the header' }] }
  if (t.records.length > MAX_ROWS) return { raws: [], problems: [{ row: null, id: null, field: 'file', error: BaseErrorCode.tooManyRows, reason: `at most ${MAX_ROWS} rows a file` }] }
  const missing = ['id', 'kind', 'name', 'lon', 'lat'].filter((c) => !t.header.includes(c))
  if (missing.length) return { raws: [], problems: [{ row: 1, id: null, field: 'header', error: BaseErrorCode.missingProperty, reason: `columns ${missing.join(', ')} are required (known: ${COLUMNS.join(', ')})` }] }
  const raws = t.records.map((rec, i): Raw => {
    const props: Record<string, unknown> = {}
    t.header.forEach((h, j) => { if (rec[j] !== undefined && rec[j] !== '') props[h] = rec[j] })
    return { row: t.lines[i], props, lon: props.lon, lat: props.lat }
  })
  return { raws, problems: [] }
}

const text = (v: unknown): string | null => (v === undefined || v === null || v === '' ? null : String(v).trim() || null)

/**
 * Checks every row; `rows` has the good ones.
 * @example validateBase(readBaseCsv('id,kind,name,lon,lat\nb1,building,1号楼,116.46,39.92\n').raws, { crs: 'wgs84' }).rows.length // 1
 */
export function validateBase(raws: readonly Raw[], opts: { crs: InputCrs }): { rows: BaseInput[]; problems: BaseProblem[] } {
  const rows: BaseInput[] = []
  const problems: BaseProblem[] = []
  const seen = new Map<string, number>()
  for (const r of raws) {
    const p = r.props
    const id = text(p.id)
    const before = problems.length
    const bad = (field: string, error: BaseErrorCode, reason: string): void => {
      problems.push({ row: r.row, ...(r.index !== undefined ? { index: r.index } : {}), id, field, error, reason })
    }
    if (!id) bad('id', BaseErrorCode.missingProperty, 'id is required')
    else if (!ID.test(id)) bad('id', BaseErrorCode.invalidId, 'id is 1–64 letters, digits and _ . : -')
    else if (seen.has(id)) bad('id', BaseErrorCode.duplicateId, `id ${id} is also on row ${seen.get(id)}`)
    else seen.set(id, r.row)
    const kind = text(p.kind)
    if (!kind) bad('kind', BaseErrorCode.missingProperty, 'kind is required')
    else if (!(BASE_KINDS as readonly string[]).includes(kind)) bad('kind', BaseErrorCode.unknownKind, `kind is one of ${BASE_KINDS.join(', ')}`)
    const name = text(p.name)
    if (!name) bad('name', BaseErrorCode.missingProperty, 'name is required')
    else if (name.length > 200) bad('name', BaseErrorCode.invalidText, 'name is at most 200 characters')
    const address = text(p.address)
    if (address && address.length > 300) bad('address', BaseErrorCode.invalidText, 'address is at most 300 characters')
    if (r.geometryType !== undefined && r.geometryType !== 'Point') bad('geometry', BaseErrorCode.invalidGeometryType, `a base record is a Point, not ${r.geometryType}`)
    const lon = Number(r.lon)
    const lat = Number(r.lat)
    let wgs: [number, number] | null = null
    if (r.lon === undefined || r.lat === undefined || r.lon === '' || !Number.isFinite(lon) || !Number.isFinite(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90) {
      if (r.geometryType === undefined || r.geometryType === 'Point') bad(r.geometryType === undefined ? 'lon' : 'geometry', BaseErrorCode.invalidCoordinates, 'lon and lat must be numbers in range')
    } else {
      wgs = opts.crs === 'wgs84' ? [lon, lat] : toWgs84(lon, lat, opts.crs)
    }
    const int = (field: string, min: number, max: number): number | null => {
      const v = p[field]
      if (v === undefined || v === null || v === '') return null
      const n = Number(v)
      if (!Number.isInteger(n) || n < min || n > max) { bad(field, BaseErrorCode.invalidNumber, `${field} is a whole number from ${min} to ${max}`); return null }
      return n
    }
    const floors = int('floors', 1, 200)
    const households = int('households', 0, 100_000)
    const popReg = int('pop_registered', 0, 1_000_000)
    const popRes = int('pop_resident', 0, 1_000_000)
    const capacity = int('capacity', 0, 1_000_000)
    const use = text(p.use)
    if (use && !(BUILDING_USES as readonly string[]).includes(use)) bad('use', BaseErrorCode.invalidUse, `use is one of ${BUILDING_USES.join(', ')}`)
    if (kind && kind !== 'building') {
      for (const f of ['use', 'floors', 'households', 'pop_registered', 'pop_resident'] as const) {
        if (text(p[f]) !== null) bad(f, BaseErrorCode.notForKind, `${f} is for buildings; put people on the building they live in`)
      }
    }
    const uscc = text(p.uscc)?.toUpperCase() ?? null
    if (uscc && !isValidUscc(uscc)) bad('uscc', BaseErrorCode.invalidOrganisationCode, `${uscc} is not a valid unified social credit code (18 characters, check character)`)
    const building = text(p.building_id)
    if (building && !ID.test(building)) bad('building_id', BaseErrorCode.invalidId, 'building_id is an id of this form: 1–64 letters, digits and _ . : -')
    if (problems.length > before || !id || !kind || !name || !wgs) continue
    rows.push({
      row: r.row, id, kind: kind as BaseKind, name, address, lon: wgs[0], lat: wgs[1], use, floors, households,
      pop_registered: popReg, pop_resident: popRes, uscc, building_id: building, capacity,
    })
  }
  return { rows, problems }
}

export function isCrs(v: string): v is InputCrs {
  return (CRS_NAMES as readonly string[]).includes(v)
}
