/**
 * Streaming batch geocoding: rows come in as NDJSON, CSV or a JSON array, are
 * located in chunks through the in-memory index, and go out as NDJSON or CSV
 * while the rest is still arriving. A million points are never one body in
 * memory, and a bad row becomes an error row, not a failed batch.
 */
import type { Readable, Writable } from 'node:stream'
import { once } from 'node:events'
import { StringDecoder } from 'node:string_decoder'
import { INVALID, OUTSIDE } from '../geocoder/types.ts'
import type { GridSnapshot } from './plugins/geocoder.ts'
import { CRS_VALUES as CRS_LIST, type Crs } from '../geocoder/crs.ts'

export type { Crs }

export type InputFormat = 'ndjson' | 'csv' | 'json'
export type OutputFormat = 'ndjson' | 'csv'

export interface BatchLimits {
  /** Longest line (NDJSON/CSV) or array element (JSON), characters. */
  maxLine: number
  /** Most rows in one request. */
  maxRows: number
}

export const DEFAULT_LIMITS: BatchLimits = {
  // 4 KiB: a row is an id and two numbers; anything longer is not a row.
  maxLine: 4096,
  // Ten million: a city's year of reports in one call; more should be split.
  maxRows: 10_000_000,
}

/** One parsed input row: its coordinates, or why it has none. */
interface Row {
  id: string | null
  lon: number
  lat: number
  crs: Crs
  error: { code: string; message: string } | null
}

export type ToWgs84 = (lon: number, lat: number, crs: Crs) => [number, number]

const CRS_VALUES = new Set<string>(CRS_LIST)

class BatchInputError extends Error {
  constructor(readonly code: string, message: string) {
    super(message)
  }
}

function rowError(id: string | null, code: string, message: string): Row {
  return { id, lon: NaN, lat: NaN, crs: 'wgs84', error: { code, message } }
}

function num(v: unknown): number {
  if (typeof v === 'number') return v
  if (typeof v === 'string' && v.trim() !== '') return Number(v)
  return NaN
}

/** A row from a decoded JSON value: {id?, lon, lat, crs?} or [lon, lat]. */
function fromValue(v: unknown, defaultCrs: Crs): Row {
  if (Array.isArray(v)) {
    if (v.length < 2) return rowError(null, 'invalid_row', 'an array row is [lon, lat]')
    return checkCoords({ id: null, lon: num(v[0]), lat: num(v[1]), crs: defaultCrs, error: null })
  }
  if (typeof v !== 'object' || v === null) return rowError(null, 'invalid_row', 'a row is an object {id, lon, lat, crs} or an array [lon, lat]')
  const o = v as Record<string, unknown>
  const id = o.id === undefined || o.id === null ? null : String(o.id).slice(0, 200)
  let crs = defaultCrs
  if (o.crs !== undefined) {
    if (typeof o.crs !== 'string' || !CRS_VALUES.has(o.crs)) return rowError(id, 'unsupported_crs', 'crs is wgs84, gcj02 or bd09')
    crs = o.crs as Crs
  }
  return checkCoords({ id, lon: num(o.lon ?? o.lng ?? o.x), lat: num(o.lat ?? o.y), crs, error: null })
}

function checkCoords(r: Row): Row {
  if (!(r.lon >= -180 && r.lon <= 180)) return rowError(r.id, 'invalid_coordinates', 'lon must be a number in [-180, 180]')
  if (!(r.lat >= -90 && r.lat <= 90)) return rowError(r.id, 'invalid_coordinates', 'lat must be a number in [-90, 90]')
  return r
}

function parseJsonRow(text: string, defaultCrs: Crs): Row {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return rowError(null, 'invalid_json', `not JSON: ${text.slice(0, 60)}`)
  }
  return fromValue(v, defaultCrs)
}

/** Splits a CSV line, honouring double quotes. */
export function splitCsv(line: string): string[] {
  if (!line.includes('"')) return line.split(',')
  const out: string[] = []
  let cur = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++ } else if (c === '"') quoted = false
      else cur += c
    } else if (c === '"') quoted = true
    else if (c === ',') { out.push(cur); cur = '' } else cur += c
  }
  out.push(cur)
  return out
}

/**
 * Yields the lines of a text stream, without their line ends, a chunk's worth
 * at a time: one await per network chunk, not per line, keeps a million rows cheap.
 */
