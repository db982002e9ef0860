/**
 * Open cases by the traffic light of their running stage (green < 80 % of the
 * limit used, yellow to 100 %, red past it), from the case tiles
 * (`/tiles/cases`, roles that see every case). The tiles carry the user's
 * token (main.ts transformRequest); without a role that may read them the
 * source is not even added, so nothing is asked for in vain.
 */
import type { ExpressionSpecification } from 'maplibre-gl'
import type { AppContext, LayerModule } from '../context.ts'
import { TILE_LAYERS, tileTemplate } from '../lib/tiles.ts'
import { h } from '../ui/dom.ts'
import { LIGHTS } from './palette.ts'

export const CASES_SOURCE = 'open-cases'
const CASES_CIRCLES = 'open-cases'
/** Roles that see every case (server/cases/roles.ts SEES_ALL). */
export const CASE_TILE_ROLES = ['supervisor', 'command_centre', 'dispatcher', 'planner', 'leader', 'admin']

const BY_LIGHT: ExpressionSpecification = ['match', ['coalesce', ['get', 'light'], ''], 'green', LIGHTS.green, 'yellow', LIGHTS.yellow, 'red', LIGHTS.red, '#8a8a8a']

export function casesLayer(): LayerModule {
  let ctx: AppContext | undefined
  let visible = false
  let tokenOfSource: string | null = null

  /** (Re)makes the source for the signed-in user: the tiles are per token. */
  const sync = (): void => {
    if (!ctx) return
    const { map, auth } = ctx
    const allowed = auth.token !== null && CASE_TILE_ROLES.includes(auth.me?.role ?? '')
    const want = allowed && visible ? auth.token : null
    if (want === tokenOfSource) return
    if (map.getLayer(CASES_CIRCLES)) map.removeLayer(CASES_CIRCLES)
    if (map.getSource(CASES_SOURCE)) map.removeSource(CASES_SOURCE)
    tokenOfSource = want
    if (!want) return
    map.addSource(CASES_SOURCE, { type: 'vector', tiles: [tileTemplate(window.location.origin, 'cases')], minzoom: TILE_LAYERS.cases.minzoom, maxzoom: TILE_LAYERS.cases.maxzoom })
    // Under the selection and the names (deck.gl, on top), over every MapLibre layer.
    map.addLayer({
      id: CASES_CIRCLES,
      type: 'circle',
      source: CASES_SOURCE,
      'source-layer': 'cases',
      paint: {
        'circle-color': BY_LIGHT,
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 11, 2.5, 14, 4, 17, 7],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 1,
      },
    })
  }

  return {
    id: 'cases',
    labelKey: 'layer.cases',
    defaultVisible: false,
    needsRole: true,
    swatch: () => h('span', { class: 'swatch swatch-fill', style: `background: linear-gradient(90deg, ${LIGHTS.green}, ${LIGHTS.yellow}, ${LIGHTS.red})` }),
    add(c) {
      ctx = c
      c.auth.onChange(sync)
      void c.auth.ready.then(sync)
    },
    setVisible(v) {
      visible = v
      sync()
    },
    controls() {
      if (!ctx) return null
      const t = ctx.i18n.t.bind(ctx.i18n)
      return h('div', { class: 'layer-controls' },
        h('ul', { class: 'key inline' }, ...(['green', 'yellow', 'red'] as const).map((l) => h('li', {}, h('span', { class: 'dot', style: `background: ${LIGHTS[l]}` }), t(`light.${l}`)))),
        ctx.map.getZoom() < TILE_LAYERS.cases.minzoom ? h('p', { class: 'note' }, t('facility.zoomIn', { zoom: TILE_LAYERS.cases.minzoom })) : null)
    },
  }
}
