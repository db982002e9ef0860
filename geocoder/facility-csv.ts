/**
 * CSV (RFC 4180) and WKT, the two text forms facility files come in besides
 * GeoJSON. Small on purpose: what spreadsheets and QGIS write, nothing more.
 */
import type { Geometry, Position } from 'geojson'

export interface CsvTable {
  header: string[]
  /** Records after the header. */
  records: string[][]
  /** Line (1-based, as an editor or spreadsheet shows it) on which each record starts; the header is line 1. */
  lines: number[]
}

export class CsvError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`)
    this.name = 'CsvError'
  }
}

/**
 * Parses CSV text: comma separated, fields optionally in double quotes with ""
 * for a quote, CRLF or LF line ends, an optional UTF-8 BOM. Blank lines are skipped.
 * @example parseCsv('id,name\n1,"a, b"\n').records // [['1', 'a, b']]
 */
export function parseCsv(text: string): CsvTable {
  const rows: string[][] = []
  const lines: number[] = []
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let line = 1
  const n = text.length
  while (i < n) {
    const start = line
    const row: string[] = []
    for (;;) {
      let field: string
      if (text[i] === '"') {
        let j = i + 1
        let out = ''
        for (;;) {
          const q = text.indexOf('"', j)
          if (q < 0) throw new CsvError(start, 'a quoted field is not closed')
          out += text.slice(j, q)
          for (let k = j; k < q; k++) if (text.charCodeAt(k) === 10) line++
          if (text[q + 1] === '"') { out += '"'; j = q + 2; continue }
          i = q + 1
          break
        }
        field = out
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') throw new CsvError(line, 'text after a closing quote')
      } else {
        let j = i
        while (j < n) {
          const c = text.charCodeAt(j)
          if (c === 44 || c === 10 || c === 13) break
          j++
        }
        field = text.slice(i, j)
        i = j
      }
      row.push(field)
      if (i < n && text[i] === ',') { i++; continue }
      if (text[i] === '\r') i++
      if (text[i] === '\n') i++
      line++
      break
    }
    if (row.length === 1 && row[0] === '') continue
    rows.push(row)
    lines.push(start)
  }
  if (!rows.length) return { header: [], records: [], lines: [] }
  return { header: rows[0].map((h) => h.trim()), records: rows.slice(1), lines: lines.slice(1) }
}

/** One CSV field, quoted when it must be. */
export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return ''
  const s = String(v)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

const WKT_TYPES = ['POINT', 'LINESTRING', 'POLYGON', 'MULTIPOINT', 'MULTILINESTRING', 'MULTIPOLYGON'] as const

/**
 * Parses 2D WKT of the six simple types into GeoJSON; throws a RangeError saying what is wrong.
 * @example parseWkt('LINESTRING (116.4 39.9, 116.41 39.9)')
 */
export function parseWkt(wkt: string): Geometry {
  const m = /^\s*(?:SRID=\d+;)?\s*([A-Za-z]+)\s*(?:Z|M|ZM)?\s*(\(.*\))\s*$/s.exec(wkt)
  if (!m) throw new RangeError('not WKT: expected e.g. LINESTRING (116.4 39.9, 116.41 39.9)')
  const type = m[1].toUpperCase() as (typeof WKT_TYPES)[number]
  if (!WKT_TYPES.includes(type)) throw new RangeError(`WKT type ${m[1]} is not supported`)
  let pos = 0
  const s = m[2]
  const skip = (): void => { while (pos < s.length && /\s/.test(s[pos])) pos++ }
  const expect = (c: string): void => {
    skip()
    if (s[pos] !== c) throw new RangeError(`WKT: expected "${c}" at character ${pos + 1} of the coordinates`)
    pos++
  }
  const position = (): Position => {
    skip()
    const nums = /^([-+0-9.eE]+)\s+([-+0-9.eE]+)(?:\s+[-+0-9.eE]+){0,2}/.exec(s.slice(pos, pos + 120))
    if (!nums) throw new RangeError(`WKT: expected "x y" at character ${pos + 1} of the coordinates`)
    pos += nums[0].length
    return [Number(nums[1]), Number(nums[2])]
  }
  const list = <T>(item: () => T): T[] => {
    expect('(')
    const out = [item()]
    for (;;) {
      skip()
      if (s[pos] === ',') { pos++; out.push(item()); continue }
      expect(')')
      return out
    }
  }
  // MULTIPOINT (1 2, 3 4) and MULTIPOINT ((1 2), (3 4)) are both in use
  const bare = (): Position => { skip(); return s[pos] === '(' ? list(position)[0] : position() }
  let g: Geometry
  switch (type) {
    case 'POINT': g = { type: 'Point', coordinates: list(position)[0] }; break
    case 'LINESTRING': g = { type: 'LineString', coordinates: list(position) }; break
    case 'POLYGON': g = { type: 'Polygon', coordinates: list(() => list(position)) }; break
    case 'MULTIPOINT': g = { type: 'MultiPoint', coordinates: list(bare) }; break
    case 'MULTILINESTRING': g = { type: 'MultiLineString', coordinates: list(() => list(position)) }; break
    case 'MULTIPOLYGON': g = { type: 'MultiPolygon', coordinates: list(() => list(() => list(position))) }; break
  }
  skip()
  if (pos !== s.length) throw new RangeError(`WKT: unexpected text at character ${pos + 1} of the coordinates`)
  return g
}
