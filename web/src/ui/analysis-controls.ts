/**
 * The analysis filters over the map: window length, a time slider over the
 * case history (the window's last day) and the matter. They drive the heatmap,
 * hexagon, hot-spot and score layers and the leader's rankings.
 */
import type { AppContext } from '../context.ts'
import { DAY_MS, dayLabel, windowOf } from '../lib/window.ts'
import type { MatterType } from '../types.ts'
import { h } from './dom.ts'

/** The slider reaches a year back from the newest case. */
const SLIDER_DAYS = 365
const LENGTHS = [7, 30, 90, 365]

let matters: MatterType[] | null = null
let mattersLoading = false

export function renderAnalysisControls(root: HTMLElement, ctx: AppContext, shown: boolean): void {
  root.hidden = !shown
  if (!shown) {
    root.replaceChildren()
    return
  }
  const { i18n, analysis } = ctx
  const t = i18n.t.bind(i18n)
  if (!analysis.allowed) {
    root.replaceChildren(h('p', { class: 'note', 'data-testid': 'analysis-signin' }, t('analysis.signIn')))
    return
  }
  if (!analysis.latest) {
    root.replaceChildren(h('p', { class: 'note' }, t('analysis.loading')))
    void analysis.ensure().then(() => renderAnalysisControls(root, ctx, shown))
    return
  }
  if (!matters && !mattersLoading) {
    mattersLoading = true
    ctx.api.matterTypes().then((m) => {
      matters = m.filter((x) => x.level === 1)
      renderAnalysisControls(root, ctx, !root.hidden)
    }, () => undefined)
  }
  const s = analysis.state
  const w = windowOf(analysis.latest, s)
  const label = h('output', { 'data-testid': 'window-label' }, t('analysis.window', { from: dayLabel(w.from), to: dayLabel(new Date(w.to.getTime() - DAY_MS)) }))
  const slider = h('input', {
    type: 'range', min: 0, max: SLIDER_DAYS, step: 1, value: SLIDER_DAYS - s.offsetDays,
    'data-testid': 'time-slider', 'aria-label': t('analysis.slider'),
  })
  // The label follows the thumb; the layers are asked again when it is let go.
  slider.addEventListener('input', () => {
    const offset = SLIDER_DAYS - Number(slider.value)
    const x = windowOf(analysis.latest ?? new Date(), { ...s, offsetDays: offset })
    label.textContent = t('analysis.window', { from: dayLabel(x.from), to: dayLabel(new Date(x.to.getTime() - DAY_MS)) })
  })
  slider.addEventListener('change', () => analysis.set({ offsetDays: SLIDER_DAYS - Number(slider.value) }))
  const length = h('select', { 'data-testid': 'window-days', 'aria-label': t('analysis.days') },
    ...LENGTHS.map((d) => h('option', { value: d, selected: d === s.days }, t('analysis.daysOption', { days: d }))))
  length.addEventListener('change', () => analysis.set({ days: Number(length.value) }))
  const matter = h('select', { 'data-testid': 'matter', 'aria-label': t('analysis.matter') },
    h('option', { value: '' }, t('analysis.allMatters')),
    ...(matters ?? []).map((m) => h('option', { value: m.code, selected: m.code === s.matter }, m.name)))
  matter.addEventListener('change', () => analysis.set({ matter: matter.value || null }))
  root.replaceChildren(
    h('div', { class: 'analysis-row' }, h('strong', {}, t('analysis.title')), label),
    slider,
    h('div', { class: 'analysis-row' }, length, matter),
  )
}
