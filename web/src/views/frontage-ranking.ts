/**
 * The frontage-unit ranking (门前三包排名, issue 10) in the leader's view: a
 * day's composite scores from the indicator snapshot
 * (GET /api/frontage-units/ranking) — the last day of the leader's analysis
 * window, which ends with the newest case — the best or the worst units, sortable,
 * with the change of rank since the day before; a click on a unit reads it
 * (GET /api/frontage-units/:id) and draws its frontage on the map.
 */
import { GeoJsonLayer } from '@deck.gl/layers'
import type { Layer } from '@deck.gl/core'
import type { Feature, Position } from 'geojson'
import type { AppContext } from '../context.ts'
import type { MessageKey } from '../i18n.ts'
import { rgba } from '../layers/palette.ts'
import { changeLabel, DEFAULT_DIR, sortRows, type RankRow, type SortDir, type SortKey } from '../lib/ranking.ts'
import { dayLabel } from '../lib/window.ts'
import type { FrontageUnit, IndicatorRanking } from '../types.ts'
import { h } from '../ui/dom.ts'

/** Units listed per order: the table is for reading, the district has tens of thousands. */
const ROWS = 50
const FRONTAGE = '#6a1b9a'
/** The indicator whose value the table shows as the unit's cases (FU01 责任区案件数). */
const CASES_INDICATOR = 'FU01'

type Order = 'worst' | 'best'
interface Row extends RankRow { subdistrict: string | null }

export interface FrontageRanking {
  panel(): HTMLElement
  layers(): Layer[]
  /** Reads the ranking (again when the user or the window changed). */
  load(force?: boolean): Promise<void>
  unmount(): void
}

/** Every position of a geometry (lines or polygons), for framing it. */
function positions(g: FrontageUnit['frontage']): Position[] {
  switch (g.type) {
    case 'LineString': return g.coordinates
    case 'MultiLineString': return g.coordinates.flat()
    case 'Polygon': return g.coordinates.flat()
    case 'MultiPolygon': return g.coordinates.flat(2)
  }
}

