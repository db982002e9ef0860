/**
 * The web client: a MapLibre map with a local style, deck.gl layers
 * interleaved into it, the layer modules (web/src/layers) and the views
 * (web/src/views), wired to the URL hash so a link reopens the same map.
 * Everything it loads comes from the server that served it.
 */
import 'maplibre-gl/dist/maplibre-gl.css'
import './styles.css'
import { Map as MapLibreMap, NavigationControl, ScaleControl, setWorkerUrl } from 'maplibre-gl'
import maplibreWorkerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url'
import { createApi } from './api.ts'
import { Selection, type AppContext, type LayerModule, type ViewModule } from './context.ts'
import { buildGrid, type Grid } from './grid-store.ts'
import { I18n } from './i18n.ts'
import { basemapLayer } from './layers/basemap.ts'
import { boundaryLayers } from './layers/boundaries.ts'
import { CELLS_SOURCE, cellsLayer } from './layers/cells.ts'
import { labelsLayer } from './layers/labels.ts'
import { selectionLayer } from './layers/selection.ts'
import { DeckLayers } from './map/deck.ts'
import { buildStyle } from './map/style.ts'
import type { UrlState } from './lib/url-state.ts'
import { renderLegend } from './ui/legend.ts'
import { byId, h } from './ui/dom.ts'
import { UrlStore } from './url-store.ts'
import { dispatcherView } from './views/dispatcher.ts'

/** Timings in ms since navigation start (performance.now()), read by the browser tests. */
export interface Metrics {
  cellsRequested?: number
  cellsFetched?: number
  gridBuilt?: number
  firstDraw?: number
  cellCount?: number
}

declare global {
  interface Window {
    /** A handle for tests and for debugging in the console. */
    __wangge?: { map: MapLibreMap; metrics: Metrics; ready: boolean; error?: string }
  }
}

/** Chaoyang's extent: the first frame is already the district, before its cells arrive. */
const INITIAL_BOUNDS: [[number, number], [number, number]] = [[116.34, 39.817], [116.645, 40.077]]

setWorkerUrl(maplibreWorkerUrl)

/** The status line: what is loaded (re-translated on a language switch) and the pointer's coordinates. */
function statusBar(i18n: I18n): { set(text: () => string, kind?: 'error'): void; pointer(lon: number, lat: number): void; render(): void } {
  const left = byId('status-text')
  const right = byId('status-pointer')
  let msg: () => string = () => i18n.t('status.loading')
  let kind: 'error' | undefined
  let pointer: [number, number] | undefined
  return {
    set(text, k) {
      msg = text
      kind = k
      this.render()
    },
    pointer(lon, lat) {
      pointer = [lon, lat]
      right.textContent = i18n.t('status.pointer', { lon: lon.toFixed(6), lat: lat.toFixed(6) })
    },
    render() {
      left.textContent = msg()
      left.classList.toggle('error', kind === 'error')
      if (pointer) this.pointer(pointer[0], pointer[1])
    },
  }
}

