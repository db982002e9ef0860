/**
 * The leader's view (领导): rankings of subdistricts, departments (units, by
 * lead unit) and cells from GET /api/analysis/scores for the analysis window,
 * sortable, with the change of rank against the previous window; the trend of
 * each subdistrict's composite score over the last weeks (plain SVG); and a
 * full-screen "big screen" mode for the wall that refreshes itself.
 * Two more sections: the comprehensive query (综合查询) of a clicked cell or a
 * drawn area (./area-query.ts) and the frontage-unit ranking (门前三包,
 * ./frontage-ranking.ts); a click on the map opens the query.
 */
import type { AppContext, ViewModule } from '../context.ts'
import { DAY_MS, dayLabel } from '../lib/window.ts'
import { changeLabel, DEFAULT_DIR, sortRows, sparkPoints, type RankRow, type SortDir, type SortKey } from '../lib/ranking.ts'
import type { Scores, UnitScore } from '../types.ts'
import { h } from '../ui/dom.ts'
import type { MessageKey } from '../i18n.ts'
import { GRADES } from '../layers/palette.ts'
import { areaQuery } from './area-query.ts'
import { frontageRanking } from './frontage-ranking.ts'

export const LEADER_SLOT = 'leader'
type Section = 'rankings' | 'query' | 'frontage'
const SECTIONS: { id: Section; key: MessageKey }[] = [
  { id: 'rankings', key: 'leader.sectionRankings' },
  { id: 'query', key: 'leader.sectionQuery' },
  { id: 'frontage', key: 'leader.sectionFrontage' },
]

type Level = 'subdistrict' | 'unit' | 'cell'
const LEVELS: { id: Level; key: MessageKey; limit: number }[] = [
  { id: 'subdistrict', key: 'leader.subdistricts', limit: 100 },
  { id: 'unit', key: 'leader.departments', limit: 500 },
  { id: 'cell', key: 'leader.cells', limit: 10_000 },
]
/** Cells shown at once: the table is for reading, not for all 8,423. */
const CELL_ROWS = 200
/** Weeks of trend per subdistrict. */
const TREND_WEEKS = 8
/** The big screen asks again this often unless the URL says otherwise (`refresh=` seconds). */
const DEFAULT_REFRESH_S = 60
const SVG_NS = 'http://www.w3.org/2000/svg'

interface Row extends RankRow { unit: UnitScore }

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: (SVGElement | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v))
  el.append(...children)
  return el
}

