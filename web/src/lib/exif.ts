/**
 * The little of EXIF a field photo needs to keep through resizing on the phone:
 * when it was taken (DateTimeOriginal) and where (GPS latitude and longitude).
 *
 * A canvas re-encode drops every metadata segment, so the phone reads these
 * from the original JPEG, and writes them back into the resized one as a new,
 * minimal APP1 segment (orientation is not copied: the canvas has already
 * applied it to the pixels). Pure functions on bytes: tested in Node.
 */

export interface PhotoMeta {
  /** "YYYY:MM:DD HH:MM:SS", local time of the camera, as EXIF writes it. */
  takenAt?: string
  /** WGS84 (what a phone's GPS records). */
  gps?: { lat: number; lon: number }
  /** 1–8; only read (the resized photo is already upright). */
  orientation?: number
}

const SOI = 0xd8
const APP0 = 0xe0
const APP1 = 0xe1
const SOS = 0xda
const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0, 0] // "Exif\0\0"

const TAG_ORIENTATION = 0x0112
const TAG_DATETIME = 0x0132
const TAG_EXIF_IFD = 0x8769
const TAG_GPS_IFD = 0x8825
const TAG_DATETIME_ORIGINAL = 0x9003
const GPS_LAT_REF = 0x0001
const GPS_LAT = 0x0002
const GPS_LON_REF = 0x0003
const GPS_LON = 0x0004

const ASCII = 2
const SHORT = 3
const LONG = 4
const RATIONAL = 5
const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8 }

/** Where each marker segment of a JPEG starts (at its 0xFF), up to the start of scan. */
function segments(jpeg: Uint8Array): { marker: number; start: number; dataStart: number; end: number }[] {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== SOI) return []
  const out: { marker: number; start: number; dataStart: number; end: number }[] = []
  let i = 2
  while (i + 4 <= jpeg.length) {
    if (jpeg[i] !== 0xff) return out
    const marker = jpeg[i + 1]
    if (marker === 0xff) { i++; continue }
    if (marker === SOS) break
    const len = (jpeg[i + 2] << 8) | jpeg[i + 3]
    if (len < 2 || i + 2 + len > jpeg.length) return out
    out.push({ marker, start: i, dataStart: i + 4, end: i + 2 + len })
    i += 2 + len
  }
  return out
}

function isExif(jpeg: Uint8Array, at: number): boolean {
  return EXIF_HEADER.every((b, k) => jpeg[at + k] === b)
}