async function* lines(stream: Readable, limits: BatchLimits): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8')
  let rest = ''
  for await (const chunk of stream) {
    rest += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer)
    const out: string[] = []
    let start = 0
    let nl: number
    while ((nl = rest.indexOf('\n', start)) >= 0) {
      const end = nl > start && rest.charCodeAt(nl - 1) === 13 ? nl - 1 : nl
      out.push(rest.slice(start, end))
      start = nl + 1
    }
    rest = rest.slice(start)
    if (out.length) yield out
    if (rest.length > limits.maxLine) throw new BatchInputError('line_too_long', `a line is longer than ${limits.maxLine} characters`)
  }
  rest += decoder.end()
  if (rest.length) yield [rest.endsWith('\r') ? rest.slice(0, -1) : rest]
}

/** Yields the elements of a top-level JSON array as text, without holding the array. */
async function* jsonElements(stream: Readable, limits: BatchLimits): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8')
  let started = false
  let ended = false
  let depth = 0
  let inString = false
  let escaped = false
  let cur = ''
  for await (const chunk of stream) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer)
    const out: string[] = []
    let from = 0
    for (let i = 0; i < text.length; i++) {
      const c = text[i]
      if (ended) {
        if (c.trim()) throw new BatchInputError('invalid_json', 'content after the closing ] of the array')
        continue
      }
      if (!started) {
        if (c === '[') { started = true; from = i + 1 } else if (c.trim()) throw new BatchInputError('invalid_json', 'a JSON batch is an array: it must start with [')
        continue
      }
      if (inString) {
        if (escaped) escaped = false
        else if (c === '\\') escaped = true
        else if (c === '"') inString = false
        continue
      }
      if (c === '"') inString = true
      else if (c === '[' || c === '{') depth++
      else if ((c === ']' || c === '}') && depth > 0) depth--
      else if (depth === 0 && (c === ',' || c === ']')) {
        const el = (cur + text.slice(from, i)).trim()
        cur = ''
        from = i + 1
        if (el) out.push(el)
        else if (c === ',') throw new BatchInputError('invalid_json', 'empty element in the array')
        if (c === ']') ended = true
      }
    }
    if (started && !ended) cur += text.slice(from)
    if (out.length) yield out
    if (cur.length > limits.maxLine) throw new BatchInputError('line_too_long', `an array element is longer than ${limits.maxLine} characters`)
  }
  if (!started || !ended) throw new BatchInputError('invalid_json', 'the JSON array is not closed')
}

/** Yields parsed rows in input order, in runs. */
async function* rows(stream: Readable, format: InputFormat, defaultCrs: Crs, limits: BatchLimits): AsyncGenerator<Row[]> {
  if (format === 'json') {
    for await (const els of jsonElements(stream, limits)) yield els.map((el) => parseJsonRow(el, defaultCrs))
    return
  }
  if (format === 'ndjson') {
    for await (const ls of lines(stream, limits)) {
      const out: Row[] = []
      for (const line of ls) if (line.trim()) out.push(parseJsonRow(line, defaultCrs))
      yield out
    }
    return
  }
  let cols: { id: number; lon: number; lat: number; crs: number } | null = null
  for await (const ls of lines(stream, limits)) {
    const out: Row[] = []
    for (const line of ls) {
      if (!line.trim()) continue
      const f = splitCsv(line)
      if (!cols) {
        const names = f.map((x) => x.trim().toLowerCase().replace(/^\uFEFF/, ''))
        const find = (...alts: string[]): number => names.findIndex((n) => alts.includes(n))
        cols = { id: find('id'), lon: find('lon', 'lng', 'longitude', 'x'), lat: find('lat', 'latitude', 'y'), crs: find('crs') }
        if (cols.lon < 0 || cols.lat < 0) throw new BatchInputError('invalid_csv', 'the CSV header must name lon and lat columns (and may name id and crs)')
        continue
      }
      const id = cols.id >= 0 ? (f[cols.id] ?? '').slice(0, 200) : null
      const crs = cols.crs >= 0 && f[cols.crs] ? f[cols.crs].trim() : defaultCrs
      if (!CRS_VALUES.has(crs)) { out.push(rowError(id, 'unsupported_crs', 'crs is wgs84, gcj02 or bd09')); continue }
      out.push(checkCoords({ id, lon: num(f[cols.lon]), lat: num(f[cols.lat]), crs: crs as Crs, error: null }))
    }
    yield out
  }
}

