/**
 * Cell performance (综合评价): cells coloured by their composite score or grade
 * over the analysis window (GET /api/analysis/scores?level=cell), and below
 * zoom 11, where cells are not drawn, the subdistricts by theirs. The scores
 * go onto the tiles' features as feature state, so the tiles stay cacheable;
 * hovering a cell shows its indicators.
 */
import type { ExpressionSpecification, MapLayerMouseEvent } from 'maplibre-gl'
import type { AppContext, LayerModule } from '../context.ts'
import { gradeOf } from '../lib/ramp.ts'
import type { UnitScore } from '../types.ts'
import { h } from '../ui/dom.ts'
import { addGridSources, CELLS_MIN_ZOOM, CELLS_SOURCE, SUBDISTRICTS_SOURCE } from './cells.ts'
import { GRADES } from './palette.ts'

const CELLS_SCORE = 'cells-score'
const SUBDISTRICTS_SCORE = 'subdistricts-score'
type Mode = 'grade' | 'score'

const BY_GRADE: ExpressionSpecification = ['match', ['coalesce', ['feature-state', 'grade'], ''],
  'A', GRADES.A, 'B', GRADES.B, 'C', GRADES.C, 'D', GRADES.D, 'E', GRADES.E, 'rgba(0,0,0,0)']
const BY_SCORE: ExpressionSpecification = ['case', ['==', ['typeof', ['feature-state', 'score']], 'number'],
  ['interpolate', ['linear'], ['feature-state', 'score'], 40, GRADES.E, 60, GRADES.D, 75, GRADES.C, 90, GRADES.B, 100, GRADES.A],
  'rgba(0,0,0,0)']

export function scoresLayer(): LayerModule {
  let ctx: AppContext | undefined
  let visible = false
  let mode: Mode = 'grade'
  let key = ''
  let error: string | null = null
  let loaded: { cells: number; ranked: number } | null = null
  const byCode = new Map<string, UnitScore>()
  const applied: { source: string; layer: string; id: number }[] = []

  const paint = (): void => {
    if (!ctx) return
    const colour = mode === 'grade' ? BY_GRADE : BY_SCORE
    for (const id of [CELLS_SCORE, SUBDISTRICTS_SCORE]) {
      ctx.map.setPaintProperty(id, 'fill-color', colour)
      ctx.map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none')
    }
  }

  const apply = (source: string, layer: string, items: UnitScore[]): void => {
    if (!ctx) return
    for (const u of items) {
      const id = Number(u.code)
      ctx.map.setFeatureState({ source, sourceLayer: layer, id }, { score: u.composite.score, grade: u.composite.grade ?? gradeOf(u.composite.score) })
      applied.push({ source, layer, id })
    }
  }

  const refresh = (): void => {
    if (!ctx || !visible) return
    const c = ctx
    const q = c.analysis.query()
    const token = c.auth.token
    if (!q || !token) return
    const k = `${q.from.toISOString()}|${q.to.toISOString()}|${q.matter}|${c.analysis.generation}`
    if (k === key) return
    key = k
    Promise.all([c.api.scores(token, q, 'cell', 10_000), c.api.scores(token, q, 'subdistrict', 100)]).then(([cells, sds]) => {
      for (const a of applied) c.map.removeFeatureState({ source: a.source, sourceLayer: a.layer, id: a.id })
      applied.length = 0
      byCode.clear()
      for (const u of cells.items) byCode.set(u.code, u)
      apply(CELLS_SOURCE, 'cells', cells.items)
      apply(SUBDISTRICTS_SOURCE, 'subdistricts', sds.items)
      loaded = { cells: cells.items.filter((u) => u.composite.score !== null).length, ranked: cells.ranked }
      error = null
      c.map.triggerRepaint()
      c.refreshLegend()
    }, (err: unknown) => {
      key = ''
      error = err instanceof Error ? err.message : String(err)
    })
  }

  const tooltip = (u: UnitScore): HTMLElement => {
    const t = ctx!.i18n.t.bind(ctx!.i18n)
    return h('div', { class: 'score-tip', 'data-testid': 'score-tooltip' },
      h('strong', {}, u.code), ' ',
      h('span', { class: `grade grade-${u.composite.grade ?? 'none'}` }, u.composite.grade ?? '–'), ' ',
      u.composite.score === null ? t('scores.noScore') : t('scores.score', { score: u.composite.score.toFixed(1) }),
      h('table', {}, ...Object.values(u.indicators).filter((r) => r.denominator > 0).map((r) => h('tr', {},
        h('td', {}, r.name), h('td', { class: 'num' }, r.value === null ? '–' : `${r.value.toFixed(1)} %`), h('td', { class: 'num muted' }, `${r.numerator}/${r.denominator}`)))))
  }

  return {
    id: 'scores',
    labelKey: 'layer.scores',
    defaultVisible: false,
    needsRole: true,
    swatch: () => h('span', { class: 'swatch swatch-fill', style: `background: linear-gradient(90deg, ${GRADES.E}, ${GRADES.C}, ${GRADES.A})` }),
    add(c) {
      ctx = c
      addGridSources(c)
      c.map.addLayer({ id: SUBDISTRICTS_SCORE, type: 'fill', source: SUBDISTRICTS_SOURCE, 'source-layer': 'subdistricts', maxzoom: CELLS_MIN_ZOOM, layout: { visibility: 'none' }, paint: { 'fill-color': BY_GRADE, 'fill-opacity': 0.85 } })
      c.map.addLayer({ id: CELLS_SCORE, type: 'fill', source: CELLS_SOURCE, 'source-layer': 'cells', minzoom: CELLS_MIN_ZOOM, layout: { visibility: 'none' }, paint: { 'fill-color': BY_GRADE, 'fill-opacity': 0.85 } })
      c.analysis.onChange(refresh)
      c.map.on('mousemove', CELLS_SCORE, (e: MapLayerMouseEvent) => {
        const code = e.features?.[0]?.properties?.code
        const u = typeof code === 'string' ? byCode.get(code) : undefined
        if (u) c.tooltip.show(e.point.x, e.point.y, tooltip(u))
        else c.tooltip.hide()
      })
      c.map.on('mouseleave', CELLS_SCORE, () => c.tooltip.hide())
    },
    setVisible(v) {
      visible = v
      paint()
      if (v) void ctx?.analysis.ensure().then(refresh)
    },
    controls() {
      if (!ctx) return null
      const t = ctx.i18n.t.bind(ctx.i18n)
      const select = h('select', { 'data-testid': 'scores-mode', 'aria-label': t('scores.mode') },
        h('option', { value: 'grade', selected: mode === 'grade' }, t('scores.byGrade')),
        h('option', { value: 'score', selected: mode === 'score' }, t('scores.byScore')))
      select.addEventListener('change', () => {
        mode = select.value === 'score' ? 'score' : 'grade'
        paint()
      })
      return h('div', { class: 'layer-controls' }, select,
        h('ul', { class: 'key inline' }, ...(Object.entries(GRADES) as [string, string][]).map(([g, col]) => h('li', {}, h('span', { class: 'dot', style: `background: ${col}` }), g))),
        error ? h('p', { class: 'note error' }, error)
          : loaded ? h('p', { class: 'note', 'data-testid': 'scores-loaded' }, t('scores.loaded', { cells: loaded.cells })) : null)
    },
  }
}
