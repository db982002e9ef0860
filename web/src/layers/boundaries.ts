/**
 * Community, subdistrict and district outlines: the first two straight from
 * their vector tiles (`/tiles/communities`, `/tiles/subdistricts`), the
 * district's from the places (web/src/lib/places.ts), since no layer holds it.
 * Three layers, each with its own toggle, the higher level drawn over the lower.
 */
import type { GeoJSONSource } from 'maplibre-gl'
import type { AppContext, LayerModule } from '../context.ts'
import type { MessageKey } from '../i18n.ts'
import { chain } from '../lib/boundaries.ts'
import { h } from '../ui/dom.ts'
import { addGridSources, COMMUNITIES_SOURCE, SUBDISTRICTS_SOURCE } from './cells.ts'
import { COMMUNITY_LINE, DISTRICT_LINE, SUBDISTRICT_LINE } from './palette.ts'

export type BoundaryLevel = 'district' | 'subdistrict' | 'community'

export const DISTRICT_SOURCE = 'district-outline'

const STYLE: Record<BoundaryLevel, { color: string; width: [number, number, number]; dash?: number[]; minzoom: number; key: MessageKey }> = {
  community: { color: COMMUNITY_LINE, width: [0.6, 1.2, 2], dash: [3, 2], minzoom: 11.5, key: 'layer.community' },
  subdistrict: { color: SUBDISTRICT_LINE, width: [1, 2, 3.5], minzoom: 0, key: 'layer.subdistrict' },
  district: { color: DISTRICT_LINE, width: [2, 3, 5], minzoom: 0, key: 'layer.district' },
}

/** The id of the map layer drawing one level; deck.gl layers use it as `beforeId`. */
export const boundaryLayerId = (level: BoundaryLevel): string => `boundary-${level}`

/** The three levels (community, subdistrict, district). */
export function boundaryLayers(): LayerModule[] {
  return (['community', 'subdistrict', 'district'] as const).map((level) => boundaryLayer(level))
}

function boundaryLayer(level: BoundaryLevel): LayerModule {
  const s = STYLE[level]
  let ctx: AppContext | undefined
  return {
    id: level,
    labelKey: s.key,
    defaultVisible: true,
    swatch: () => h('span', { class: `swatch swatch-line${s.dash ? ' dashed' : ''}`, style: `border-top-color: ${s.color}; border-top-width: ${Math.max(2, s.width[1])}px` }),
    add(c) {
      ctx = c
      addGridSources(c)
      let source: { source: string; 'source-layer'?: string }
      if (level === 'district') {
        c.map.addSource(DISTRICT_SOURCE, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } })
        c.places.then((p) => c.map.getSource<GeoJSONSource>(DISTRICT_SOURCE)?.setData({
          type: 'Feature', properties: {}, geometry: { type: 'MultiLineString', coordinates: chain(p.outline) },
        }), () => undefined)
        source = { source: DISTRICT_SOURCE }
      } else if (level === 'subdistrict') source = { source: SUBDISTRICTS_SOURCE, 'source-layer': 'subdistricts' }
      else source = { source: COMMUNITIES_SOURCE, 'source-layer': 'communities' }
      c.map.addLayer({
        id: boundaryLayerId(level),
        type: 'line',
        ...source,
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
