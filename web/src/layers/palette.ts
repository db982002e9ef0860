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

/** Traffic lights of a case's running stage (green < 80 % of the limit used, yellow to 100 %, red past it). */
export const LIGHTS = { green: '#2e9d4f', yellow: '#e0a100', red: '#d62d20' } as const

/** Grades A–E of a composite score (A ≥ 90 … E < 40): green to red. */
export const GRADES = { A: '#1a9850', B: '#91cf60', C: '#fee08b', D: '#fc8d59', E: '#d73027' } as const

/** Case density, light to dark (heatmap and hexagons). */
export const DENSITY: [number, number, number][] = [[255, 255, 204], [255, 237, 160], [254, 178, 76], [253, 141, 60], [240, 59, 32], [189, 0, 38]]

/** Gi* confidence −99 … +99 %: cold blues, neutral, hot reds. */
export const HOTSPOT: Record<string, string> = { '-99': '#2166ac', '-95': '#67a9cf', '-90': '#d1e5f0', '90': '#fddbc7', '95': '#ef8a62', '99': '#b2182b' }

/** Twelve distinct hues for owners (utilities and departments), assigned in order of how many components each owns. */
export const OWNER_COLOURS = [
  '#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf',
  '#8c564b', '#e377c2', '#bcbd22', '#393b79', '#637939', '#843c39',
]
export const OTHER_OWNER = '#7f7f7f'
