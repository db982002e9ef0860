/**
 * Hot and cold spots: Getis-Ord Gi* over H3 cells (GET /api/analysis/hotspots)
 * for the analysis window and matter, coloured by confidence (90/95/99 %), with
 * z, p and the emerging category on hover. Only significant cells come back.
 */
import { H3HexagonLayer } from '@deck.gl/geo-layers'
import type { PickingInfo } from '@deck.gl/core'
import type { AppContext, LayerModule } from '../context.ts'
import { resolutionForZoom } from '../lib/ramp.ts'
import type { Hotspots } from '../types.ts'
import { h } from '../ui/dom.ts'
import { boundaryLayerId } from './boundaries.ts'
import { HOTSPOT, rgba } from './palette.ts'

interface Spot { key: string; count: number; z: number; p: number; confidence: number; emerging: string }

const CONFIDENCES = [99, 95, 90, -90, -95, -99]

export function hotspotsLayer(): LayerModule {
  let ctx: AppContext | undefined
  let visible = false
  let spots: Spot[] = []
  let summary: Hotspots['significant'] | null = null
  let error: string | null = null
  let key = ''
  let request: AbortController | undefined
  const SLOT = 'analysis-hotspots'

  const render = (): void => {
    if (!ctx) return
    const c = ctx
    c.deck.set(SLOT, visible && c.analysis.allowed && spots.length ? new H3HexagonLayer<Spot>({
      id: 'hotspots',
      data: spots,
      getHexagon: (d) => d.key,
      getFillColor: (d) => rgba(HOTSPOT[String(d.confidence)] ?? '#ffffff', 200),
      getLineColor: [80, 80, 80, 120],
      lineWidthMinPixels: 0.5,
      stroked: true,
      extruded: false,
      pickable: true,
      onHover: (info: PickingInfo<Spot>) => {
        const d = info.object
        if (!d) {
          c.tooltip.hide()
          return
        }
        const t = c.i18n.t.bind(c.i18n)
        c.tooltip.show(info.x, info.y, h('div', {},
          h('strong', {}, t(d.confidence > 0 ? 'hotspots.hot' : 'hotspots.cold', { confidence: Math.abs(d.confidence) })), h('br', {}),
          t('hotspots.detail', { count: d.count, z: d.z.toFixed(2), p: d.p.toPrecision(2) }),
          d.emerging && d.emerging !== 'none' ? h('div', {}, t('hotspots.emerging', { kind: d.emerging })) : null))
      },
      ...{ beforeId: boundaryLayerId('community') },
    }) : null)
  }

  const refresh = (): void => {
    if (!ctx || !visible) return
    const q = ctx.analysis.query()
    const token = ctx.auth.token
    if (!q || !token) {
      render()
      return
    }
    const zoom = ctx.map.getZoom()
    const k = `${q.from.toISOString()}|${q.to.toISOString()}|${q.matter}|${resolutionForZoom(zoom)}|${ctx?.analysis.generation}`
    if (k === key) return
    key = k
    request?.abort()
    const ac = new AbortController()
    request = ac
    ctx.api.hotspots(token, q, zoom, ac.signal).then((r) => {
      spots = r.keys.map((key, i) => ({ key, count: r.count[i], z: r.z[i], p: r.p[i], confidence: r.confidence[i], emerging: r.emerging[i] }))
        .filter((s) => s.confidence !== 0)
      summary = r.significant
      error = null
      render()
      ctx?.refreshLegend()
    }, (err: unknown) => {
      if (ac.signal.aborted) return
      key = ''
      error = err instanceof Error ? err.message : String(err)
      render()
    })
  }

  return {
    id: 'hotspots',
    labelKey: 'layer.hotspots',
    defaultVisible: false,
    needsRole: true,
    swatch: () => h('span', { class: 'swatch swatch-fill', style: `background: linear-gradient(90deg, ${HOTSPOT['-99']}, ${HOTSPOT['90']}, ${HOTSPOT['99']})` }),
    add(c) {
      ctx = c
      c.deck.reserve(SLOT)
      c.analysis.onChange(refresh)
      c.auth.onChange(render)
      c.map.on('zoomend', refresh)
    },
    setVisible(v) {
      visible = v
      if (v) void ctx?.analysis.ensure().then(refresh)
      render()
    },
    controls() {
      if (!ctx) return null
      const t = ctx.i18n.t.bind(ctx.i18n)
      return h('div', { class: 'layer-controls' },
        h('ul', { class: 'key' }, ...CONFIDENCES.map((c) => h('li', {},
          h('span', { class: 'dot', style: `background: ${HOTSPOT[String(c)]}` }),
          t(c > 0 ? 'hotspots.hot' : 'hotspots.cold', { confidence: Math.abs(c) })))),
        error ? h('p', { class: 'note error' }, error)
          : summary ? h('p', { class: 'note', 'data-testid': 'hotspots-summary' }, t('hotspots.summary', { hot: summary.hot, cold: summary.cold })) : null)
    },
  }
}
