/**
 * Facility ownership: management components from their vector tiles
 * (`/tiles/facilities`, from z14), coloured by owner (权属单位) so, say, the
 * manhole covers read by utility; filtered by owner and subclass; a click opens
 * the component's card (ID, subclass, owner, maintainer, status, cell) from
 * GET /api/facilities/:id.
 */
import { Popup, type ExpressionSpecification, type FilterSpecification, type MapLayerMouseEvent } from 'maplibre-gl'
import type { AppContext, LayerModule } from '../context.ts'
import { ownerColours } from '../lib/ramp.ts'
import { TILE_LAYERS, tileTemplate } from '../lib/tiles.ts'
import type { ComponentClass, FacilityFeature, Organisation } from '../types.ts'
import { h } from '../ui/dom.ts'
import { OTHER_OWNER, OWNER_COLOURS } from './palette.ts'

export const FACILITIES_SOURCE = 'facilities'
const POINTS = 'facilities-point'
const LINES = 'facilities-line'
const AREAS = 'facilities-area'
const IDS = [AREAS, LINES, POINTS]
export const FACILITIES_MIN_ZOOM = TILE_LAYERS.facilities.minzoom

export function facilitiesLayer(): LayerModule {
  let ctx: AppContext | undefined
  let visible = false
  let owners: Organisation[] = []
  let classes: ComponentClass[] = []
  let colours = new Map<string, string>()
  let owner = ''
  let subclass = ''
  let popup: Popup | undefined

  // A match expression needs at least one label: with no owners known yet, every component is grey.
  const colour = (): ExpressionSpecification | string => (colours.size
    ? ['match', ['get', 'owner'], ...[...colours].flat(), OTHER_OWNER] as unknown as ExpressionSpecification
    : OTHER_OWNER)

  const filter = (geom: 'Point' | 'LineString' | 'Polygon'): FilterSpecification => {
    const all: ExpressionSpecification[] = [['==', ['geometry-type'], geom]]
    if (owner) all.push(['==', ['get', 'owner'], owner])
    if (subclass) all.push(['==', ['get', 'subclass'], subclass])
    return ['all', ...all]
  }

  const restyle = (): void => {
    if (!ctx) return
    const { map } = ctx
    map.setPaintProperty(POINTS, 'circle-color', colour())
    map.setPaintProperty(LINES, 'line-color', colour())
    map.setPaintProperty(AREAS, 'fill-color', colour())
    map.setFilter(POINTS, filter('Point'))
    map.setFilter(LINES, filter('LineString'))
    map.setFilter(AREAS, filter('Polygon'))
  }

  const name = (code: string | null | undefined): string => (code ? owners.find((o) => o.uscc === code)?.name ?? code : '–')

  const card = (f: FacilityFeature): HTMLElement => {
    const t = ctx!.i18n.t.bind(ctx!.i18n)
    const p = f.properties
    return h('div', { class: 'facility-card', 'data-testid': 'facility-card' },
      h('h3', {}, p.subclass_name ?? p.subclass),
      h('dl', {},
        h('dt', {}, t('facility.id')), h('dd', {}, h('code', { 'data-testid': 'facility-id' }, p.id)),
        h('dt', {}, t('facility.subclass')), h('dd', {}, `${p.subclass} ${p.subclass_name ?? ''}`),
        h('dt', {}, t('role.owner')), h('dd', { 'data-testid': 'facility-owner' }, p.owner_name ?? name(p.owner)),
        h('dt', {}, t('role.maintainer')), h('dd', {}, p.maintainer_name ?? name(p.maintainer)),
        h('dt', {}, t('facility.status')), h('dd', {}, t(`facility.status.${p.status}` as 'facility.status.intact')),
        h('dt', {}, t('result.cell')), h('dd', {}, h('code', {}, p.cell_code ?? '–'))))
  }

  const onClick = (e: MapLayerMouseEvent): void => {
    const id = e.features?.[0]?.properties?.id
    if (!ctx || typeof id !== 'string') return
    const c = ctx
    c.api.facility(id).then((f) => {
      popup?.remove()
      popup = new Popup({ closeButton: true, maxWidth: '22rem' }).setLngLat(e.lngLat).setDOMContent(card(f)).addTo(c.map)
    }, (err: unknown) => console.warn('wangge: component card', err))
  }

  const load = (): void => {
    if (!ctx || owners.length) return
    const c = ctx
    Promise.all([c.api.organisations(), c.api.componentClasses()]).then(([o, k]) => {
      owners = o.filter((x) => x.owned > 0).sort((a, b) => b.owned - a.owned)
      classes = k.filter((x) => x.count > 0)
      colours = ownerColours(owners, OWNER_COLOURS)
      restyle()
      c.refreshLegend()
    }, (err: unknown) => console.warn('wangge: organisations', err))
  }

  return {
    id: 'facilities',
    labelKey: 'layer.facilities',
    defaultVisible: false,
    swatch: () => h('span', { class: 'swatch swatch-fill', style: `background: linear-gradient(90deg, ${OWNER_COLOURS.slice(0, 4).join(', ')})` }),
    add(c) {
      ctx = c
      const { map } = c
      map.addSource(FACILITIES_SOURCE, { type: 'vector', tiles: [tileTemplate(window.location.origin, 'facilities')], minzoom: TILE_LAYERS.facilities.minzoom, maxzoom: TILE_LAYERS.facilities.maxzoom })
      const base = { source: FACILITIES_SOURCE, 'source-layer': 'facilities', minzoom: FACILITIES_MIN_ZOOM, layout: { visibility: 'none' as const } }
      map.addLayer({ id: AREAS, type: 'fill', ...base, filter: filter('Polygon'), paint: { 'fill-color': colour(), 'fill-opacity': 0.45 } })
      map.addLayer({ id: LINES, type: 'line', ...base, filter: filter('LineString'), paint: { 'line-color': colour(), 'line-width': 2 } })
      map.addLayer({
        id: POINTS, type: 'circle', ...base, filter: filter('Point'),
        paint: {
          'circle-color': colour(),
          'circle-radius': ['interpolate', ['linear'], ['zoom'], 14, 2.5, 17, 5, 19, 8],
          'circle-stroke-color': '#ffffff',
          'circle-stroke-width': ['interpolate', ['linear'], ['zoom'], 14, 0.3, 17, 1],
        },
      })
      for (const id of IDS) {
        map.on('click', id, onClick)
        map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer' })
        map.on('mouseleave', id, () => { map.getCanvas().style.cursor = '' })
      }
    },
    setVisible(v) {
      visible = v
      if (!ctx) return
      for (const id of IDS) ctx.map.setLayoutProperty(id, 'visibility', v ? 'visible' : 'none')
      if (v) load()
      else popup?.remove()
    },
    controls() {
      if (!ctx || !visible) return null
      const c = ctx
      const t = c.i18n.t.bind(c.i18n)
      const ownerSelect = h('select', { 'data-testid': 'facility-owner-filter', 'aria-label': t('facility.filterOwner') },
        h('option', { value: '' }, t('facility.allOwners')),
        ...owners.map((o) => h('option', { value: o.uscc, selected: o.uscc === owner }, `${o.short_name ?? o.name} (${c.i18n.format(o.owned)})`)))
      ownerSelect.addEventListener('change', () => { owner = ownerSelect.value; restyle() })
      const classSelect = h('select', { 'data-testid': 'facility-subclass-filter', 'aria-label': t('facility.filterSubclass') },
        h('option', { value: '' }, t('facility.allSubclasses')),
        ...classes.map((k) => h('option', { value: k.code, selected: k.code === subclass }, `${k.code} ${k.name}`)))
      classSelect.addEventListener('change', () => { subclass = classSelect.value; restyle() })
      return h('div', { class: 'layer-controls' },
        c.map.getZoom() < FACILITIES_MIN_ZOOM ? h('p', { class: 'note' }, t('facility.zoomIn', { zoom: FACILITIES_MIN_ZOOM })) : null,
        ownerSelect, classSelect,
        h('ul', { class: 'key' }, ...[...colours].slice(0, 8).map(([code, col]) => h('li', {}, h('span', { class: 'dot', style: `background: ${col}` }), name(code))),
          h('li', {}, h('span', { class: 'dot', style: `background: ${OTHER_OWNER}` }), t('facility.otherOwners'))))
    },
  }
}