async function main(): Promise<void> {
  const url = new UrlStore()
  const initial = url.get()
  const i18n = new I18n(initial.lang)
  i18n.apply()
  const status = statusBar(i18n)
  status.render()

  const metrics: Metrics = {}
  const map = new MapLibreMap({
    container: 'map',
    style: buildStyle({ basemap: initial.basemap }),
    ...(initial.viewport
      ? { center: [initial.viewport.lon, initial.viewport.lat] as [number, number], zoom: initial.viewport.zoom }
      : { bounds: INITIAL_BOUNDS, fitBoundsOptions: { padding: 16 } }),
    minZoom: 8,
    maxZoom: 19,
    // A grid map is read flat and north-up: rotation and pitch only get in the way.
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    maxPitch: 0,
    attributionControl: { compact: true },
    canvasContextAttributes: { antialias: true },
  })
  map.touchZoomRotate.disableRotation()
  map.keyboard.disableRotation()
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right')
  map.addControl(new ScaleControl({ unit: 'metric', maxWidth: 120 }), 'bottom-right')
  window.__wangge = { map, metrics, ready: false }

  // The cells are fetched while the map and its worker start.
  const api = createApi()
  metrics.cellsRequested = performance.now()
  const grid: Promise<Grid> = api.cells().then((cells) => {
    metrics.cellsFetched = performance.now()
    const g = buildGrid(cells)
    metrics.gridBuilt = performance.now()
    metrics.cellCount = cells.features.length
    return g
  })
  grid.catch(() => undefined)

  await map.once('load')
  // Reframe only for a grid that does not fit the first frame (another district), and before
  // its data goes to the worker: a change of zoom after that would tile everything twice.
  grid.then((g) => {
    const view = map.getBounds()
    const fits = view.contains([g.bounds[0], g.bounds[1]]) && view.contains([g.bounds[2], g.bounds[3]])
    if (!initial.viewport && !fits) map.fitBounds([[g.bounds[0], g.bounds[1]], [g.bounds[2], g.bounds[3]]], { padding: 16, animate: false })
  }, () => undefined)
  const deck = new DeckLayers(map)
  let markDrawn: () => void = () => undefined
  const drawn = new Promise<void>((resolve) => { markDrawn = resolve })
  const ctx: AppContext = { map, deck, api, i18n, url, grid, drawn, selection: new Selection() }

  // Drawn bottom to top; the legend lists them top to bottom.
  const layers: LayerModule[] = [
    ...(initial.basemap ? [basemapLayer()] : []),
    cellsLayer(),
    ...boundaryLayers(),
    selectionLayer(),
    labelsLayer(),
  ]
  const visible = new Set(initial.layers ?? layers.filter((l) => l.defaultVisible).map((l) => l.id))
  for (const l of layers) {
    l.add(ctx)
    l.setVisible(visible.has(l.id))
  }
  const legendRoot = byId('legend')
  const legend = (): void => renderLegend(legendRoot, {
    layers: [...layers].reverse(),
    visible,
    i18n,
    onToggle(id, on) {
      if (on) visible.add(id)
      else visible.delete(id)
      layers.find((l) => l.id === id)?.setVisible(on)
      url.update({ layers: layers.filter((l) => visible.has(l.id)).map((l) => l.id) })
    },
  })
  legend()

  const views: Record<string, ViewModule> = { dispatcher: dispatcherView(ctx) }
  const panel = byId('panel')
  const nav = byId('views')
  let active: ViewModule | undefined
  const renderNav = (): void => {
    nav.replaceChildren(...Object.values(views).map((v) => {
      const b = h('button', { type: 'button', class: v === active ? 'active' : '', 'aria-pressed': String(v === active), 'data-testid': `view-${v.id}` }, i18n.t(v.titleKey))
      b.addEventListener('click', () => activate(v.id))
      return b
    }))
  }
  const activate = (id: string): void => {
    const next = views[id] ?? views.dispatcher
    if (next === active) return
    active?.unmount()
    active = next
    url.update({ view: next.id })
    next.mount(panel)
    renderNav()
  }
  activate(initial.view)

  const langButton = byId<HTMLButtonElement>('lang')
  const applyLanguage = (): void => {
    i18n.apply()
    legend()
    renderNav()
    status.render()
    active?.onLanguage?.()
  }
  langButton.addEventListener('click', () => {
    i18n.set(i18n.lang === 'zh' ? 'en' : 'zh')
    url.update({ lang: i18n.lang })
    applyLanguage()
  })

  map.on('click', (e) => active?.onMapClick?.(e.lngLat))
  map.on('moveend', () => {
    const c = map.getCenter()
    url.update({ viewport: { zoom: map.getZoom(), lat: c.lat, lon: c.lng } })
  })
  let frame = 0
  map.on('mousemove', (e) => {
    if (frame) return
    frame = requestAnimationFrame(() => {
      frame = 0
      status.pointer(e.lngLat.lng, e.lngLat.lat)
    })
  })

  url.onExternalChange((s: UrlState, prev: UrlState) => {
    if (s.lang !== prev.lang) {
      i18n.set(s.lang)
      applyLanguage()
    }
    if (s.viewport && (s.viewport.zoom !== prev.viewport?.zoom || s.viewport.lat !== prev.viewport?.lat || s.viewport.lon !== prev.viewport?.lon)) {
      map.jumpTo({ center: [s.viewport.lon, s.viewport.lat], zoom: s.viewport.zoom })
    }
    if (s.layers && s.layers.join() !== prev.layers?.join()) {
      visible.clear()
      for (const id of s.layers) visible.add(id)
      for (const l of layers) l.setVisible(visible.has(l.id))
      legend()
    }
    if (s.view !== prev.view) activate(s.view)
    else if (s.at?.lon !== prev.at?.lon || s.at?.lat !== prev.at?.lat) {
      // A pasted link with another point: the view reads it on mount.
      active?.unmount()
      active?.mount(panel)
    }
  })

  let g: Grid
  try {
    g = await grid
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    status.set(() => i18n.t('status.loadFailed', { message }), 'error')
    window.__wangge.error = message
    throw err
  }
  status.set(() => i18n.t('status.cells', { count: g.cells.features.length }))

  // First draw: the map is idle with the cells source tiled and rendered (or the cells are switched off).
  for (;;) {
    await map.once('idle')
    if (!visible.has('cells') || (map.isSourceLoaded(CELLS_SOURCE) && map.querySourceFeatures(CELLS_SOURCE).length > 0)) break
  }
  metrics.firstDraw = performance.now()
  window.__wangge.ready = true
  document.body.dataset.ready = 'true'
  markDrawn()
}

main().catch((err: unknown) => {
  document.body.dataset.ready = 'error'
  console.error('wangge: the client failed to start', err)
})