/** Reads the capture time, GPS position and orientation of a JPEG; {} when it has none (or is not a JPEG). */
export function readExif(jpeg: Uint8Array): PhotoMeta {
  const seg = segments(jpeg).find((s) => s.marker === APP1 && isExif(jpeg, s.dataStart))
  if (!seg) return {}
  const tiff = seg.dataStart + 6
  const view = new DataView(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength)
  const end = seg.end
  if (tiff + 8 > end) return {}
  const order = view.getUint16(tiff)
  if (order !== 0x4949 && order !== 0x4d4d) return {}
  const le = order === 0x4949
  const u16 = (o: number): number => view.getUint16(o, le)
  const u32 = (o: number): number => view.getUint32(o, le)
  if (u16(tiff + 2) !== 42) return {}

  interface Entry { tag: number; type: number; count: number; valueAt: number }
  const ifd = (offset: number): Entry[] => {
    const at = tiff + offset
    if (offset <= 0 || at + 2 > end) return []
    const n = u16(at)
    const entries: Entry[] = []
    for (let k = 0; k < n; k++) {
      const e = at + 2 + k * 12
      if (e + 12 > end) break
      const type = u16(e + 2)
      const count = u32(e + 4)
      const size = (TYPE_SIZE[type] ?? 0) * count
      const valueAt = size <= 4 ? e + 8 : tiff + u32(e + 8)
      if (size === 0 || valueAt + size > end) continue
      entries.push({ tag: u16(e), type, count, valueAt })
    }
    return entries
  }
  const ascii = (e: Entry): string => {
    let s = ''
    for (let k = 0; k < e.count; k++) {
      const c = jpeg[e.valueAt + k]
      if (c === 0) break
      s += String.fromCharCode(c)
    }
    return s.trim()
  }
  const rationals = (e: Entry): number[] => Array.from({ length: e.count }, (_, k) => {
    const den = u32(e.valueAt + k * 8 + 4)
    return den === 0 ? NaN : u32(e.valueAt + k * 8) / den
  })
  const find = (es: Entry[], tag: number): Entry | undefined => es.find((e) => e.tag === tag)

  const meta: PhotoMeta = {}
  const ifd0 = ifd(u32(tiff + 4))
  const orientation = find(ifd0, TAG_ORIENTATION)
  if (orientation && orientation.type === SHORT) meta.orientation = u16(orientation.valueAt)
  const exifPtr = find(ifd0, TAG_EXIF_IFD)
  const original = exifPtr ? find(ifd(u32(exifPtr.valueAt)), TAG_DATETIME_ORIGINAL) : undefined
  const when = original ?? find(ifd0, TAG_DATETIME)
  if (when && when.type === ASCII) {
    const s = ascii(when)
    if (/^\d{4}:\d{2}:\d{2} \d{2}:\d{2}:\d{2}$/.test(s)) meta.takenAt = s
  }
  const gpsPtr = find(ifd0, TAG_GPS_IFD)
  if (gpsPtr) {
    const g = ifd(u32(gpsPtr.valueAt))
    const latRef = find(g, GPS_LAT_REF)
    const lat = find(g, GPS_LAT)
    const lonRef = find(g, GPS_LON_REF)
    const lon = find(g, GPS_LON)
    if (latRef && lat && lonRef && lon && lat.type === RATIONAL && lon.type === RATIONAL && lat.count === 3 && lon.count === 3) {
      const dms = (r: number[]): number => r[0] + r[1] / 60 + r[2] / 3600
      const la = dms(rationals(lat)) * (ascii(latRef) === 'S' ? -1 : 1)
      const lo = dms(rationals(lon)) * (ascii(lonRef) === 'W' ? -1 : 1)
      if (Number.isFinite(la) && Number.isFinite(lo) && Math.abs(la) <= 90 && Math.abs(lo) <= 180) meta.gps = { lat: la, lon: lo }
    }
  }
  return meta
}

/** Degrees as EXIF's three rationals: degrees, minutes, seconds × 10,000. */
function toDms(deg: number): [number, number][] {
  const a = Math.abs(deg)
  const d = Math.floor(a)
  const mFull = (a - d) * 60
  const m = Math.floor(mFull)
  const s = Math.round((mFull - m) * 60 * 10_000)
  return [[d, 1], [m, 1], [s, 10_000]]
}

/**
 * An APP1 segment (marker included) holding only `meta`'s time and position;
 * null when there is nothing to write. Little-endian unless asked otherwise.
 */
