/**
 * The map's style: built here, not fetched. It names no glyphs and no sprite,
 * so MapLibre never asks for fonts or icons; labels are drawn by deck.gl from
 * the browser's own fonts. The only remote source possible is a raster base map
 * that an operator configures explicitly (`?basemap=`), off by default.
 */
import type { StyleSpecification } from 'maplibre-gl'

export const BACKGROUND = '#eef0f2'

export interface StyleOptions {
  /** Raster tile URL template with {z}/{x}/{y}; undefined = no base map. */
  basemap?: string
  basemapAttribution?: string
}

export function buildStyle(o: StyleOptions = {}): StyleSpecification {
  const style: StyleSpecification = {
    version: 8,
    name: 'wangge',
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': BACKGROUND } }],
  }
  if (o.basemap) {
    style.sources.basemap = {
      type: 'raster',
      tiles: [o.basemap],
      tileSize: 256,
      maxzoom: 19,
      attribution: o.basemapAttribution ?? '',
    }
    style.layers.push({ id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-opacity': 0.85 } })
  }
  return style
}
