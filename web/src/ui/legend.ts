/**
 * The legend: one row per layer with its swatch and a toggle, and under a
 * visible layer its own options (filters, colour ramp). Toggles write the
 * visible layers to the URL, so a shared link shows the same map.
 */
import type { LayerModule } from '../context.ts'
import type { I18n } from '../i18n.ts'
import { h } from './dom.ts'

export interface LegendOptions {
  layers: LayerModule[]
  visible: Set<string>
  i18n: I18n
  /** Whether the signed-in user may read what role-bound layers show. */
  signedIn: boolean
  onToggle(id: string, visible: boolean): void
}

export function renderLegend(root: HTMLElement, o: LegendOptions): void {
  const { i18n } = o
  const collapsed = root.classList.contains('collapsed')
  const toggle = h('button', { type: 'button', class: 'legend-toggle', 'aria-expanded': String(!collapsed), 'data-testid': 'legend-toggle' }, i18n.t('layers.title'))
  toggle.addEventListener('click', () => {
    root.classList.toggle('collapsed')
    toggle.setAttribute('aria-expanded', String(!root.classList.contains('collapsed')))
  })
  root.replaceChildren(
    toggle,
    h('ul', { class: 'legend-list' },
      ...o.layers.map((l) => {
        const on = o.visible.has(l.id)
        const input = h('input', { type: 'checkbox', checked: on, 'data-testid': `toggle-${l.id}`, 'data-layer': l.id })
        input.addEventListener('change', () => o.onToggle(l.id, input.checked))
        const extra = on ? l.controls?.() ?? null : null
        return h('li', { 'data-testid': `legend-${l.id}` },
          h('label', {}, input, l.swatch(), h('span', {}, i18n.t(l.labelKey)),
            l.needsRole && !o.signedIn ? h('small', { class: 'needs-role' }, i18n.t('legend.needsRole')) : null),
          extra)
      }),
    ),
    h('p', { class: 'legend-note' }, i18n.t('legend.subdistrictColours')),
  )
}
