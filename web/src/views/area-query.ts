/**
 * The leader's comprehensive query (综合查询, issue 10): what is in a clicked
 * cell or a drawn area — base records by kind, buildings, people (named
 * residents only when the API gives them, otherwise counts), cases, components
 * and frontage units, and the first items of each list — from
 * GET /api/base/query?cell= and POST /api/base/query {polygon}.
 * A click locates the cell (GET /api/geocode, as the dispatcher does); in draw
 * mode clicks add the polygon's corners and a double-click (or 完成) closes it.
 */
import { PolygonLayer } from '@deck.gl/layers'
import type { Layer } from '@deck.gl/core'
import { ApiError, type BaseArea } from '../api.ts'
import type { AppContext } from '../context.ts'
import type { MessageKey } from '../i18n.ts'
import { rgba } from '../layers/palette.ts'
import { clickDrawing } from '../map/click-drawing.ts'
import { dayLabel, DAY_MS } from '../lib/window.ts'
import type { Comprehensive, LonLat } from '../types.ts'
import { h } from '../ui/dom.ts'

/** Items shown per list, open cases and named residents. */
const SHOWN = 5
const AREA = '#00897b'

const BASE_KINDS = ['building', 'organisation', 'shop', 'school', 'hospital', 'market', 'poi'] as const

export interface AreaQuery {
  /** The section's body in the leader's panel. */
  panel(): HTMLElement
  /** deck.gl layers: the drawn polygon (being drawn or finished). */
  layers(): Layer[]
  onMapClick(lng: number, lat: number): void
  mount(): void
  unmount(): void
}