export function leaderView(ctx: AppContext): ViewModule {
  const { i18n, api, auth, analysis } = ctx
  const t = i18n.t.bind(i18n)
  let panel: HTMLElement | undefined
  let level: Level = 'subdistrict'
  let sort: { key: SortKey; dir: SortDir } = { key: 'rank', dir: 'asc' }
  let data: Scores | null = null
  let error: string | null = null
  let loading = false
  /** Composite score per subdistrict per week, oldest first. */
  let trend: { weeks: Date[]; byCode: Map<string, (number | null)[]> } | null = null
  let selected: string | null = null
  let big = false
  let timer: number | undefined
  let refreshedAt: Date | null = null
  let seq = 0
  /** What was last asked for: the same question is not asked twice (sign-in and the first window both call load). */
  let asked = ''
  let section: Section = 'rankings'
  const redraw = (): void => {
    render()
    ctx.deck.set(LEADER_SLOT, panel ? [...query.layers(), ...frontage.layers()] : null)
  }
  const query = areaQuery(ctx, redraw)
  const frontage = frontageRanking(ctx, redraw)
  ctx.deck.reserve(LEADER_SLOT)

  function setSection(s: Section): void {
    if (section === s) return
    section = s
    if (s === 'frontage') void frontage.load()
    redraw()
  }

  async function load(): Promise<void> {
    const token = auth.token
    await analysis.ensure()
    const q = analysis.query()
    if (!token || !q) {
      data = null
      asked = ''
      render()
      return
    }
    const key = `${token}|${level}|${q.from.toISOString()}|${q.to.toISOString()}|${q.matter}|${analysis.generation}`
    if (key === asked) return
    asked = key
    const my = ++seq
    loading = true
    render()
    try {
      const lv = LEVELS.find((l) => l.id === level) ?? LEVELS[0]
      const [scores, weeks] = await Promise.all([
        api.scores(token, q, level, lv.limit),
        level === 'subdistrict' ? Promise.all(Array.from({ length: TREND_WEEKS }, (_, i) => {
          const to = new Date(q.to.getTime() - (TREND_WEEKS - 1 - i) * 7 * DAY_MS)
          return api.scores(token, { from: new Date(to.getTime() - 7 * DAY_MS), to, matter: q.matter }, 'subdistrict', 100)
        })) : Promise.resolve(null),
      ])
      if (my !== seq) return
      data = scores
      if (weeks) {
        const byCode = new Map<string, (number | null)[]>()
        weeks.forEach((w, i) => {
          for (const u of w.items) {
            let list = byCode.get(u.code)
            if (!list) {
              list = Array<number | null>(TREND_WEEKS).fill(null)
              byCode.set(u.code, list)
            }
            list[i] = u.composite.score
          }
        })
        trend = { weeks: weeks.map((w) => new Date(w.window.to)), byCode }
      }
      error = null
      refreshedAt = new Date()
      if (window.__wangge) window.__wangge.refreshes = (window.__wangge.refreshes ?? 0) + 1
    } catch (err) {
      if (my !== seq) return
      asked = ''
      error = err instanceof Error ? err.message : String(err)
    }
    loading = false
    render()
  }

  function rows(): Row[] {
    if (!data) return []
    const list: Row[] = data.items.map((u) => ({
      code: u.code, name: u.name, score: u.composite.score, grade: u.composite.grade, rank: u.rank, change: u.rank_change,
      cases: u.indicators.closure?.denominator ?? 0, unit: u,
    }))
    const sorted = sortRows(list, sort.key, sort.dir)
    return level === 'cell' ? sorted.slice(0, CELL_ROWS) : sorted
  }

  function trendChart(code: string): HTMLElement | null {
    const series = trend?.byCode.get(code)
    if (!trend || !series) return null
    const w = 320
    const hgt = 120
    const padL = 28
    const padB = 18
    const plotW = w - padL - 6
    const plotH = hgt - padB - 6
    const x = (i: number): number => padL + (i * plotW) / (TREND_WEEKS - 1)
    const y = (v: number): number => 6 + plotH - (v / 100) * plotH
    const pts = series.map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`)).filter((p): p is string => p !== null)
    const chart = svg('svg', { viewBox: `0 0 ${w} ${hgt}`, class: 'trend-chart', role: 'img', 'data-testid': 'trend-chart' },
      ...[0, 50, 100].map((v) => svg('g', {},
        svg('line', { x1: padL, x2: w - 6, y1: y(v), y2: y(v), class: 'grid' }),
        svg('text', { x: padL - 4, y: y(v) + 4, 'text-anchor': 'end' }, String(v)))),
      svg('polyline', { points: pts.join(' '), class: 'series' }),
      ...series.map((v, i) => (v === null ? null : svg('circle', { cx: x(i), cy: y(v), r: 3, class: 'point' }, svg('title', {}, `${dayLabel(new Date(trend!.weeks[i].getTime() - DAY_MS))}: ${v.toFixed(1)}`))))
        .filter((c): c is SVGCircleElement => c !== null),
      svg('text', { x: padL, y: hgt - 4 }, dayLabel(new Date(trend.weeks[0].getTime() - 7 * DAY_MS))),
      svg('text', { x: w - 6, y: hgt - 4, 'text-anchor': 'end' }, dayLabel(new Date(trend.weeks[TREND_WEEKS - 1].getTime() - DAY_MS))))
    const name = data?.items.find((u) => u.code === code)?.name ?? code
    return h('div', { class: 'trend' }, h('h3', {}, t('leader.trendOf', { name, weeks: TREND_WEEKS })), chart as unknown as HTMLElement)
  }

  function table(): HTMLElement {
    const header = (key: SortKey, label: MessageKey, cls = ''): HTMLElement => {
      const th = h('th', { class: `sortable ${cls}`, 'data-testid': `sort-${key}`, 'aria-sort': sort.key === key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none' },
        t(label), sort.key === key ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : '')
      th.addEventListener('click', () => {
        sort = sort.key === key ? { key, dir: sort.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: DEFAULT_DIR[key] }
        render()
      })
      return th
    }
    const list = rows()
    return h('table', { class: 'ranking', 'data-testid': 'ranking', 'data-level': level },
      h('thead', {}, h('tr', {},
        header('rank', 'leader.rank', 'num'), header('name', 'leader.name'), header('score', 'leader.score', 'num'),
        h('th', {}, t('leader.grade')), header('change', 'leader.change', 'num'), header('cases', 'leader.cases', 'num'),
        level === 'subdistrict' ? h('th', {}, t('leader.trend')) : null)),
      h('tbody', {}, ...list.map((r) => {
        const series = trend?.byCode.get(r.code)
        const tr = h('tr', { 'data-testid': 'rank-row', 'data-code': r.code, class: r.code === selected ? 'selected' : '' },
          h('td', { class: 'num' }, r.rank ?? '–'),
          h('td', {}, r.name, level !== 'subdistrict' ? h('small', { class: 'muted' }, ` ${r.code}`) : null),
          h('td', { class: 'num', 'data-testid': 'rank-score' }, r.score === null ? '–' : r.score.toFixed(1)),
          h('td', {}, r.grade ? h('span', { class: 'grade', style: `background: ${GRADES[r.grade as keyof typeof GRADES] ?? '#ccc'}` }, r.grade) : '–'),
          h('td', { class: `num change ${r.change && r.change > 0 ? 'up' : r.change && r.change < 0 ? 'down' : ''}` }, changeLabel(r.change)),
          h('td', { class: 'num' }, i18n.format(r.cases)),
          level === 'subdistrict' ? h('td', {}, series ? (svg('svg', { viewBox: '0 0 64 18', class: 'spark' }, svg('polyline', { points: sparkPoints(series, 64, 18) })) as unknown as HTMLElement) : null) : null)
        if (level === 'subdistrict') tr.addEventListener('click', () => {
          selected = r.code
          render()
        })
        return tr
      })))
  }

  // One button for the life of the view: the big screen re-renders the panel on every refresh, and a
  // button made anew each time could be replaced under a pointer between press and release.
  const bigButton = h('button', { type: 'button', class: 'big-button', 'data-testid': 'bigscreen' })
  bigButton.addEventListener('click', () => setBig(!big))

  function setBig(on: boolean): void {
    big = on
    document.body.classList.toggle('bigscreen', on)
    window.clearInterval(timer)
    timer = undefined
    if (on) {
      document.documentElement.requestFullscreen?.().catch(() => undefined)
      timer = window.setInterval(() => {
        void analysis.reload().then(load)
      }, (ctx.url.get().refresh ?? DEFAULT_REFRESH_S) * 1000)
    } else if (document.fullscreenElement) {
      void document.exitFullscreen().catch(() => undefined)
    }
    // The map's container changed size with the layout.
    requestAnimationFrame(() => ctx.map.resize())
    render()
  }

  function render(): void {
    if (!panel) return
    const tabs = h('div', { class: 'tabs', role: 'tablist' }, ...LEVELS.map((l) => {
      const b = h('button', { type: 'button', role: 'tab', class: l.id === level ? 'active' : '', 'aria-selected': String(l.id === level), 'data-testid': `level-${l.id}` }, t(l.key))
      b.addEventListener('click', () => {
        if (level === l.id) return
        level = l.id
        data = null
        sort = { key: 'rank', dir: 'asc' }
        void load()
      })
      return b
    }))
    bigButton.textContent = t(big ? 'leader.exitBig' : 'leader.big')
    bigButton.setAttribute('aria-pressed', String(big))
    const sections = h('div', { class: 'tabs sections', role: 'tablist' }, ...SECTIONS.map((s) => {
      const b = h('button', { type: 'button', role: 'tab', class: s.id === section ? 'active' : '', 'aria-selected': String(s.id === section), 'data-testid': `section-${s.id}` }, t(s.key))
      b.addEventListener('click', () => setSection(s.id))
      return b
    }))
    const titleKey: MessageKey = section === 'query' ? 'aq.title' : section === 'frontage' ? 'fu.title' : 'leader.title'
    const head = h('div', { class: 'leader-head' }, h('h2', {}, t(titleKey)), bigButton)
    if (section !== 'rankings') {
      const body = !auth.token ? h('p', { class: 'note', 'data-testid': 'leader-signin' }, t('aq.signIn'))
        : section === 'query' ? query.panel() : frontage.panel()
      panel.replaceChildren(head, sections, body)
      return
    }
    const w = data?.window
    let body: HTMLElement
    if (!analysis.allowed) body = h('p', { class: 'note', 'data-testid': 'leader-signin' }, t('leader.signIn'))
    else if (error) body = h('p', { class: 'note error' }, error)
    else if (!data) body = h('p', { class: 'note' }, t('leader.loading'))
    else {
      body = h('div', {},
        h('p', { class: 'hint', 'data-testid': 'ranking-summary' }, t('leader.summary', {
          total: data.total, ranked: data.ranked, from: w ? dayLabel(new Date(w.from)) : '', to: w ? dayLabel(new Date(new Date(w.to).getTime() - DAY_MS)) : '',
        }), level === 'cell' && data.items.length > CELL_ROWS ? ` ${t('leader.cellRows', { rows: CELL_ROWS })}` : ''),
        level === 'subdistrict' && selected ? trendChart(selected) : null,
        h('div', { class: 'table-wrap' }, table()))
    }
    panel.replaceChildren(...[
      head,
      sections,
      tabs,
      loading ? h('p', { class: 'note' }, t('leader.loading')) : null,
      body,
      refreshedAt ? h('p', { class: 'note muted', 'data-testid': 'refreshed' }, t('leader.refreshed', { time: refreshedAt.toLocaleTimeString(i18n.lang === 'zh' ? 'zh-CN' : 'en') })) : null,
    ].filter((e): e is HTMLElement => e !== null))
  }

  auth.onChange(() => {
    if (!panel) return
    void load()
    if (section === 'frontage') void frontage.load()
  })
  analysis.onChange(() => {
    if (!panel) return
    void load()
    if (section === 'frontage') void frontage.load()
  })

  return {
    id: 'leader',
    titleKey: 'view.leader',
    defaultLayers: ['heatmap'],
    mount(el) {
      panel = el
      query.mount()
      redraw()
      void auth.ready.then(load)
      if (section === 'frontage') void auth.ready.then(() => frontage.load())
    },
    unmount() {
      if (big) setBig(false)
      query.unmount()
      frontage.unmount()
      panel = undefined
      ctx.deck.set(LEADER_SLOT, null)
    },
    onMapClick({ lng, lat }) {
      // A click on the map asks what is in that cell.
      setSection('query')
      query.onMapClick(lng, lat)
    },
    onLanguage: render,
  }
}
