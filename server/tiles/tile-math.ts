/**
 * The XYZ tile pyramid in Web Mercator (EPSG:3857), as PostGIS's ST_TileEnvelope
 * defines it, so the JavaScript renderer and ST_AsMVT cut the very same squares.
 */

/** Half the width of the Web Mercator square, metres (π × 6,378,137). */
export const MERCATOR_HALF = 20037508.342789244
const R = 6378137
/** Mercator stops at ±85.0511°: the square's edge. */
const MAX_LAT = 85.0511287798066

/** Tile extent in integer units: what ST_AsMVT uses by default and MapLibre expects. */
export const EXTENT = 4096
/**
 * Units kept outside the tile on each side (ST_AsMVTGeom's buffer): 128 of 4096 is 16 px
 * of a 512-px tile, enough for point symbols and line joins to cross tile edges unclipped.
 */
export const BUFFER = 128

export interface TileCoord { z: number; x: number; y: number }

/** Mercator metres of a tile: [xmin, ymin, xmax, ymax] (ST_TileEnvelope(z, x, y)). */
export function tileBounds(t: TileCoord): [number, number, number, number] {
  const size = (2 * MERCATOR_HALF) / 2 ** t.z
  const xmin = -MERCATOR_HALF + t.x * size
  const ymax = MERCATOR_HALF - t.y * size
  return [xmin, ymax - size, xmin + size, ymax]
}

export function lonToMercX(lon: number): number {
  return (lon * Math.PI * R) / 180
}

export function latToMercY(lat: number): number {
  const l = Math.max(-MAX_LAT, Math.min(MAX_LAT, lat))
  return R * Math.log(Math.tan(Math.PI / 4 + (l * Math.PI) / 360))
}

export function mercXToLon(x: number): number {
  return (x / R) * (180 / Math.PI)
}

export function mercYToLat(y: number): number {
  return (2 * Math.atan(Math.exp(y / R)) - Math.PI / 2) * (180 / Math.PI)
}

/**
 * The WGS84 box to select rows by: the tile grown by the buffer and half a unit
 * (what ST_AsMVTGeom keeps), so both renderers see the same candidate rows.
 * Mercator is separable in x and y, so the box's image is exactly a lon/lat box.
 */
export function selectionBox(t: TileCoord, extent = EXTENT, buffer = BUFFER): [number, number, number, number] {
  const [xmin, ymin, xmax, ymax] = tileBounds(t)
  const grow = ((xmax - xmin) / extent) * (buffer + 1)
  return [
    mercXToLon(Math.max(-MERCATOR_HALF, xmin - grow)), mercYToLat(Math.max(-MERCATOR_HALF, ymin - grow)),
    mercXToLon(Math.min(MERCATOR_HALF, xmax + grow)), mercYToLat(Math.min(MERCATOR_HALF, ymax + grow)),
  ]
}

/** The tile at a zoom that holds a lon/lat point (for tests, benchmarks and TileJSON centres). */
export function tileAt(lon: number, lat: number, z: number): TileCoord {
  const n = 2 ** z
  const fx = (lonToMercX(lon) + MERCATOR_HALF) / (2 * MERCATOR_HALF)
  const fy = (MERCATOR_HALF - latToMercY(lat)) / (2 * MERCATOR_HALF)
  return { z, x: Math.min(n - 1, Math.max(0, Math.floor(fx * n))), y: Math.min(n - 1, Math.max(0, Math.floor(fy * n))) }
}

/** Every tile of a zoom that meets a lon/lat box, west to east, north to south. */
export function tilesCovering(box: [number, number, number, number], z: number): TileCoord[] {
  const a = tileAt(box[0], box[3], z)
  const b = tileAt(box[2], box[1], z)
  const out: TileCoord[] = []
  for (let y = a.y; y <= b.y; y++) for (let x = a.x; x <= b.x; x++) out.push({ z, x, y })
  return out
}