export function frontageRanking(ctx: AppContext, rerender: () => void): FrontageRanking {
  const { i18n, api, auth, map, analysis } = ctx
  const t = i18n.t.bind(i18n)
  let order: Order = 'worst'
  let sort: { key: SortKey; dir: SortDir } = { key: 'rank', dir: order === 'worst' ? 'desc' : 'asc' }
  let data: IndicatorRanking | null = null
  let error: string | null = null
  let loading = false
  let asked = ''
  let seq = 0
  let unit: FrontageUnit | null = null
  let unitError: string | null = null
  let request: AbortController | undefined
  /** Subdistrict names by code (the ranking gives codes); read once, public. */
  let names: Map<string, string> | null = null

  async function load(force = false): Promise<void> {
    const token = auth.token
    if (!token) {
      data = null
      asked = ''
      rerender()
      return
    }
    await analysis.ensure()
    const q = analysis.query()
    // The window's last day; without one (a role that reads no analysis), the server's today.
    const day = q ? dayLabel(new Date(q.to.getTime() - 1)) : null
    const key = `${token}|${order}|${day ?? ''}`
    if (key === asked && !force) return
    asked = key
    const my = ++seq
    loading = true
    rerender()
    try {
      if (!names) names = new Map((await api.subdistricts().catch(() => [])).map((d) => [d.code, d.name]))
      const r = await api.frontageRanking(token, order, ROWS, day)
      if (my !== seq) return
      data = r
      error = null
    } catch (err) {
      if (my !== seq) return
      asked = ''
      error = err instanceof Error ? err.message : String(err)
    }
    loading = false
    rerender()
  }

  async function show(id: string): Promise<void> {
    const token = auth.token
    if (!token) return
    request?.abort()
    const ac = new AbortController()
    request = ac
    unitError = null
    try {
      unit = await api.frontageUnit(token, id, ac.signal)
      const pts = positions(unit.frontage)
      if (pts.length) {
        const xs = pts.map((p) => p[0])
        const ys = pts.map((p) => p[1])
        map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { maxZoom: 18, padding: 120, duration: 0 })
      }
    } catch (err) {
      if (ac.signal.aborted) return
      unit = null
      unitError = err instanceof Error ? err.message : String(err)
    }
    rerender()
  }

  function rows(): Row[] {
    if (!data) return []
    const list: Row[] = data.items.map((u) => ({
      code: u.unit_key,
      name: u.name ?? u.unit_key,
      score: u.score,
      grade: null,
      rank: u.rank,
      change: u.rank !== null && u.previous_rank !== null ? u.previous_rank - u.rank : null,
      cases: u.values[CASES_INDICATOR]?.value ?? 0,
      subdistrict: u.subdistrict === null ? null : names?.get(u.subdistrict) ?? u.subdistrict,
    }))
    return sortRows(list, sort.key, sort.dir)
  }

  function layers(): Layer[] {
    if (!unit) return []
    const f: Feature<FrontageUnit['frontage'], { id: string }> = { type: 'Feature', geometry: unit.frontage, properties: { id: unit.id } }
    return [new GeoJsonLayer<{ id: string }>({
      id: 'frontage-unit',
      data: [f],
      filled: true,
      stroked: true,
      getFillColor: rgba(FRONTAGE, 90),
      getLineColor: rgba(FRONTAGE),
      getLineWidth: 5,
      lineWidthUnits: 'pixels',
      lineCapRounded: true,
      lineJointRounded: true,
    })]
  }

  function table(): HTMLElement {
    const header = (key: SortKey, label: MessageKey, cls = ''): HTMLElement => {
      const th = h('th', { class: `sortable ${cls}`, 'data-testid': `fu-sort-${key}`, 'aria-sort': sort.key === key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none' },
        t(label), sort.key === key ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : '')
      th.addEventListener('click', () => {
        sort = sort.key === key ? { key, dir: sort.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: DEFAULT_DIR[key] }
        rerender()
      })
      return th
    }
    return h('table', { class: 'ranking', 'data-testid': 'fu-ranking', 'data-order': order },
      h('thead', {}, h('tr', {},
        header('rank', 'leader.rank', 'num'), header('name', 'fu.unit'), header('score', 'leader.score', 'num'),
        header('change', 'leader.change', 'num'), header('cases', 'fu.cases', 'num'))),
      h('tbody', {}, ...rows().map((r) => {
        const tr = h('tr', { 'data-testid': 'fu-row', 'data-id': r.code, 'data-rank': r.rank ?? '', class: `clickable ${unit?.id === r.code ? 'selected' : ''}` },
          h('td', { class: 'num', 'data-testid': 'fu-rank' }, r.rank ?? '–'),
          h('td', { class: 'fu-name' }, r.name, r.subdistrict ? h('small', { class: 'muted' }, ` · ${r.subdistrict}`) : null),
          h('td', { class: 'num', 'data-testid': 'fu-score' }, r.score === null ? '–' : r.score.toFixed(1)),
          h('td', { class: `num change ${r.change && r.change > 0 ? 'up' : r.change && r.change < 0 ? 'down' : ''}`, 'data-testid': 'fu-change' }, changeLabel(r.change)),
          h('td', { class: 'num' }, i18n.format(r.cases)))
        tr.addEventListener('click', () => void show(r.code))
        return tr
      })))
  }

  function card(): HTMLElement | null {
    if (unitError) return h('p', { class: 'note error' }, unitError)
    if (!unit) return null
    const u = unit
    return h('div', { class: 'result', 'data-testid': 'fu-card', 'data-id': u.id },
      h('dl', { class: 'facts' },
        h('dt', {}, t('fu.unit')), h('dd', {}, u.name, u.uscc ? h('small', { class: 'muted' }, ` ${u.uscc}`) : null),
        u.address ? h('dt', {}, t('fu.address')) : null, u.address ? h('dd', {}, u.address) : null,
        h('dt', {}, t('fu.length')), h('dd', { 'data-testid': 'fu-length' }, `${i18n.format(Math.round(u.length_m))} ${t('units.m')}`),
        h('dt', {}, t('result.cell')), h('dd', {}, h('code', {}, u.cell_code)),
        u.contact_person ? h('dt', {}, t('fu.contact')) : null, u.contact_person ? h('dd', {}, `${u.contact_person} ${u.contact_phone ?? ''}`) : null,
        h('dt', {}, t('fu.recentCases')), h('dd', { 'data-testid': 'fu-cases' }, u.cases.length
          ? u.cases.slice(0, 5).map((c) => `#${c.case_id}`).join(' ') : '–')))
  }

  function panel(): HTMLElement {
    const tabs = h('div', { class: 'tabs', role: 'tablist' }, ...(['worst', 'best'] as const).map((o) => {
      const b = h('button', { type: 'button', role: 'tab', class: o === order ? 'active' : '', 'aria-selected': String(o === order), 'data-testid': `fu-order-${o}` }, t(o === 'worst' ? 'fu.worst' : 'fu.best'))
      b.addEventListener('click', () => {
        if (order === o) return
        order = o
        sort = { key: 'rank', dir: o === 'worst' ? 'desc' : 'asc' }
        data = null
        void load()
      })
      return b
    }))
    let body: HTMLElement
    if (error) body = h('p', { class: 'note error' }, error)
    else if (!data) body = h('p', { class: 'note' }, t('leader.loading'))
    else if (data.total === 0) body = h('p', { class: 'note', 'data-testid': 'fu-empty', 'data-day': data.day }, t('fu.noSnapshot', { day: data.day }))
    else {
      body = h('div', {},
        h('p', { class: 'hint', 'data-testid': 'fu-summary', 'data-total': data.total, 'data-day': data.day }, t(order === 'worst' ? 'fu.summaryWorst' : 'fu.summaryBest', { day: data.day, total: i18n.format(data.total), rows: Math.min(ROWS, data.items.length) })),
        card(),
        h('div', { class: 'table-wrap' }, table()))
    }
    return h('section', { class: 'frontage-ranking', 'data-testid': 'frontage-ranking' },
      tabs, loading ? h('p', { class: 'note' }, t('leader.loading')) : null, body)
  }

  return {
    panel,
    layers,
    load,
    unmount() {
      request?.abort()
    },
  }
}