const csvField = (s: string | null): string => (s === null ? '' : /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)

export const CSV_HEADER = 'row,id,cell,community,subdistrict,responsible_unit,snapped,distance_m,error\n'

export interface BatchSummary {
  rows: number
  located: number
  snapped: number
  outside: number
  errors: number
}

const CHUNK = 16_384

/**
 * Reads rows from `input`, writes one result per row to `out` (in order), and
 * returns the counts. An input error that makes the rest unreadable (a broken
 * JSON array, a missing CSV header) ends the output with one error row.
 */
export async function geocodeStream(
  input: Readable,
  out: Writable,
  snapshot: GridSnapshot,
  opts: { input: InputFormat; output: OutputFormat; crs: Crs; toWgs84: ToWgs84; limits?: BatchLimits },
): Promise<BatchSummary> {
  const limits = opts.limits ?? DEFAULT_LIMITS
  const summary: BatchSummary = { rows: 0, located: 0, snapped: 0, outside: 0, errors: 0 }
  const csv = opts.output === 'csv'
  if (csv) out.write(CSV_HEADER)
  let chunk: Row[] = []
  const coords = new Float64Array(CHUNK * 2)

  const flush = async (): Promise<void> => {
    if (!chunk.length) return
    for (let i = 0; i < chunk.length; i++) {
      const r = chunk[i]
      if (r.error || r.crs === 'wgs84') {
        coords[2 * i] = r.lon
        coords[2 * i + 1] = r.lat
      } else {
        try {
          const [x, y] = opts.toWgs84(r.lon, r.lat, r.crs)
          coords[2 * i] = x
          coords[2 * i + 1] = y
        } catch {
          // Reported as INVALID by locateMany below.
          coords[2 * i] = NaN
          coords[2 * i + 1] = NaN
        }
      }
    }
    const res = snapshot.index.locateMany(coords.subarray(0, chunk.length * 2))
    let text = ''
    for (let i = 0; i < chunk.length; i++) {
      const r = chunk[i]
      const rowNo = summary.rows + i + 1
      const cell = res.cells[i]
      let error: { code: string; message: string; distance_m?: number } | null = r.error
      if (!error && cell === INVALID) error = { code: 'invalid_coordinates', message: 'coordinates out of range after conversion' }
      if (!error && cell === OUTSIDE) {
        const d = Math.round(res.distanceM[i] * 10) / 10
        error = { code: 'outside_district', message: `${d} m outside the district`, distance_m: d }
        summary.outside++
      }
      if (error) {
        if (error.code !== 'outside_district') summary.errors++
        text += csv
          ? `${rowNo},${csvField(r.id)},,,,,,${error.distance_m ?? ''},${error.code}\n`
          : `${JSON.stringify({ row: rowNo, id: r.id, error })}\n`
        continue
      }
      const info = snapshot.info[cell]
      const snapped = res.snapped[i] === 1
      if (snapped) summary.snapped++
      summary.located++
      const d = Math.round(res.distanceM[i] * 10) / 10
      const unit = info.responsibleUnits[0].uscc
      text += csv
        ? `${rowNo},${csvField(r.id)},${info.code},${info.community.code},${info.subdistrict.code},${unit},${snapped},${d},\n`
        : `{"row":${rowNo},"id":${r.id === null ? 'null' : JSON.stringify(r.id)},"cell":"${info.code}","community":"${info.community.code}","subdistrict":"${info.subdistrict.code}","responsible_unit":"${unit}","snapped":${snapped},"distance_m":${d}}\n`
    }
    summary.rows += chunk.length
    chunk = []
    if (!out.write(text)) await once(out, 'drain')
  }

  try {
    for await (const run of rows(input, opts.input, opts.crs, limits)) {
      for (const r of run) {
        if (summary.rows + chunk.length >= limits.maxRows) throw new BatchInputError('too_many_rows', `at most ${limits.maxRows} rows in one batch`)
        chunk.push(r)
        if (chunk.length === CHUNK) await flush()
      }
    }
    await flush()
  } catch (err) {
    await flush()
    if (!(err instanceof BatchInputError)) throw err
    summary.errors++
    out.write(csv ? `,,,,,,,,${err.code}\n` : `${JSON.stringify({ row: null, error: { code: err.code, message: err.message } })}\n`)
  }
  return summary
}
