/**
 * Reading and checking a facility file (GeoJSON or CSV) before anything is
 * written: every bad row is reported by its row number, field and reason, so a
 * utility's GIS clerk can fix the file in one go. What needs the database
 * (owners that exist, the cell a component falls in) is checked afterwards,
 * inside the import transaction (server/repositories/facility-import.ts).
 *
 * Row numbers: in a CSV file, the line as a spreadsheet shows it (the header
 * is row 1, the first component row 2); in GeoJSON, the feature's position in
 * `features` counted from 1 (`index` gives it from 0).
 */
import type { Geometry, Position } from 'geojson'
import { toWgs84 as crsToWgs84 } from './crs.ts'
import { isValidUscc } from '../grids/uscc.ts'
import { CsvError, parseCsv, parseWkt } from './facility-csv.ts'
import { FACILITY_STATUSES, type FacilityStatus } from './facility-types.ts'

export const FacilityErrorCode = {
  invalidFile: 'invalid_file',
  emptyFile: 'empty_file',
  tooManyRows: 'too_many_rows',
  unsupportedCrs: 'unsupported_crs',
  invalidId: 'invalid_id',
  duplicateId: 'duplicate_id',
  unknownSubclass: 'unknown_subclass',
  missingProperty: 'missing_property',
  invalidCoordinates: 'invalid_coordinates',
  invalidGeometryType: 'invalid_geometry_type',
  invalidGeometry: 'invalid_geometry',
  missingOwner: 'missing_owner',
  invalidOrganisationCode: 'invalid_organisation_code',
  unknownOwner: 'unknown_owner',
  unknownOrganisation: 'unknown_organisation',
  invalidStatus: 'invalid_status',
  invalidDate: 'invalid_date',
  invalidText: 'invalid_text',
  outsideGrid: 'outside_grid',
  districtMismatch: 'district_mismatch',
} as const
export type FacilityErrorCode = (typeof FacilityErrorCode)[keyof typeof FacilityErrorCode]

/** One thing wrong with one row (row null: with the file as a whole). */
export interface FacilityProblem {
  row: number | null
  /** GeoJSON only: the feature's index in `features`, from 0. */
  index?: number
  /** The row's component ID when it had a readable one. */
  id: string | null
  field: string
  error: FacilityErrorCode
  reason: string
}

export const CRS_NAMES = ['wgs84', 'gcj02', 'bd09'] as const
/** The coordinate system of input: WGS84 (GPS), GCJ-02 (AMap, Tencent), BD-09 (Baidu). */
export type InputCrs = (typeof CRS_NAMES)[number]

/** A row as read from the file, before checking. */
export interface RawFacility {
  row: number
  index?: number
  props: Record<string, unknown>
  /** GeoJSON geometry; or the CSV columns that give one. */
  geometry?: unknown
  lon?: unknown
  lat?: unknown
  wkt?: unknown
}

/** A checked row: WGS84 at 7 decimals, ready for the database. */
export interface FacilityInput {
  row: number
  id: string
  subclass: string
  geometry: Geometry
  owner: string
  maintainer: string | null
  authority: string | null
  status: FacilityStatus
  installedOn: string | null
  name: string | null
  note: string | null
}

export const MAX_ROWS = 5_000_000

/** Accepted spellings of a status, Chinese as in the standard or English as stored. */
const STATUS_ALIASES: Record<string, FacilityStatus> = {
  完好: 'intact', 破损: 'damaged', 丢失: 'missing', 缺失: 'missing', 占用: 'occupied', 废弃: 'abandoned',
  lost: 'missing', broken: 'damaged',
}
for (const s of FACILITY_STATUSES) STATUS_ALIASES[s] = s

/** CSV column names read, with the other spellings accepted for them. */
const COLUMN_ALIASES: Record<string, string[]> = {
  id: ['id', 'component_id', '部件标识码', '部件编码'],
  subclass: ['subclass', '小类代码', '部件小类'],
  lon: ['lon', 'lng', 'longitude', 'x', '经度'],
  lat: ['lat', 'latitude', 'y', '纬度'],
  wkt: ['wkt', 'geometry', 'geom'],
  owner: ['owner', '权属单位', '权属单位代码'],
  maintainer: ['maintainer', '养护单位', '养护单位代码'],
  authority: ['authority', '主管单位', '主管单位代码'],
  status: ['status', '状态', '部件状态'],
  installed_on: ['installed_on', 'installed', '设置时间', '安装日期'],
  name: ['name', '名称'],
  note: ['note', '备注'],
}

