/**
 * The dispatcher's first tool (command centre, 指挥中心): a point → its cell,
 * community, subdistrict and the units responsible, with the cell highlighted.
 * The point comes from a click on the map or typed coordinates in WGS84,
 * GCJ-02 or BD-09; the server converts (GET /api/geocode?lon&lat&crs).
 * Later tools (address search, the facility at the point, dispatching a case)
 * add sections to this panel as their APIs land.
 */
import { Marker } from 'maplibre-gl'
import { ApiError } from '../api.ts'
import type { AppContext, ViewModule } from '../context.ts'
import type { MessageKey } from '../i18n.ts'
import { parsePoint } from '../lib/coords.ts'
import { bbox } from '../lib/geometry.ts'
import type { Crs, GeocodeResult } from '../types.ts'
import { h } from '../ui/dom.ts'

type Status =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'done'; result: GeocodeResult; swapped: boolean }
  | { kind: 'error'; key: MessageKey; params?: Record<string, string | number> }

const CRS: Crs[] = ['wgs84', 'gcj02', 'bd09']

const ROLE_KEYS: Record<string, MessageKey> = {
  cell: 'role.cell',
  subdistrict: 'role.subdistrict',
  owner: 'role.owner',
  maintainer: 'role.maintainer',
  authority: 'role.authority',
}

