/**
 * Unit cells: a fill coloured by subdistrict and an outline that appears as
 * the cells become big enough to tell apart. One GeoJSON source for the whole
 * district until the API serves vector tiles (then only the source changes).
 */
import type { ExpressionSpecification, GeoJSONSource, MapLayerMouseEvent } from 'maplibre-gl'
import type { AppContext, LayerModule } from '../context.ts'
import { h } from '../ui/dom.ts'
import { CELL_LINE, SUBDISTRICT_FILLS } from './palette.ts'

export const CELLS_SOURCE = 'cells'
export const CELLS_FILL = 'cells-fill'
const CELLS_LINE = 'cells-line'

/** The subdistrict's 3-digit number picks the colour: stable across loads and sessions. */
const FILL_BY_SUBDISTRICT: ExpressionSpecification = ['to-color', ['at',
  ['%', ['to-number', ['slice', ['get', 'subdistrict_code'], 6], 0], SUBDISTRICT_FILLS.length],
  ['literal', SUBDISTRICT_FILLS]]]

export function cellsLayer(): LayerModule {
  let ctx: AppContext | undefined
  let hovered: string | undefined

  const setHover = (code: string | undefined): void => {
    if (!ctx || code === hovered) return
    if (hovered !== undefined) ctx.map.setFeatureState({ source: CELLS_SOURCE, id: hovered }, { hover: false })
    hovered = code
    if (code !== undefined) ctx.map.setFeatureState({ source: CELLS_SOURCE, id: code }, { hover: true })
  }

  return {
    id: 'cells',
    labelKey: 'layer.cells',
    defaultVisible: true,
    swatch: () => h('span', { class: 'swatch swatch-fill', style: `background: linear-gradient(90deg, ${SUBDISTRICT_FILLS.slice(0, 4).join(', ')})` }),
    add(c) {
      ctx = c
      const { map } = c
      map.addSource(CELLS_SOURCE, {
        type: 'geojson',
        data: { type: 'FeatureCollection', features: [] },
        // Feature state (hover) is keyed by the cell code.
        promoteId: 'code',
      })
      map.addLayer({
        id: CELLS_FILL,
        type: 'fill',
        source: CELLS_SOURCE,
        paint: {
          'fill-color': FILL_BY_SUBDISTRICT,
          'fill-opacity': ['case', ['boolean', ['feature-state', 'hover'], false], 1, 0.82],
        },
      })
      map.addLayer({
        id: CELLS_LINE,
        type: 'line',
        source: CELLS_SOURCE,
        minzoom: 11,
        paint: {
          'line-color': CELL_LINE,
          'line-width': ['interpolate', ['linear'], ['zoom'], 11, 0.3, 15, 1, 18, 1.5],
          'line-opacity': ['interpolate', ['linear'], ['zoom'], 11, 0, 12.5, 0.55, 15, 0.8],
        },
      })
      // The client's copy of the cells is handed over once; the worker tiles it from there.
      c.grid.then(async (g) => {
        await map.getSource<GeoJSONSource>(CELLS_SOURCE)?.setData(g.lean)
        performance.mark('wangge:cells-tiled')
      }).catch(() => undefined)
      map.on('mousemove', CELLS_FILL, (e: MapLayerMouseEvent) => {
        const id = e.features?.[0]?.id
        setHover(typeof id === 'string' ? id : undefined)
        map.getCanvas().style.cursor = 'crosshair'
      })
      map.on('mouseleave', CELLS_FILL, () => {
        setHover(undefined)
        map.getCanvas().style.cursor = ''
      })
    },
    setVisible(visible) {
      if (!ctx) return
      for (const id of [CELLS_FILL, CELLS_LINE]) ctx.map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none')
      if (!visible) setHover(undefined)
    },
  }
}
