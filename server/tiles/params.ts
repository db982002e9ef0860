/**
 * Checks a tile request before anything is read: the layer exists, z is within
 * the layer's zooms, x and y exist at z. Every refusal is a 4xx with the field
 * that is wrong, never a 500.
 */
import { AppError } from '../errors.ts'
import { LAYERS, LAYER_NAMES, isLayerName, type LayerDef } from './layers.ts'
import type { TileCoord } from './tile-math.ts'

export const TileErrorCode = {
  unknownLayer: 'unknown_layer',
  invalidCoordinate: 'invalid_tile_coordinate',
  zoomOutOfRange: 'zoom_out_of_range',
  tileOutOfRange: 'tile_out_of_range',
} as const

export function layerOf(name: string): LayerDef {
  if (!isLayerName(name)) {
    throw new AppError(404, TileErrorCode.unknownLayer, `no tile layer ${JSON.stringify(name.slice(0, 40))}; layers: ${LAYER_NAMES.join(', ')}`,
      { field: 'params.layer', layers: LAYER_NAMES })
  }
  return LAYERS[name]
}

function integer(raw: string, field: string): number {
  if (!/^[0-9]{1,9}$/.test(raw)) {
    throw new AppError(400, TileErrorCode.invalidCoordinate, `${field.split('.')[1]} must be a non-negative integer, got ${JSON.stringify(raw.slice(0, 20))}`, { field })
  }
  return Number(raw)
}

/** z/x/y of a request for `layer`, checked. */
export function tileCoord(layer: LayerDef, raw: { z: string; x: string; y: string }): TileCoord {
  const z = integer(raw.z, 'params.z')
  if (z < layer.minzoom || z > layer.maxzoom) {
    throw new AppError(400, TileErrorCode.zoomOutOfRange, `layer ${layer.name} has zooms ${layer.minzoom}–${layer.maxzoom} (see /tiles/${layer.name}.json); got ${z}`,
      { field: 'params.z', minzoom: layer.minzoom, maxzoom: layer.maxzoom })
  }
  const x = integer(raw.x, 'params.x')
  const y = integer(raw.y, 'params.y')
  const n = 2 ** z
  if (x >= n) throw new AppError(400, TileErrorCode.tileOutOfRange, `x must be below ${n} at zoom ${z}; got ${x}`, { field: 'params.x', max: n - 1 })
  if (y >= n) throw new AppError(400, TileErrorCode.tileOutOfRange, `y must be below ${n} at zoom ${z}; got ${y}`, { field: 'params.y', max: n - 1 })
  return { z, x, y }
}