function fileProblem(error: FacilityErrorCode, field: string, reason: string): FacilityProblem {
  return { row: null, id: null, field, error, reason }
}

/** Reads a GeoJSON FeatureCollection of components. */
export function readFacilityGeoJSON(body: unknown): { raws: RawFacility[]; problems: FacilityProblem[] } {
  if (typeof body !== 'object' || body === null || (body as { type?: unknown }).type !== 'FeatureCollection' || !Array.isArray((body as { features?: unknown }).features)) {
    return { raws: [], problems: [fileProblem(FacilityErrorCode.invalidFile, 'type', 'expected a GeoJSON FeatureCollection with a features array')] }
  }
  const fc = body as { features: unknown[]; crs?: { properties?: { name?: unknown } } }
  const problems: FacilityProblem[] = []
  const crsName = fc.crs?.properties?.name
  if (fc.crs !== undefined && !(typeof crsName === 'string' && /(CRS84|EPSG::?4326|EPSG:4326)$/i.test(crsName))) {
    problems.push(fileProblem(FacilityErrorCode.unsupportedCrs, 'crs', `named CRS ${JSON.stringify(crsName ?? fc.crs)} is not WGS84; declare GCJ-02 or BD-09 with the crs parameter instead`))
  }
  const raws = fc.features.map((f, i): RawFacility => {
    const feat = (typeof f === 'object' && f !== null ? f : {}) as { type?: unknown; id?: unknown; geometry?: unknown; properties?: unknown }
    const props = (typeof feat.properties === 'object' && feat.properties !== null ? { ...feat.properties } : {}) as Record<string, unknown>
    if (props.id === undefined && feat.id !== undefined) props.id = feat.id
    if (feat.type !== 'Feature') props.__notFeature = true
    return { row: i + 1, index: i, props, geometry: feat.geometry }
  })
  return { raws, problems }
}

/** Reads CSV text of components: one row each, lon/lat columns for points, a WKT column for lines and polygons. */
export function readFacilityCsv(text: string): { raws: RawFacility[]; problems: FacilityProblem[] } {
  let table
  try {
    table = parseCsv(text)
  } catch (err) {
    if (err instanceof CsvError) return { raws: [], problems: [{ row: err.line, id: null, field: 'csv', error: FacilityErrorCode.invalidFile, reason: err.message }] }
    throw err
  }
  const col: Record<string, number> = {}
  table.header.forEach((h, i) => {
    for (const [key, names] of Object.entries(COLUMN_ALIASES)) if (col[key] === undefined && names.includes(h.toLowerCase())) col[key] = i
  })
  const problems: FacilityProblem[] = []
  if (!table.header.length) return { raws: [], problems: [fileProblem(FacilityErrorCode.emptyFile, 'csv', 'the file is empty')] }
  for (const need of ['id', 'owner']) {
    if (col[need] === undefined) problems.push({ row: 1, id: null, field: need, error: FacilityErrorCode.missingProperty, reason: `no ${need} column in the header (${table.header.join(', ')})` })
  }
  if (col.wkt === undefined && (col.lon === undefined || col.lat === undefined)) {
    problems.push({ row: 1, id: null, field: 'lon', error: FacilityErrorCode.missingProperty, reason: 'the header needs lon and lat columns (or wkt)' })
  }
  if (problems.length) return { raws: [], problems }
  const get = (r: string[], key: string): string | undefined => {
    const i = col[key]
    if (i === undefined) return undefined
    const v = r[i]?.trim()
    return v === undefined || v === '' ? undefined : v
  }
  const raws = table.records.map((r, i): RawFacility => {
    const props: Record<string, unknown> = {}
    for (const key of ['id', 'subclass', 'owner', 'maintainer', 'authority', 'status', 'installed_on', 'name', 'note']) props[key] = get(r, key)
    if (r.length !== table.header.length) props.__columns = `${r.length} fields, the header has ${table.header.length}`
    return { row: table.lines[i], props, lon: get(r, 'lon'), lat: get(r, 'lat'), wkt: get(r, 'wkt') }
  })
  return { raws, problems }
}

