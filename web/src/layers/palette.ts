/** Colours shared by the layers and the legend (one place, so they never disagree). */

/** Ten soft fills: neighbouring subdistricts are told apart by their boundary line, not by hue alone. */
export const SUBDISTRICT_FILLS = [
  '#dfe8c9', '#f2dcc2', '#cfe0ee', '#ecd3dc', '#dcd5ec',
  '#f3e8b8', '#cde8e2', '#e8dcc9', '#d9e4bd', '#e6d3e6',
]

export const CELL_LINE = '#7d8a96'
export const COMMUNITY_LINE = '#5d6d7e'
export const SUBDISTRICT_LINE = '#34495e'
export const DISTRICT_LINE = '#c0392b'
export const SELECTION = '#ff6d00'
export const LABEL = '#1c2833'

/** '#rrggbb' → [r, g, b, a] for deck.gl. */
export function rgba(hex: string, alpha = 255): [number, number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16)
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255, alpha]
}
