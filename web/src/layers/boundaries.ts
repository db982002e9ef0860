/**
 * Community, subdistrict and district outlines, derived from the cells
 * (web/src/lib/boundaries.ts): three layers over one source, each with its own
 * toggle, the higher level drawn over the lower.
 */
import type { GeoJSONSource } from 'maplibre-gl'
import type { AppContext, LayerModule } from '../context.ts'
import type { BoundaryLevel } from '../lib/boundaries.ts'
import type { MessageKey } from '../i18n.ts'
import { h } from '../ui/dom.ts'
import { COMMUNITY_LINE, DISTRICT_LINE, SUBDISTRICT_LINE } from './palette.ts'

export const BOUNDARIES_SOURCE = 'boundaries'

const STYLE: Record<BoundaryLevel, { color: string; width: [number, number, number]; dash?: number[]; minzoom: number; key: MessageKey }> = {
  community: { color: COMMUNITY_LINE, width: [0.6, 1.2, 2], dash: [3, 2], minzoom: 11.5, key: 'layer.community' },
  subdistrict: { color: SUBDISTRICT_LINE, width: [1, 2, 3.5], minzoom: 0, key: 'layer.subdistrict' },
  district: { color: DISTRICT_LINE, width: [2, 3, 5], minzoom: 0, key: 'layer.district' },
}

/** The id of the map layer drawing one level; deck.gl layers use it as `beforeId`. */
export const boundaryLayerId = (level: BoundaryLevel): string => `boundary-${level}`

/** The three levels (community, subdistrict, district), sharing one source. */
export function boundaryLayers(): LayerModule[] {
  let added = false
  const ensureSource = (ctx: AppContext): void => {
    if (added) return
    added = true
    ctx.map.addSource(BOUNDARIES_SOURCE, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } })
    ctx.grid.then((g) => g.outlines).then((o) => ctx.map.getSource<GeoJSONSource>(BOUNDARIES_SOURCE)?.setData(o.boundaries), () => undefined)
  }
  return (['community', 'subdistrict', 'district'] as const).map((level) => boundaryLayer(level, ensureSource))
}

function boundaryLayer(level: BoundaryLevel, ensureSource: (ctx: AppContext) => void): LayerModule {
  const s = STYLE[level]
  let ctx: AppContext | undefined
  return {
    id: level,
    labelKey: s.key,
    defaultVisible: true,
    swatch: () => h('span', { class: `swatch swatch-line${s.dash ? ' dashed' : ''}`, style: `border-top-color: ${s.color}; border-top-width: ${Math.max(2, s.width[1])}px` }),
    add(c) {
      ctx = c
      ensureSource(c)
      c.map.addLayer({
        id: boundaryLayerId(level),
        type: 'line',
        source: BOUNDARIES_SOURCE,
        filter: ['==', ['get', 'level'], level],
        minzoom: s.minzoom,
        layout: { 'line-join': 'round', 'line-cap': 'round' },
        paint: {
          'line-color': s.color,
          'line-width': ['interpolate', ['linear'], ['zoom'], 10, s.width[0], 13, s.width[1], 17, s.width[2]],
          ...(s.dash ? { 'line-dasharray': s.dash } : {}),
        },
      })
    },
    setVisible(visible) {
      ctx?.map.setLayoutProperty(boundaryLayerId(level), 'visibility', visible ? 'visible' : 'none')
    },
  }
}