const round7 = (v: number): number => Math.round(v * 1e7) / 1e7


/** Converts a checked position to WGS84 (geocoder/crs.ts) at 7 decimals (about 1 cm). */
export function toWgs84(lon: number, lat: number, crs: InputCrs): [number, number] {
  const [x, y] = crsToWgs84(lon, lat, crs)
  return [round7(x), round7(y)]
}

type Check<T> = { ok: T } | { field: string; error: FacilityErrorCode; reason: string }

function checkPosition(p: unknown, field: string): Check<Position> {
  if (!Array.isArray(p) || p.length < 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number') {
    return { field, error: FacilityErrorCode.invalidCoordinates, reason: 'a position is [lon, lat], two numbers' }
  }
  return lonLat(p[0], p[1], field)
}

function lonLat(lon: number, lat: number, field: string): Check<Position> {
  if (!Number.isFinite(lon) || !Number.isFinite(lat)) return { field, error: FacilityErrorCode.invalidCoordinates, reason: 'coordinates must be finite numbers' }
  if (Math.abs(lat) > 90) {
    const hint = Math.abs(lon) <= 90 && Math.abs(lat) <= 180 ? ' — lon and lat swapped?' : ''
    return { field, error: FacilityErrorCode.invalidCoordinates, reason: `latitude ${lat} is outside −90…90${hint}` }
  }
  if (Math.abs(lon) > 180) return { field, error: FacilityErrorCode.invalidCoordinates, reason: `longitude ${lon} is outside −180…180 (projected metres? send lon/lat degrees)` }
  return { ok: [lon, lat] }
}

/** Checks a GeoJSON geometry's structure and ranges; returns it converted to WGS84. */
function checkGeometry(g: unknown, crs: InputCrs, field = 'geometry'): Check<Geometry> {
  if (typeof g !== 'object' || g === null) return { field, error: FacilityErrorCode.invalidGeometryType, reason: 'missing geometry' }
  const { type, coordinates } = g as { type?: unknown; coordinates?: unknown }
  const conv = (p: Position): Position => toWgs84(p[0], p[1], crs)
  const points = (ps: unknown, f: string, min: number, ring: boolean): Check<Position[]> => {
    if (!Array.isArray(ps) || ps.length < min) return { field: f, error: FacilityErrorCode.invalidGeometry, reason: `needs at least ${min} positions` }
    const out: Position[] = []
    for (let i = 0; i < ps.length; i++) {
      const c = checkPosition(ps[i], `${f}[${i}]`)
      if (!('ok' in c)) return c
      out.push(conv(c.ok))
    }
    if (ring) {
      const a = ps[0] as number[]
      const b = ps[ps.length - 1] as number[]
      if (a[0] !== b[0] || a[1] !== b[1]) return { field: f, error: FacilityErrorCode.invalidGeometry, reason: 'ring is not closed: its last position must equal its first' }
      out[out.length - 1] = out[0]
    }
    return { ok: out }
  }
  const many = <T>(xs: unknown, f: string, each: (x: unknown, f: string) => Check<T>): Check<T[]> => {
    if (!Array.isArray(xs) || xs.length === 0) return { field: f, error: FacilityErrorCode.invalidGeometry, reason: 'needs at least one part' }
    const out: T[] = []
    for (let i = 0; i < xs.length; i++) {
      const c = each(xs[i], `${f}[${i}]`)
      if (!('ok' in c)) return c
      out.push(c.ok)
    }
    return { ok: out }
  }
  const f = `${field}.coordinates`
  const polygon = (x: unknown, pf: string): Check<Position[][]> => many(x, pf, (r, rf) => points(r, rf, 4, true))
  switch (type) {
    case 'Point': {
      const c = checkPosition(coordinates, f)
      return 'ok' in c ? { ok: { type, coordinates: conv(c.ok) } } : c
    }
    case 'MultiPoint': { const c = points(coordinates, f, 1, false); return 'ok' in c ? { ok: { type, coordinates: c.ok } } : c }
    case 'LineString': { const c = points(coordinates, f, 2, false); return 'ok' in c ? { ok: { type, coordinates: c.ok } } : c }
    case 'MultiLineString': { const c = many(coordinates, f, (l, lf) => points(l, lf, 2, false)); return 'ok' in c ? { ok: { type, coordinates: c.ok } } : c }
    case 'Polygon': { const c = polygon(coordinates, f); return 'ok' in c ? { ok: { type, coordinates: c.ok } } : c }
    case 'MultiPolygon': { const c = many(coordinates, f, polygon); return 'ok' in c ? { ok: { type, coordinates: c.ok } } : c }
    default:
      return { field: `${field}.type`, error: FacilityErrorCode.invalidGeometryType, reason: `geometry type ${JSON.stringify(type)} is not a component's: Point, LineString, Polygon or their Multi- forms` }
  }
}

