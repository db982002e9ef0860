/**
 * Reading a point typed or pasted by a dispatcher: "116.4631, 39.9210",
 * "116.4631 39.9210", "39.9210,116.4631" (latitude first, as phone apps often
 * copy it), full-width commas from a Chinese keyboard.
 */
export type ParsedPoint = { lon: number; lat: number; swapped: boolean }

export type ParseError = 'empty' | 'format' | 'range'

export function parsePoint(text: string): ParsedPoint | ParseError {
  const cleaned = text.replace(/[，、；;]/g, ',').trim()
  if (cleaned === '') return 'empty'
  const parts = cleaned.split(/[\s,]+/).filter(Boolean)
  if (parts.length !== 2) return 'format'
  const [a, b] = parts.map(Number)
  if (!Number.isFinite(a) || !Number.isFinite(b)) return 'format'
  if (Math.abs(a) <= 180 && Math.abs(b) <= 90) return { lon: a, lat: b, swapped: false }
  // Only swap when the typed order cannot be lon,lat: then it is unambiguous.
  if (Math.abs(a) <= 90 && Math.abs(b) <= 180) return { lon: b, lat: a, swapped: true }
  return 'range'
}

/** Text with a letter or a CJK character is an address to look up, not a mistyped coordinate. */
export function looksLikeAddress(text: string): boolean {
  return /[\p{L}]/u.test(text.replace(/[eE][+-]?\d/g, ''))
}
