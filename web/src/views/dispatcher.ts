/**
 * The dispatcher's view (command centre, 指挥中心): a point or an address →
 * its cell, community, subdistrict, the units responsible and the nearest
 * components with their owners; and the queue of new cases (reported,
 * accepted) with the dispatch the routing suggests, to accept, void or
 * dispatch from the panel with the signed-in user's token.
 * Points come from a click on the map or typed coordinates in WGS84, GCJ-02 or
 * BD-09; the server converts (GET /api/geocode?lon&lat&crs or ?address).
 */
import { Marker } from 'maplibre-gl'
import { ApiError, type CaseAction } from '../api.ts'
import type { AppContext, ViewModule } from '../context.ts'
import type { MessageKey } from '../i18n.ts'
import { looksLikeAddress, parsePoint } from '../lib/coords.ts'
import { bbox } from '../lib/geometry.ts'
import type { CaseItem, Crs, FacilityHit, GeocodeResult } from '../types.ts'
import { h } from '../ui/dom.ts'
import { LIGHTS } from '../layers/palette.ts'

type Status =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'done'; result: GeocodeResult; swapped: boolean }
  | { kind: 'error'; key: MessageKey; params?: Record<string, string | number> }

const CRS: Crs[] = ['wgs84', 'gcj02', 'bd09']
/** The steps this panel offers, in the order of the loop. */
const QUEUE_ACTIONS: CaseAction[] = ['accept', 'dispatch', 'void']
const QUEUE_STATUSES = 'reported,accepted'
/** Roles that may list every case (server/cases/roles.ts SEES_ALL). */
const QUEUE_ROLES = ['supervisor', 'command_centre', 'dispatcher', 'planner', 'leader', 'admin']

const ROLE_KEYS: Record<string, MessageKey> = {
  cell: 'role.cell',
  subdistrict: 'role.subdistrict',
  owner: 'role.owner',
  maintainer: 'role.maintainer',
  authority: 'role.authority',
}