function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'number') return String(v)
  if (typeof v !== 'string') return undefined
  const t = v.trim()
  return t === '' ? undefined : t
}

/** Checks an ISO date (YYYY-MM-DD, or with slashes) that is a real day, 1900 up to today. */
function checkDate(v: string): string | null {
  const m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$/.exec(v)
  if (!m) return null
  const iso = `${m[1]}-${m[2].padStart(2, '0')}-${m[3].padStart(2, '0')}`
  const d = new Date(`${iso}T00:00:00Z`)
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso) return null
  if (Number(m[1]) < 1900 || d.getTime() > Date.now()) return null
  return iso
}

export interface ValidateOptions {
  crs: InputCrs
  /** Known subclass codes (component_classes). */
  subclasses: ReadonlySet<string>
}

/**
 * Checks rows read by readFacilityGeoJSON / readFacilityCsv. Returns the good
 * rows and every problem; a row with a problem is not among the good ones. Of
 * rows sharing an ID, the first is kept and the others are reported.
 */
export function validateFacilities(raws: readonly RawFacility[], opts: ValidateOptions): { rows: FacilityInput[]; problems: FacilityProblem[] } {
  const rows: FacilityInput[] = []
  const problems: FacilityProblem[] = []
  if (raws.length > MAX_ROWS) return { rows, problems: [fileProblem(FacilityErrorCode.tooManyRows, 'features', `${raws.length} rows; at most ${MAX_ROWS} in one file`)] }
  const seen = new Map<string, number>()
  for (const raw of raws) {
    const p = raw.props
    const idText = text(p.id)
    const before = problems.length
    const report = (field: string, error: FacilityErrorCode, reason: string): void => {
      problems.push({ row: raw.row, ...(raw.index !== undefined ? { index: raw.index } : {}), id: idText ?? null, field, error, reason })
    }
    if (p.__notFeature) report('type', FacilityErrorCode.invalidFile, 'not a GeoJSON Feature')
    if (typeof p.__columns === 'string') report('csv', FacilityErrorCode.invalidFile, p.__columns)

    // ID and subclass
    const subText = text(p.subclass)
    let subclass: string | undefined
    if (subText !== undefined) {
      if (!/^[0-9]{5}$/.test(subText) || !opts.subclasses.has(subText)) report('subclass', FacilityErrorCode.unknownSubclass, `${JSON.stringify(subText)} is no subclass of GB/T 47678.5 (5 digits, e.g. 01005 电力井盖)`)
      else subclass = subText
    }
    if (idText === undefined) report('id', FacilityErrorCode.missingProperty, 'no component ID')
    else if (!/^[0-9]{17}$/.test(idText)) report('id', FacilityErrorCode.invalidId, `${JSON.stringify(idText.slice(0, 40))} is not 17 digits (6 district + 2 major + 3 sub + 6 sequence)`)
    else {
      const idSub = idText.slice(6, 11)
      if (!/^[1-8][0-9]{5}$/.test(idText.slice(0, 6))) report('id', FacilityErrorCode.invalidId, `digits 1–6 (${idText.slice(0, 6)}) are no district code (GB/T 2260)`)
      else if (!opts.subclasses.has(idSub)) report('id', FacilityErrorCode.invalidId, `digits 7–11 (${idSub}) are no subclass of GB/T 47678.5`)
      else if (subText !== undefined && subclass !== undefined && subclass !== idSub) report('id', FacilityErrorCode.invalidId, `digits 7–11 say subclass ${idSub} but the subclass column says ${subclass}`)
      else if (idText.slice(11) === '000000') report('id', FacilityErrorCode.invalidId, 'the sequence (digits 12–17) is 000000; it starts at 000001')
      else if (subText === undefined) subclass = idSub
      const first = seen.get(idText)
      if (first !== undefined) report('id', FacilityErrorCode.duplicateId, `ID ${idText} is also in row ${first}; an ID appears once per file`)
      else seen.set(idText, raw.row)
    }

    // geometry
    let geometry: Geometry | undefined
    if (raw.geometry !== undefined || (raw.lon === undefined && raw.lat === undefined && raw.wkt === undefined)) {
      const g = checkGeometry(raw.geometry, opts.crs)
      if ('ok' in g) geometry = g.ok
      else report(g.field, g.error, g.reason)
    } else if (raw.wkt !== undefined) {
      try {
        const g = checkGeometry(parseWkt(String(raw.wkt)), opts.crs, 'wkt')
        if ('ok' in g) geometry = g.ok
        else report(g.field, g.error, g.reason)
      } catch (err) {
        report('wkt', FacilityErrorCode.invalidGeometry, (err as Error).message)
      }
    } else {
      const lonS = text(raw.lon)
      const latS = text(raw.lat)
      if (lonS === undefined || latS === undefined) report(lonS === undefined ? 'lon' : 'lat', FacilityErrorCode.invalidCoordinates, 'lon and lat are both needed')
      else {
        const c = /^[-+]?[0-9]*\.?[0-9]+(e[-+]?[0-9]+)?$/i.test(lonS) && /^[-+]?[0-9]*\.?[0-9]+(e[-+]?[0-9]+)?$/i.test(latS)
          ? lonLat(Number(lonS), Number(latS), 'lon')
          : { field: 'lon', error: FacilityErrorCode.invalidCoordinates, reason: `lon ${JSON.stringify(lonS)}, lat ${JSON.stringify(latS)}: decimal degrees expected` }
        if ('ok' in c) geometry = { type: 'Point', coordinates: toWgs84(c.ok[0], c.ok[1], opts.crs) }
        else report(c.field, c.error, c.reason)
      }
    }

    // organisations
    const org = (field: 'owner' | 'maintainer' | 'authority'): string | null => {
      const v = text(p[field])
      if (v === undefined) {
        if (field === 'owner') report('owner', FacilityErrorCode.missingOwner, 'no owner (权属单位): every component has one, by its 18-character unified social credit code')
        return null
      }
      const code = v.toUpperCase()
      if (!isValidUscc(code)) {
        report(field, FacilityErrorCode.invalidOrganisationCode, `${JSON.stringify(v.slice(0, 40))} is not a unified social credit code (18 characters with a valid check character)`)
        return null
      }
      return code
    }
    const owner = org('owner')
    const maintainer = org('maintainer')
    const authority = org('authority')

    // status, date, texts
    let status: FacilityStatus = 'intact'
    const st = text(p.status)
    if (st !== undefined) {
      const s = STATUS_ALIASES[st.toLowerCase()] ?? STATUS_ALIASES[st]
      if (s) status = s
      else report('status', FacilityErrorCode.invalidStatus, `${JSON.stringify(st.slice(0, 20))} is not one of 完好 intact, 破损 damaged, 丢失 missing, 占用 occupied, 废弃 abandoned`)
    }
    let installedOn: string | null = null
    const dt = text(p.installed_on)
    if (dt !== undefined) {
      installedOn = checkDate(dt)
      if (installedOn === null) report('installed_on', FacilityErrorCode.invalidDate, `${JSON.stringify(dt.slice(0, 20))} is not a date YYYY-MM-DD between 1900 and today`)
    }
    const texts: Record<'name' | 'note', string | null> = { name: null, note: null }
    for (const key of ['name', 'note'] as const) {
      const v = p[key]
      if (v === undefined || v === null || v === '') continue
      if (typeof v !== 'string' || v.length > 500) report(key, FacilityErrorCode.invalidText, `${key} must be text of at most 500 characters`)
      else texts[key] = v
    }

    if (problems.length === before && idText && subclass && geometry && owner) {
      rows.push({ row: raw.row, id: idText, subclass, geometry, owner, maintainer, authority, status, installedOn, name: texts.name, note: texts.note })
    }
  }
  if (!raws.length) problems.push(fileProblem(FacilityErrorCode.emptyFile, 'features', 'the file holds no components'))
  return { rows, problems }
}