export function dispatcherView(ctx: AppContext): ViewModule {
  const { i18n, api, map, url, selection } = ctx
  let panel: HTMLElement | undefined
  let status: Status = { kind: 'idle' }
  let request: AbortController | undefined
  let marker: Marker | undefined
  let coordsValue = ''

  const t = i18n.t.bind(i18n)

  function errorStatus(err: unknown): Status {
    if (err instanceof ApiError) {
      const key = `error.${err.code}`
      if (err.code === 'outside_district') {
        const d = (err.details as { distance_m?: number } | undefined)?.distance_m
        return { kind: 'error', key: 'error.outside_district', params: { distance: Math.round(d ?? 0) } }
      }
      if (i18n.has(key)) return { kind: 'error', key }
      return { kind: 'error', key: 'error.generic', params: { message: err.message } }
    }
    return { kind: 'error', key: 'error.generic', params: { message: err instanceof Error ? err.message : String(err) } }
  }

  function showMarker(lon: number, lat: number): void {
    if (!marker) marker = new Marker({ color: '#d35400', scale: 0.8 })
    marker.setLngLat([lon, lat]).addTo(map)
  }

  /** Locates a point; `frame` moves the map to the cell (typed input, shared links). */
  async function locate(lon: number, lat: number, crs: Crs, opts: { frame: boolean; swapped?: boolean }): Promise<void> {
    request?.abort()
    const ac = new AbortController()
    request = ac
    status = { kind: 'loading' }
    render()
    try {
      const result = await api.geocode(lon, lat, crs, ac.signal)
      if (ac.signal.aborted) return
      const grid = await ctx.grid
      const cell = grid.byCode.get(result.cell) ?? await api.cell(result.cell, ac.signal)
      if (ac.signal.aborted) return
      status = { kind: 'done', result, swapped: opts.swapped ?? false }
      selection.set(cell)
      showMarker(result.point.lon, result.point.lat)
      url.update({ at: result.point })
      if (opts.frame) {
        const b = bbox(cell.geometry)
        map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { maxZoom: 16, padding: 80, duration: 600 })
      }
    } catch (err) {
      if (ac.signal.aborted || (err instanceof DOMException && err.name === 'AbortError')) return
      status = errorStatus(err)
      selection.set(null)
      marker?.remove()
      url.update({ at: undefined })
    } finally {
      if (request === ac) request = undefined
    }
    render()
  }

  function clear(): void {
    request?.abort()
    status = { kind: 'idle' }
    coordsValue = ''
    selection.set(null)
    marker?.remove()
    url.update({ at: undefined })
    render()
  }

  function onSubmit(ev: Event): void {
    ev.preventDefault()
    const form = ev.currentTarget as HTMLFormElement
    const coords = (form.elements.namedItem('coords') as HTMLInputElement).value
    const crs = (form.elements.namedItem('crs') as HTMLSelectElement).value as Crs
    coordsValue = coords
    url.update({ crs })
    const p = parsePoint(coords)
    if (typeof p === 'string') {
      status = { kind: 'error', key: `error.${p}` }
      render()
      return
    }
    void locate(p.lon, p.lat, crs, { frame: true, swapped: p.swapped })
  }

  function resultView(r: GeocodeResult, swapped: boolean): HTMLElement {
    const cell = selection.get()
    const area = cell?.properties.area_m2
    const copy = h('button', { type: 'button', class: 'link', 'data-testid': 'copy-code' }, t('result.copy'))
    copy.addEventListener('click', () => {
      navigator.clipboard?.writeText(r.cell).then(() => { copy.textContent = t('result.copied') }, () => undefined)
    })
    return h('div', { class: 'result', 'data-testid': 'result' },
      swapped ? h('p', { class: 'note' }, t('dispatcher.swapped')) : null,
      r.snapped ? h('p', { class: 'note warn', 'data-testid': 'snapped' }, t('result.snapped', { distance: r.distance_m })) : null,
      h('dl', {},
        h('dt', {}, t('result.cell')),
        h('dd', {}, h('code', { class: 'cell-code', 'data-testid': 'cell-code' }, r.cell), ' ', copy),
        h('dt', {}, t('result.community')),
        h('dd', { 'data-testid': 'community' }, r.community.name, ' ', h('small', {}, r.community.code)),
        h('dt', {}, t('result.subdistrict')),
        h('dd', { 'data-testid': 'subdistrict' }, r.subdistrict.name, ' ', h('small', {}, r.subdistrict.code)),
        h('dt', {}, t('result.district')),
        h('dd', {}, r.district.name, ' ', h('small', {}, r.district.code)),
        area !== undefined ? h('dt', {}, t('result.area')) : null,
        area !== undefined ? h('dd', {}, `${i18n.format(Math.round(area))} ${t('units.m2')}`) : null,
        h('dt', {}, t('result.point')),
        h('dd', {}, h('small', {}, `${r.point.lon.toFixed(6)}, ${r.point.lat.toFixed(6)}`)),
      ),
      h('h3', {}, t('result.units')),
      h('ul', { class: 'units', 'data-testid': 'units' },
        ...r.responsible_units.map((u) => h('li', {},
          h('strong', {}, u.name ?? u.uscc),
          ' ',
          h('span', { class: 'role' }, ROLE_KEYS[u.role] ? t(ROLE_KEYS[u.role]) : u.role),
          h('br', {}),
          h('code', { class: 'uscc' }, u.uscc),
        )),
      ),
    )
  }

  function render(): void {
    if (!panel) return
    const crs = url.get().crs
    const form = h('form', { class: 'locate-form', 'data-testid': 'locate-form', novalidate: true },
      h('label', {}, t('dispatcher.coords'),
        h('input', { name: 'coords', type: 'text', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false', 'data-testid': 'coords', placeholder: t('dispatcher.coordsPlaceholder'), value: coordsValue })),
      h('label', {}, t('dispatcher.crs'),
        h('select', { name: 'crs', 'data-testid': 'crs' }, ...CRS.map((c) => h('option', { value: c, selected: c === crs }, t(`crs.${c}`))))),
      h('div', { class: 'buttons' },
        h('button', { type: 'submit', class: 'primary', 'data-testid': 'locate' }, t('dispatcher.locate')),
        h('button', { type: 'button', 'data-testid': 'clear', onclick: clear }, t('dispatcher.clear'))),
    )
    form.addEventListener('submit', onSubmit)
    const message = status.kind === 'loading' ? h('p', { class: 'note' }, t('dispatcher.locating'))
      : status.kind === 'error' ? h('p', { class: 'note error', role: 'alert', 'data-testid': 'error' }, t(status.key, status.params))
        : null
    panel.replaceChildren(
      h('h2', {}, t('dispatcher.title')),
      h('p', { class: 'hint' }, t('dispatcher.hint')),
      form,
      h('div', { 'aria-live': 'polite', 'data-testid': 'message' }, message),
    )
    if (status.kind === 'done') panel.append(resultView(status.result, status.swapped))
  }

  return {
    id: 'dispatcher',
    titleKey: 'view.dispatcher',
    mount(el) {
      panel = el
      render()
      const at = url.get().at
      if (at) void locate(at.lon, at.lat, 'wgs84', { frame: !url.get().viewport })
    },
    unmount() {
      request?.abort()
      marker?.remove()
      selection.set(null)
      panel = undefined
    },
    onMapClick({ lng, lat }) {
      // A click is always WGS84 (a point on our own map); the typed field and its CRS are left as they were.
      void locate(lng, lat, 'wgs84', { frame: false })
    },
    onLanguage: render,
  }
}