/** `rerender`: the leader view redraws its panel and its deck.gl slot. */
export function areaQuery(ctx: AppContext, rerender: () => void): AreaQuery {
  const { i18n, api, auth, map, selection, analysis } = ctx
  const t = i18n.t.bind(i18n)
  // Draw mode: clicks add the polygon's corners, a double-click (or 完成) closes it.
  const drawing = clickDrawing(map, { id: 'area-query-drawing', color: AREA, ring: true, onFinish: () => void finish(), onChange: () => rerender() })
  let polygon: LonLat[] | null = null
  let result: Comprehensive | null = null
  let error: { code: string; message: string } | null = null
  let loading = false
  let request: AbortController | undefined
  let mounted = false

  const fail = (err: unknown): { code: string; message: string } => (err instanceof ApiError
    ? { code: err.code, message: i18n.has(`error.${err.code}`) ? t(`error.${err.code}` as MessageKey, { distance: Math.round((err.details as { distance_m?: number } | undefined)?.distance_m ?? 0) }) : err.message }
    : { code: 'error', message: err instanceof Error ? err.message : String(err) })

  async function ask(area: BaseArea, ac: AbortController): Promise<void> {
    const token = auth.token
    if (!token) return
    await analysis.ensure()
    const q = analysis.query()
    result = await api.baseQuery(token, area, q ? { from: q.from, to: q.to } : null, ac.signal)
  }

  /** Runs one query; a newer one aborts it. */
  async function run(fn: (ac: AbortController) => Promise<void>): Promise<void> {
    request?.abort()
    const ac = new AbortController()
    request = ac
    loading = true
    error = null
    rerender()
    try {
      await fn(ac)
    } catch (err) {
      if (ac.signal.aborted || (err instanceof DOMException && err.name === 'AbortError')) return
      result = null
      error = fail(err)
    } finally {
      if (request === ac) {
        request = undefined
        loading = false
      }
    }
    if (!ac.signal.aborted) rerender()
  }

  const queryCell = (lng: number, lat: number): Promise<void> => run(async (ac) => {
    polygon = null
    const where = await api.geocode(lng, lat, 'wgs84', ac.signal)
    // The cell's outline for the map, beside the query (a failed outline leaves the answer).
    void api.cell(where.cell, ac.signal).then((c) => { if (!ac.signal.aborted) selection.set(c) }, () => undefined)
    await ask({ kind: 'cell', code: where.cell }, ac)
  })

  async function finish(): Promise<void> {
    const corners = drawing.points
    if (corners.length < 3) return
    const ring: LonLat[] = [...corners, corners[0]]
    polygon = ring
    drawing.setActive(false)
    selection.set(null)
    await run((ac) => ask({ kind: 'polygon', polygon: { type: 'Polygon', coordinates: [ring] } }, ac))
  }

  function clear(): void {
    request?.abort()
    drawing.setActive(false)
    polygon = null
    result = null
    error = null
    loading = false
    selection.set(null)
    rerender()
  }

  // ---- the map ----

  function layers(): Layer[] {
    const out: Layer[] = []
    if (polygon) {
      out.push(new PolygonLayer<LonLat[]>({
        id: 'area-query-polygon',
        data: [polygon],
        getPolygon: (p) => p,
        filled: true,
        stroked: true,
        getFillColor: rgba(AREA, 60),
        getLineColor: rgba(AREA),
        getLineWidth: 3,
        lineWidthUnits: 'pixels',
      }))
    }
    return [...out, ...drawing.layers()]
  }

  // ---- the panel ----

  const n = (v: number): string => i18n.format(v)
  /** A figure with its exact value in data-value (what the browser test compares with the API). */
  const fig = (testid: string, v: number, text?: string): HTMLElement => h('dd', { 'data-testid': testid, 'data-value': v }, text ?? n(v))
  const area = (m2: number): string => (m2 >= 100_000 ? `${(m2 / 1e6).toFixed(2)} ${t('units.km2')}` : `${n(Math.round(m2))} ${t('units.m2')}`)
  /** "label 3 · label 2" of the non-zero entries of a count record, largest first. */
  const breakdown = (rec: Record<string, number>, key: (k: string) => string): string => Object.entries(rec).filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1]).map(([k, v]) => `${key(k)} ${n(v)}`).join(' · ') || '–'
  const label = (prefix: string, k: string): string => (i18n.has(`${prefix}.${k}`) ? t(`${prefix}.${k}` as MessageKey) : k)

  function resultView(r: Comprehensive): HTMLElement {
    const a = r.area
    const title = a.kind === 'polygon' ? t('aq.polygon') : `${a.name ?? ''} ${a.code ?? ''}`.trim()
    const w = r.cases.window
    const p = r.people
    const named = p.personal_data === 'names' && p.residents
    const lists = BASE_KINDS.filter((k) => (r.lists[k] ?? []).length > 0)
    return h('div', { class: 'aq-result', 'data-testid': 'aq-result', 'data-kind': a.kind, 'data-code': a.code ?? '' },
      h('h3', { 'data-testid': 'aq-title' }, title),
      h('p', { class: 'note muted' }, t('aq.areaLine', { area: area(a.area_m2), cells: n(a.cells), ms: r.ms })),
      h('h4', {}, t('aq.records')),
      h('dl', { class: 'facts aq-grid', 'data-testid': 'aq-kinds' }, ...BASE_KINDS.flatMap((k) => [h('dt', {}, label('aq.kind', k)), fig(`aq-count-${k}`, r.counts[k] ?? 0)])),
      h('h4', {}, t('aq.buildings')),
      h('dl', { class: 'facts' },
        h('dt', {}, t('aq.buildingCount')), fig('aq-buildings', r.buildings.count),
        h('dt', {}, t('aq.floorsMean')), h('dd', {}, r.buildings.floors_mean === null ? '–' : r.buildings.floors_mean.toFixed(1)),
        h('dt', {}, t('aq.byUse')), h('dd', {}, breakdown(r.buildings.by_use, (k) => label('aq.use', k)))),
      h('h4', {}, t('aq.people')),
      h('dl', { class: 'facts aq-grid' },
        h('dt', {}, t('aq.households')), fig('aq-households', p.households),
        h('dt', {}, t('aq.registered')), fig('aq-registered', p.registered),
        h('dt', {}, t('aq.resident')), fig('aq-resident', p.resident)),
      h('dl', { class: 'facts' },
        h('dt', {}, t('aq.keyPersons')), fig('aq-key-persons', p.key_persons.total, `${n(p.key_persons.total)}（${breakdown(p.key_persons.by_category, (k) => label('aq.category', k))}）`)),
      named && p.residents
        ? h('ul', { class: 'aq-list', 'data-testid': 'aq-residents' }, ...p.residents.slice(0, SHOWN).map((x) => h('li', {},
          x.name, ' ', h('span', { class: 'role' }, [label('aq.category', x.category), x.building_name ?? x.building_id, x.phone ?? ''].filter(Boolean).join(' · ')))),
          p.residents.length > SHOWN ? h('li', { class: 'muted' }, t('aq.more', { count: n(p.residents.length - SHOWN) })) : null)
        : h('p', { class: 'note muted', 'data-testid': 'aq-counts-only' }, t('aq.countsOnly')),
      h('h4', {}, t('aq.cases')),
      h('p', { class: 'note muted', 'data-testid': 'aq-window', 'data-from': w.from, 'data-to': w.to },
        t('aq.window', { from: dayLabel(new Date(w.from)), to: dayLabel(new Date(new Date(w.to).getTime() - DAY_MS)) })),
      h('dl', { class: 'facts aq-grid' },
        h('dt', {}, t('aq.reported')), fig('aq-cases-reported', r.cases.reported_in_window),
        h('dt', {}, t('aq.open')), fig('aq-cases-open', r.cases.open),
        h('dt', {}, t('aq.overdue')), fig('aq-cases-overdue', r.cases.overdue)),
      h('dl', { class: 'facts' }, h('dt', {}, t('aq.byStatus')), h('dd', {}, breakdown(r.cases.by_status, (k) => label('aq.status', k)))),
      r.cases.open_items.length
        ? h('ul', { class: 'aq-list', 'data-testid': 'aq-open-cases' }, ...r.cases.open_items.slice(0, SHOWN).map((c) => h('li', { 'data-case-id': c.id },
          `#${c.id} ${c.matter_name ?? c.matter_code}`, ' ', h('span', { class: 'role' }, `${label('aq.status', c.status)} · ${dayLabel(new Date(c.reported_at))}`))))
        : null,
      h('h4', {}, t('aq.facilities')),
      h('dl', { class: 'facts' },
        h('dt', {}, t('aq.facilityCount')), fig('aq-facilities', r.facilities.total),
        h('dt', {}, t('aq.byMajor')), h('dd', {}, breakdown(r.facilities.by_major, (k) => label('aq.major', k))),
        h('dt', {}, t('facility.status')), h('dd', {}, breakdown(r.facilities.by_status, (k) => label('facility.status', k)))),
      h('h4', {}, t('aq.frontage')),
      h('dl', { class: 'facts' },
        h('dt', {}, t('aq.frontageCount')), fig('aq-frontage-count', r.frontage_units.count),
        h('dt', {}, t('aq.frontageLength')), fig('aq-frontage-length', r.frontage_units.length_m, `${n(r.frontage_units.length_m)} ${t('units.m')}`)),
      lists.length ? h('h4', {}, t('aq.lists')) : null,
      lists.length
        ? h('dl', { class: 'facts aq-lists', 'data-testid': 'aq-lists' }, ...lists.flatMap((k) => {
          const items = r.lists[k] ?? []
          const more = (r.counts[k] ?? 0) - Math.min(items.length, SHOWN)
          return [h('dt', {}, label('aq.kind', k)), h('dd', { 'data-kind': k },
            items.slice(0, SHOWN).map((x) => x.name).join('、'), more > 0 ? h('span', { class: 'muted' }, ` ${t('aq.more', { count: n(more) })}`) : null)]
        }))
        : null)
  }

  function panel(): HTMLElement {
    const button = (testid: string, key: MessageKey, onClick: () => void, opts: { primary?: boolean; disabled?: boolean } = {}): HTMLButtonElement => {
      const b = h('button', { type: 'button', class: opts.primary ? 'primary' : '', 'data-testid': testid, disabled: opts.disabled === true }, t(key))
      b.addEventListener('click', onClick)
      return b
    }
    const corners = drawing.points.length
    const tools = drawing.active
      ? [button('aq-finish', 'aq.finish', () => void finish(), { primary: true, disabled: corners < 3 }),
        button('aq-undo-point', 'aq.undoPoint', () => drawing.undo(), { disabled: !corners }),
        button('aq-cancel', 'aq.cancel', () => { drawing.setActive(false); rerender() })]
      : [button('aq-draw', 'aq.draw', () => { drawing.setActive(true); rerender() }, { primary: true }),
        button('aq-clear', 'aq.clear', clear, { disabled: !result && !polygon && !error })]
    let body: HTMLElement | null = null
    if (error) body = h('p', { class: 'note error', role: 'alert', 'data-testid': 'aq-error', 'data-code': error.code }, error.message)
    else if (loading) body = h('p', { class: 'note', 'data-testid': 'aq-loading' }, t('aq.loading'))
    else if (result) body = resultView(result)
    return h('section', { class: 'area-query', 'data-testid': 'area-query', 'data-mode': drawing.active ? 'draw' : 'pick' },
      h('p', { class: 'hint' }, t(drawing.active ? 'aq.drawHint' : 'aq.hint', { points: corners })),
      h('div', { class: 'buttons' }, ...tools),
      h('div', { 'aria-live': 'polite' }, body))
  }

  return {
    panel,
    layers,
    onMapClick(lng, lat) {
      if (!auth.token) return
      if (drawing.active) drawing.add(lng, lat)
      else void queryCell(lng, lat)
    },
    mount() {
      if (mounted) return
      mounted = true
      drawing.mount()
    },
    unmount() {
      if (!mounted) return
      mounted = false
      request?.abort()
      drawing.unmount()
      if (result?.area.kind === 'cell') selection.set(null)
    },
  }
}
