/**
 * The project's own vector tiles (server/routes/tiles.ts): their URLs and zoom
 * ranges, and the tile arithmetic the client needs to read a few tiles itself.
 * MapLibre needs absolute tile URLs (its worker has no page to resolve a
 * relative one against), so they are made from the page's own origin.
 */

/** Zoom ranges as the server's TileJSON gives them (server/tiles/layers.ts); past maxzoom MapLibre overzooms. */
export const TILE_LAYERS = {
  cells: { minzoom: 11, maxzoom: 18 },
  facilities: { minzoom: 14, maxzoom: 18 },
  cases: { minzoom: 11, maxzoom: 18 },
  subdistricts: { minzoom: 8, maxzoom: 14 },
  communities: { minzoom: 10, maxzoom: 16 },
} as const

export type TileLayer = keyof typeof TILE_LAYERS

/**
 * The {z}/{x}/{y} template of a layer on this origin.
 * @example
 * tileTemplate('http://127.0.0.1:3000', 'cells') // 'http://127.0.0.1:3000/tiles/cells/{z}/{x}/{y}.mvt'
 */
export function tileTemplate(origin: string, layer: TileLayer): string {
  return `${origin.replace(/\/$/, '')}/tiles/${layer}/{z}/{x}/{y}.mvt`
}

export function lonToTileX(lon: number, z: number): number {
  return ((lon + 180) / 360) * 2 ** z
}

export function latToTileY(lat: number, z: number): number {
  const r = (lat * Math.PI) / 180
  return ((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z
}

/** Tiles (x, y) of zoom z covering a lon/lat box [w, s, e, n]. */
export function tilesCovering(box: [number, number, number, number], z: number): { x: number; y: number }[] {
  const out: { x: number; y: number }[] = []
  const x0 = Math.floor(lonToTileX(box[0], z))
  const x1 = Math.floor(lonToTileX(box[2], z))
  const y0 = Math.floor(latToTileY(box[3], z))
  const y1 = Math.floor(latToTileY(box[1], z))
  for (let x = x0; x <= x1; x++) for (let y = y0; y <= y1; y++) out.push({ x, y })
  return out
}

/** A point in a tile's own coordinates (0 … extent, y down) → [lon, lat]. */
export function tilePointToLonLat(z: number, x: number, y: number, extent: number, px: number, py: number): [number, number] {
  const n = 2 ** z
  const lon = ((x + px / extent) / n) * 360 - 180
  const t = Math.PI * (1 - (2 * (y + py / extent)) / n)
  return [lon, (Math.atan(Math.sinh(t)) * 180) / Math.PI]
}
