/**
 * Case density from GET /api/analysis/heatmap (H3 cells at the zoom's
 * resolution, counted over the analysis window and matter): a deck.gl
 * HeatmapLayer over the H3 centres weighted by their counts, and an
 * H3HexagonLayer of the same counts. One request feeds both.
 */
import { HeatmapLayer } from '@deck.gl/aggregation-layers'
import { H3HexagonLayer } from '@deck.gl/geo-layers'
import type { PickingInfo } from '@deck.gl/core'
import { cellToLatLng } from 'h3-js'
import type { AppContext, LayerModule } from '../context.ts'
import { ramp, resolutionForZoom } from '../lib/ramp.ts'
import type { Heatmap } from '../types.ts'
import { h } from '../ui/dom.ts'
import { boundaryLayerId } from './boundaries.ts'
import { DENSITY } from './palette.ts'

interface Bin { key: string; position: [number, number]; count: number }

/** The counts for the current filters and resolution, fetched once for both layers. */
class HeatData {
  data: { bins: Bin[]; max: number; total: number; resolution: number | null } | null = null
  error: string | null = null
  private key = ''
  private request: AbortController | undefined
  private readonly listeners: (() => void)[] = []
  users = 0

  constructor(private readonly ctx: AppContext) {
    ctx.analysis.onChange(() => this.refresh())
    ctx.map.on('zoomend', () => this.refresh())
  }

  refresh(force = false): void {
    const { ctx } = this
    const q = ctx.analysis.query()
    const token = ctx.auth.token
    if (!this.users || !q || !token) return
    const zoom = ctx.map.getZoom()
    const key = `${q.from.toISOString()}|${q.to.toISOString()}|${q.matter}|${resolutionForZoom(zoom)}|${ctx.analysis.generation}`
    if (key === this.key && !force) return
    this.key = key
    this.request?.abort()
    const ac = new AbortController()
    this.request = ac
    ctx.api.heatmap(token, q, zoom, ac.signal).then((r: Heatmap) => {
      this.data = {
        bins: r.keys.map((k, i) => {
          const [lat, lon] = cellToLatLng(k)
          return { key: k, position: [lon, lat], count: r.counts[i] }
        }),
        max: r.max,
        total: r.total,
        resolution: r.resolution,
      }
      this.error = null
      this.emit()
      ctx.refreshLegend()
    }, (err: unknown) => {
      if (ac.signal.aborted) return
      this.key = ''
      this.error = err instanceof Error ? err.message : String(err)
      this.emit()
    })
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn)
  }

  private emit(): void {
    for (const l of this.listeners) l()
  }
}

const stores = new WeakMap<AppContext, HeatData>()
const storeOf = (ctx: AppContext): HeatData => {
  let s = stores.get(ctx)
  if (!s) {
    s = new HeatData(ctx)
    stores.set(ctx, s)
  }
  return s
}

const rampCss = `linear-gradient(90deg, ${DENSITY.map((c) => `rgb(${c.join(',')})`).join(', ')})`

function densityKey(ctx: AppContext, data: HeatData): HTMLElement {
  const t = ctx.i18n.t.bind(ctx.i18n)
  const d = data.data
  return h('div', { class: 'layer-controls' },
    h('div', { class: 'ramp', style: `background: ${rampCss}` }),
    h('div', { class: 'ramp-labels' }, h('span', {}, '0'), h('span', {}, d ? ctx.i18n.format(d.max) : '…')),
    data.error ? h('p', { class: 'note error' }, data.error)
      : d ? h('p', { class: 'note', 'data-testid': 'heat-total' }, t('heat.total', { total: d.total, resolution: d.resolution ?? '–' })) : null)
}

/** A deck.gl layer module fed by the heat data; `build` makes the layer from the bins. */
function heatModule(id: 'heatmap' | 'hexagons', build: (ctx: AppContext, bins: Bin[], max: number) => HeatmapLayer<Bin> | H3HexagonLayer<Bin>): LayerModule {
  let ctx: AppContext | undefined
  let data: HeatData | undefined
  let visible = false
  const slot = `analysis-${id}`
  const render = (): void => {
    if (!ctx || !data) return
    ctx.deck.set(slot, visible && data.data && ctx.analysis.allowed ? build(ctx, data.data.bins, data.data.max) : null)
  }
  return {
    id,
    labelKey: id === 'heatmap' ? 'layer.heatmap' : 'layer.hexagons',
    defaultVisible: false,
    needsRole: true,
    swatch: () => h('span', { class: 'swatch swatch-fill', style: `background: ${rampCss}` }),
    add(c) {
      ctx = c
      data = storeOf(c)
      c.deck.reserve(slot)
      data.onChange(render)
      c.auth.onChange(render)
    },
    setVisible(v) {
      if (!data || v === visible) {
        render()
        return
      }
      visible = v
      data.users += v ? 1 : -1
      if (v) void ctx?.analysis.ensure().then(() => data?.refresh())
      render()
    },
    controls: () => (ctx && data ? densityKey(ctx, data) : null),
  }
}

export function heatmapLayer(): LayerModule {
  return heatModule('heatmap', (_ctx, bins) => new HeatmapLayer<Bin>({
    id: 'heatmap',
    data: bins,
    getPosition: (d) => d.position,
    getWeight: (d) => d.count,
    aggregation: 'SUM',
    radiusPixels: 45,
    intensity: 1,
    threshold: 0.04,
    colorRange: DENSITY,
    opacity: 0.75,
    pickable: false,
  }))
}

export function hexagonLayer(): LayerModule {
  return heatModule('hexagons', (ctx, bins, max) => new H3HexagonLayer<Bin>({
    id: 'hexagons',
    data: bins,
    getHexagon: (d) => d.key,
    getFillColor: (d) => [...ramp(DENSITY, Math.sqrt(d.count / Math.max(1, max))), 190],
    getLineColor: [255, 255, 255, 160],
    lineWidthMinPixels: 0.5,
    extruded: false,
    stroked: true,
    highPrecision: 'auto',
    pickable: true,
    onHover: (info: PickingInfo<Bin>) => {
      if (info.object) ctx.tooltip.show(info.x, info.y, h('div', {}, h('strong', {}, ctx.i18n.t('heat.cases', { count: info.object.count })), h('br', {}), h('small', {}, info.object.key)))
      else ctx.tooltip.hide()
    },
    updateTriggers: { getFillColor: [max] },
    // `beforeId` is read by the MapLibre overlay: the hexagons sit under the boundaries.
    ...{ beforeId: boundaryLayerId('community') },
  }))
}