export function dispatcherView(ctx: AppContext): ViewModule {
  const { i18n, api, map, url, selection, auth } = ctx
  let panel: HTMLElement | undefined
  let status: Status = { kind: 'idle' }
  let request: AbortController | undefined
  let marker: Marker | undefined
  let coordsValue = ''
  let nearby: FacilityHit[] | null = null
  let queue: { items: CaseItem[]; error: string | null; loading: boolean; note: Record<number, string>; busy: number | null; message: string | null } =
    { items: [], error: null, loading: false, note: {}, busy: null, message: null }
  let voiding: number | null = null

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

  /** Locates a point or an address; `frame` moves the map to the cell (typed input, shared links). */
  async function locate(input: { lon: number; lat: number; crs: Crs } | { address: string }, opts: { frame: boolean; swapped?: boolean }): Promise<void> {
    request?.abort()
    const ac = new AbortController()
    request = ac
    status = { kind: 'loading' }
    nearby = null
    render()
    try {
      const result = 'address' in input ? await api.geocodeAddress(input.address, ac.signal) : await api.geocode(input.lon, input.lat, input.crs, ac.signal)
      if (ac.signal.aborted) return
      const [cell, near] = await Promise.all([
        api.cell(result.cell, ac.signal),
        api.nearestFacilities(result.point.lon, result.point.lat, 5, ac.signal).then((r) => r.facilities, () => []),
      ])
      if (ac.signal.aborted) return
      status = { kind: 'done', result, swapped: opts.swapped ?? false }
      nearby = near
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
    nearby = null
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
      if (p === 'format' && looksLikeAddress(coords)) {
        void locate({ address: coords.trim() }, { frame: true })
        return
      }
      status = { kind: 'error', key: `error.${p}` }
      render()
      return
    }
    void locate({ lon: p.lon, lat: p.lat, crs }, { frame: true, swapped: p.swapped })
  }

  // ---- the queue of new cases ----

  const queueAllowed = (): boolean => auth.token !== null && QUEUE_ROLES.includes(auth.me?.role ?? '')

  async function loadQueue(): Promise<void> {
    const token = auth.token
    if (!queueAllowed() || !token) {
      queue = { ...queue, items: [], error: null, loading: false }
      render()
      return
    }
    queue.loading = true
    render()
    try {
      const r = await api.cases(token, { status: QUEUE_STATUSES, sort: 'due', limit: 50 })
      queue = { ...queue, items: r.items, error: null, loading: false }
    } catch (err) {
      queue = { ...queue, error: err instanceof Error ? err.message : String(err), loading: false }
    }
    render()
  }

  async function act(c: CaseItem, action: CaseAction): Promise<void> {
    const token = auth.token
    if (!token) return
    const note = action === 'void' ? (queue.note[c.id] ?? '').trim() : ''
    if (action === 'void' && !note) {
      voiding = c.id
      render()
      return
    }
    queue.busy = c.id
    render()
    try {
      const after = await api.act(token, c.id, action, note ? { note } : {})
      queue.message = t('queue.done', { id: String(c.id), status: after.status_name })
      voiding = null
    } catch (err) {
      queue.message = err instanceof ApiError ? t('queue.refused', { id: String(c.id), message: err.message }) : t('error.generic', { message: String(err) })
    }
    queue.busy = null
    await loadQueue()
  }

  function caseRow(c: CaseItem): HTMLElement {
    const light = c.clock?.light
    const planned = c.units.filter((u) => u.state === 'planned')
    const shown = c.units.length ? c.units : []
    const buttons = QUEUE_ACTIONS.filter((a) => c.actions.includes(a)).map((a) => {
      const b = h('button', { type: 'button', class: a === 'void' ? '' : 'primary', 'data-testid': `case-${a}`, disabled: queue.busy === c.id }, t(`queue.${a}`))
      b.addEventListener('click', (ev) => {
        ev.stopPropagation()
        void act(c, a)
      })
      return b
    })
    const li = h('li', { class: 'case', 'data-testid': 'case', 'data-case-id': c.id, 'data-status': c.status },
      h('div', { class: 'case-head' },
        h('span', { class: 'dot', title: light ? t(`light.${light}`) : '', style: `background: ${light ? LIGHTS[light] : '#999'}` }),
        h('strong', {}, `#${c.id} ${c.matter.name}`),
        h('span', { class: 'badge', 'data-testid': 'case-status' }, c.status_name)),
      h('div', { class: 'case-where' }, [c.location.subdistrict.name, c.location.community.name].filter(Boolean).join(' · '), ' ', h('code', {}, c.location.cell)),
      c.facility ? h('div', { class: 'case-where' }, t('queue.facility', { id: c.facility.id, owner: c.facility.owner_name ?? c.facility.owner ?? '–' })) : null,
      shown.length ? h('div', { class: 'case-units', 'data-testid': 'case-units' },
        h('span', { class: 'muted' }, planned.length ? t('queue.suggested') : t('queue.units')), ' ',
        ...shown.map((u) => h('span', { class: 'unit', title: u.rule_name ?? '' }, `${u.name}（${t(u.role === 'lead' ? 'queue.lead' : 'queue.assist')}）`))) : null,
      voiding === c.id ? (() => {
        const note = h('input', { type: 'text', 'data-testid': 'void-note', placeholder: t('queue.voidNote'), value: queue.note[c.id] ?? '' })
        note.addEventListener('input', () => { queue.note[c.id] = note.value })
        return note
      })() : null,
      buttons.length ? h('div', { class: 'buttons' }, ...buttons) : null)
    li.addEventListener('click', () => {
      map.flyTo({ center: [c.location.lon, c.location.lat], zoom: Math.max(map.getZoom(), 16) })
      showMarker(c.location.lon, c.location.lat)
    })
    return li
  }

  function queueView(): HTMLElement {
    const refresh = h('button', { type: 'button', class: 'link', 'data-testid': 'queue-refresh' }, t('queue.refresh'))
    refresh.addEventListener('click', () => void loadQueue())
    let body: HTMLElement
    if (!auth.token) body = h('p', { class: 'note', 'data-testid': 'queue-signin' }, t('queue.signIn'))
    else if (!queueAllowed()) body = h('p', { class: 'note' }, t('queue.notAllowed', { role: auth.me?.role_name ?? '' }))
    else if (queue.error) body = h('p', { class: 'note error' }, queue.error)
    else if (!queue.items.length) body = h('p', { class: 'note' }, queue.loading ? t('queue.loading') : t('queue.empty'))
    else body = h('ul', { class: 'cases', 'data-testid': 'queue' }, ...queue.items.map(caseRow))
    return h('section', { class: 'queue' },
      h('h2', {}, t('queue.title'), ' ', queueAllowed() ? refresh : null),
      queue.message ? h('p', { class: 'note', 'data-testid': 'queue-message', role: 'status' }, queue.message) : null,
      body)
  }

  // ---- the located point ----

  function nearbyView(): HTMLElement | null {
    if (!nearby) return null
    return h('div', {},
      h('h3', {}, t('result.nearby')),
      nearby.length ? h('ul', { class: 'units', 'data-testid': 'nearby' }, ...nearby.map((f) => h('li', {},
        h('strong', {}, f.subclass_name ?? f.subclass), ' ',
        h('span', { class: 'role' }, `${f.distance_m === null ? '' : `${Math.round(f.distance_m)} m · `}${f.status_name}`), h('br', {}),
        t('role.owner'), '：', f.owner.name ?? f.owner.code,
        f.owner.duty_phone ? h('span', { class: 'role' }, ` ☎ ${f.owner.duty_phone}`) : null, h('br', {}),
        h('code', { class: 'uscc' }, f.id))))
        : h('p', { class: 'note' }, t('result.noNearby')))
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
      nearbyView(),
    )
  }

  function render(): void {
    if (!panel) return
    const crs = url.get().crs
    const form = h('form', { class: 'locate-form', 'data-testid': 'locate-form', novalidate: true },
      h('label', {}, t('dispatcher.coords'),
        h('input', { name: 'coords', type: 'text', autocomplete: 'off', spellcheck: 'false', 'data-testid': 'coords', placeholder: t('dispatcher.coordsPlaceholder'), value: coordsValue })),
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
    panel.append(queueView())
  }

  auth.onChange(() => {
    queue = { ...queue, items: [], message: null }
    if (panel) void loadQueue()
  })

  return {
    id: 'dispatcher',
    titleKey: 'view.dispatcher',
    mount(el) {
      panel = el
      render()
      void auth.ready.then(loadQueue)
      const at = url.get().at
      if (at) void locate({ lon: at.lon, lat: at.lat, crs: 'wgs84' }, { frame: !url.get().viewport })
    },
    unmount() {
      request?.abort()
      marker?.remove()
      selection.set(null)
      panel = undefined
    },
    onMapClick({ lng, lat }) {
      // A click is always WGS84 (a point on our own map); the typed field and its CRS are left as they were.
      void locate({ lon: lng, lat, crs: 'wgs84' }, { frame: false })
    },
    onLanguage: render,
  }
}