export function buildExifSegment(meta: PhotoMeta, littleEndian = true): Uint8Array | null {
  const hasTime = meta.takenAt !== undefined && /^\d{4}:\d{2}:\d{2} \d{2}:\d{2}:\d{2}$/.test(meta.takenAt)
  const gps = meta.gps && Number.isFinite(meta.gps.lat) && Number.isFinite(meta.gps.lon) ? meta.gps : undefined
  if (!hasTime && !gps) return null

  // Layout after the TIFF header (offsets from the TIFF start):
  // IFD0 at 8: its entries point to the Exif IFD and the GPS IFD that follow, then their values.
  const ifd0Entries = (hasTime ? 1 : 0) + (gps ? 1 : 0)
  const ifd0Size = 2 + ifd0Entries * 12 + 4
  const exifIfdAt = 8 + ifd0Size
  const exifIfdSize = hasTime ? 2 + 12 + 4 : 0
  const timeAt = exifIfdAt + exifIfdSize
  const timeSize = hasTime ? 20 : 0
  const gpsIfdAt = timeAt + timeSize
  const gpsIfdSize = gps ? 2 + 4 * 12 + 4 : 0
  const latAt = gpsIfdAt + gpsIfdSize
  const lonAt = latAt + (gps ? 24 : 0)
  const tiffSize = lonAt + (gps ? 24 : 0)

  const total = 2 + 2 + 6 + tiffSize
  if (total - 2 > 0xffff) return null
  const out = new Uint8Array(total)
  const v = new DataView(out.buffer)
  out[0] = 0xff
  out[1] = APP1
  v.setUint16(2, total - 2)
  out.set(EXIF_HEADER, 4)
  const t = 10
  const le = littleEndian
  v.setUint16(t, le ? 0x4949 : 0x4d4d)
  v.setUint16(t + 2, 42, le)
  v.setUint32(t + 4, 8, le)
  const entry = (at: number, tag: number, type: number, count: number, value: (o: number) => void): void => {
    v.setUint16(at, tag, le)
    v.setUint16(at + 2, type, le)
    v.setUint32(at + 4, count, le)
    value(at + 8)
  }
  // IFD0 (entries in ascending tag order, as TIFF asks)
  let e = t + 8
  v.setUint16(e, ifd0Entries, le)
  e += 2
  if (hasTime) { entry(e, TAG_EXIF_IFD, LONG, 1, (o) => v.setUint32(o, exifIfdAt, le)); e += 12 }
  if (gps) { entry(e, TAG_GPS_IFD, LONG, 1, (o) => v.setUint32(o, gpsIfdAt, le)); e += 12 }
  v.setUint32(e, 0, le)
  if (hasTime) {
    const x = t + exifIfdAt
    v.setUint16(x, 1, le)
    entry(x + 2, TAG_DATETIME_ORIGINAL, ASCII, 20, (o) => v.setUint32(o, timeAt, le))
    v.setUint32(x + 14, 0, le)
    for (let k = 0; k < 19; k++) out[t + timeAt + k] = (meta.takenAt as string).charCodeAt(k)
  }
  if (gps) {
    const g = t + gpsIfdAt
    v.setUint16(g, 4, le)
    entry(g + 2, GPS_LAT_REF, ASCII, 2, (o) => { out[o] = (gps.lat < 0 ? 'S' : 'N').charCodeAt(0) })
    entry(g + 14, GPS_LAT, RATIONAL, 3, (o) => v.setUint32(o, latAt, le))
    entry(g + 26, GPS_LON_REF, ASCII, 2, (o) => { out[o] = (gps.lon < 0 ? 'W' : 'E').charCodeAt(0) })
    entry(g + 38, GPS_LON, RATIONAL, 3, (o) => v.setUint32(o, lonAt, le))
    v.setUint32(g + 50, 0, le)
    const put = (at: number, r: [number, number][]): void => r.forEach(([n, d], k) => { v.setUint32(t + at + k * 8, n, le); v.setUint32(t + at + k * 8 + 4, d, le) })
    put(latAt, toDms(gps.lat))
    put(lonAt, toDms(gps.lon))
  }
  return out
}

/**
 * `jpeg` with its EXIF segments replaced by `segment` (after the JFIF APP0 when
 * there is one, else right after SOI). The input is returned unchanged when it
 * is not a JPEG.
 */
export function withExif(jpeg: Uint8Array, segment: Uint8Array): Uint8Array {
  const segs = segments(jpeg)
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== SOI) return jpeg
  const drop = segs.filter((s) => s.marker === APP1 && isExif(jpeg, s.dataStart))
  const app0 = segs.find((s) => s.marker === APP0)
  const insertAt = app0 && app0.start === 2 ? app0.end : 2
  const parts: Uint8Array[] = []
  let from = 0
  const cut = (to: number): void => { if (to > from) parts.push(jpeg.subarray(from, to)) }
  let inserted = false
  for (const s of [...drop, { start: insertAt, end: insertAt }].sort((a, b) => a.start - b.start)) {
    cut(s.start)
    if (s.start === insertAt && !inserted && s.end === insertAt) {
      parts.push(segment)
      inserted = true
    }
    from = Math.max(from, s.end)
  }
  cut(jpeg.length)
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}
