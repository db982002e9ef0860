/**
 * Unit cells from the project's vector tiles (`/tiles/cells`, z11–18): a fill
 * coloured by subdistrict and an outline that appears as the cells become big
 * enough to tell apart. Below z11 a cell is under two pixels and the tiles
 * would be heavy, so the subdistricts' own polygons (`/tiles/subdistricts`)
 * are filled with the same colours instead: the map looks the same at every
 * zoom, and the first frame needs two small tiles.
 */
import type { ExpressionSpecification, MapLayerMouseEvent, VectorTileSource } from 'maplibre-gl'
import type { AppContext, LayerModule } from '../context.ts'
import { TILE_LAYERS, tileTemplate } from '../lib/tiles.ts'
import { h } from '../ui/dom.ts'
import { CELL_LINE, SUBDISTRICT_FILLS } from './palette.ts'

export const CELLS_SOURCE = 'cells'
export const SUBDISTRICTS_SOURCE = 'subdistricts'
export const COMMUNITIES_SOURCE = 'communities'
export const CELLS_FILL = 'cells-fill'
export const SUBDISTRICTS_FILL = 'subdistricts-fill'
const CELLS_LINE = 'cells-line'
/** From this zoom the cells themselves are drawn. */
export const CELLS_MIN_ZOOM = TILE_LAYERS.cells.minzoom

/** The subdistrict's 3-digit number picks the colour: stable across loads and sessions. */
const fillBySubdistrict = (field: string): ExpressionSpecification => ['to-color', ['at',
  ['%', ['to-number', ['slice', ['get', field], 6, 9], 0], SUBDISTRICT_FILLS.length],
  ['literal', SUBDISTRICT_FILLS]]]

/** The three grid sources (cells, subdistricts, communities), each from its own tiles on this origin. */
export function addGridSources(ctx: AppContext): void {
  const { map } = ctx
  const origin = window.location.origin
  for (const name of [CELLS_SOURCE, SUBDISTRICTS_SOURCE, COMMUNITIES_SOURCE] as const) {
    if (map.getSource(name)) continue
    map.addSource(name, { type: 'vector', tiles: [tileTemplate(origin, name)], minzoom: TILE_LAYERS[name].minzoom, maxzoom: TILE_LAYERS[name].maxzoom })
  }
}

/**
 * After a grid commit: the grid sources read their tiles again, with the new
 * grid version in the URL so no cached tile of the old layout is used
 * (the server ignores the query; tiles are also revalidated by ETag).
 */
export function refreshGridTiles(ctx: AppContext, version: number): void {
  const origin = window.location.origin
  for (const name of [CELLS_SOURCE, SUBDISTRICTS_SOURCE, COMMUNITIES_SOURCE] as const) {
    ctx.map.getSource<VectorTileSource>(name)?.setTiles([`${tileTemplate(origin, name)}?v=${version}`])
  }
}

export function cellsLayer(): LayerModule {
  let ctx: AppContext | undefined
  let hovered: number | undefined

  const setHover = (id: number | undefined): void => {
    if (!ctx || id === hovered) return
    if (hovered !== undefined) ctx.map.setFeatureState({ source: CELLS_SOURCE, sourceLayer: 'cells', id: hovered }, { hover: false })
    hovered = id
    if (id !== undefined) ctx.map.setFeatureState({ source: CELLS_SOURCE, sourceLayer: 'cells', id }, { hover: true })
  }

  return {
    id: 'cells',
    labelKey: 'layer.cells',
    defaultVisible: true,
    swatch: () => h('span', { class: 'swatch swatch-fill', style: `background: linear-gradient(90deg, ${SUBDISTRICT_FILLS.slice(0, 4).join(', ')})` }),
    add(c) {
      ctx = c
      const { map } = c
      addGridSources(c)
      map.addLayer({
        id: SUBDISTRICTS_FILL,
        type: 'fill',
        source: SUBDISTRICTS_SOURCE,
        'source-layer': 'subdistricts',
        maxzoom: CELLS_MIN_ZOOM,
        paint: { 'fill-color': fillBySubdistrict('code'), 'fill-opacity': 0.82 },
      })
      map.addLayer({
        id: CELLS_FILL,
        type: 'fill',
        source: CELLS_SOURCE,
        'source-layer': 'cells',
        minzoom: CELLS_MIN_ZOOM,
        paint: {
          'fill-color': fillBySubdistrict('subdistrict'),
          'fill-opacity': ['case', ['boolean', ['feature-state', 'hover'], false], 1, 0.82],
        },
      })
      map.addLayer({
        id: CELLS_LINE,
        type: 'line',
        source: CELLS_SOURCE,
        'source-layer': 'cells',
        minzoom: CELLS_MIN_ZOOM,
        paint: {
          'line-color': CELL_LINE,
          'line-width': ['interpolate', ['linear'], ['zoom'], 11, 0.3, 15, 1, 18, 1.5],
          'line-opacity': ['interpolate', ['linear'], ['zoom'], 11, 0, 12.5, 0.55, 15, 0.8],
        },
      })
      map.on('mousemove', CELLS_FILL, (e: MapLayerMouseEvent) => {
        const id = e.features?.[0]?.id
        setHover(typeof id === 'number' ? id : undefined)
        map.getCanvas().style.cursor = 'crosshair'
      })
      map.on('mouseleave', CELLS_FILL, () => {
        setHover(undefined)
        map.getCanvas().style.cursor = ''
      })
    },
    setVisible(visible) {
      if (!ctx) return
      for (const id of [SUBDISTRICTS_FILL, CELLS_FILL, CELLS_LINE]) ctx.map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none')
      if (!visible) setHover(undefined)
    },
  }
}
