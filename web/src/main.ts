/**
 * The web client: a MapLibre map with a local style made from the project's
 * own vector tiles, deck.gl layers interleaved into it, the layer modules
 * (web/src/layers) and the views (web/src/views), wired to the URL hash so a
 * link reopens the same map. Everything it loads comes from the server that
 * served it.
 */
import 'maplibre-gl/dist/maplibre-gl.css'
import './styles.css'
import { Map as MapLibreMap, NavigationControl, ScaleControl, setWorkerUrl, type RequestParameters } from 'maplibre-gl'
import maplibreWorkerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url'
import { AnalysisStore } from './analysis-store.ts'
import { createApi } from './api.ts'
import { Auth } from './auth.ts'
import { Selection, type AppContext, type LayerModule, type ViewModule } from './context.ts'
import { I18n } from './i18n.ts'
import { basemapLayer } from './layers/basemap.ts'
import { boundaryLayers } from './layers/boundaries.ts'
import { casesLayer } from './layers/cases.ts'
import { CELLS_MIN_ZOOM, CELLS_SOURCE, SUBDISTRICTS_SOURCE, cellsLayer } from './layers/cells.ts'
import { facilitiesLayer } from './layers/facilities.ts'
import { heatmapLayer, hexagonLayer } from './layers/heat.ts'
import { hotspotsLayer } from './layers/hotspots.ts'
import { labelsLayer } from './layers/labels.ts'
import { scoresLayer } from './layers/scores.ts'
import { selectionLayer } from './layers/selection.ts'
import type { UrlState } from './lib/url-state.ts'
import { DeckLayers } from './map/deck.ts'
import { buildStyle } from './map/style.ts'
import { loadPlaces } from './places-store.ts'
import { renderAnalysisControls } from './ui/analysis-controls.ts'
import { byId, h } from './ui/dom.ts'
import { renderLegend } from './ui/legend.ts'
import { renderSignIn } from './ui/signin.ts'
import { createTooltip } from './ui/tooltip.ts'
import { UrlStore } from './url-store.ts'
import { dispatcherView } from './views/dispatcher.ts'
import { leaderView } from './views/leader.ts'
import { plannerView } from './views/planner.ts'

/** Timings in ms since navigation start (performance.now()), read by the browser tests. */
export interface Metrics {
  firstDraw?: number
  /** Tiles the first frame needed (cells or subdistricts, as the zoom asks). */
  firstDrawSource?: string
}

declare global {
  interface Window {
    /** A handle for tests and for debugging in the console. */
    __wangge?: { map: MapLibreMap; metrics: Metrics; ready: boolean; error?: string; refreshes?: number }
  }
}

/** Chaoyang's extent: the first frame is already the district. */
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
  const api = createApi()
  const auth = new Auth(api)
  const origin = window.location.origin

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
    // Case tiles are for roles that see every case: they carry the signed-in user's token, and only they do.
    transformRequest: (u: string): RequestParameters => (auth.token && u.startsWith(`${origin}/tiles/cases/`)
      ? { url: u, headers: { authorization: `Bearer ${auth.token}` } }
      : { url: u }),
  })
  map.touchZoomRotate.disableRotation()
  map.keyboard.disableRotation()
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right')
  map.addControl(new ScaleControl({ unit: 'metric', maxWidth: 120 }), 'bottom-right')
  window.__wangge = { map, metrics, ready: false }

  await map.once('load')
  const deck = new DeckLayers(map)
  let markDrawn: () => void = () => undefined
  const drawn = new Promise<void>((resolve) => { markDrawn = resolve })
  // Names and the district outline: after the first draw, which must not wait for them.
  const places = drawn.then(() => loadPlaces(origin))
  places.catch((err: unknown) => console.warn('wangge: place names not loaded', err))
  const analysis = new AnalysisStore(api, auth)
  const ctx: AppContext = {
    map, deck, api, i18n, url, places, drawn, auth, analysis,
    selection: new Selection(),
    tooltip: createTooltip(byId('map-wrap')),
    refreshLegend: () => legend(),
  }

  // Drawn bottom to top; the legend lists them top to bottom.
  const layers: LayerModule[] = [
    ...(initial.basemap ? [basemapLayer()] : []),
    cellsLayer(),
    scoresLayer(),
    hotspotsLayer(),
    hexagonLayer(),
    ...boundaryLayers(),
    heatmapLayer(),
    facilitiesLayer(),
    casesLayer(),
    selectionLayer(),
    labelsLayer(),
  ]
  const visible = new Set(initial.layers ?? layers.filter((l) => l.defaultVisible).map((l) => l.id))
  for (const l of layers) {
    l.add(ctx)
    l.setVisible(visible.has(l.id))
  }
  const legendRoot = byId('legend')
  const controlsRoot = byId('analysis-controls')
  const analysisIds = new Set(['heatmap', 'hexagons', 'hotspots', 'scores'])
  const renderControls = (): void => {
    const shown = [...visible].some((id) => analysisIds.has(id)) || active?.id === 'leader'
    renderAnalysisControls(controlsRoot, ctx, shown)
  }
  const legend = (): void => renderLegend(legendRoot, {
    layers: [...layers].reverse(),
    visible,
    i18n,
    signedIn: analysis.allowed,
    onToggle(id, on) {
      if (on) visible.add(id)
      else visible.delete(id)
      layers.find((l) => l.id === id)?.setVisible(on)
      url.update({ layers: layers.filter((l) => visible.has(l.id)).map((l) => l.id) })
      legend()
      renderControls()
    },
  })
  legend()
  auth.onChange(() => {
    legend()
    renderControls()
  })
  analysis.onChange(() => {
    legend()
    renderControls()
  })

  const views: Record<string, ViewModule> = { dispatcher: dispatcherView(ctx), leader: leaderView(ctx), planner: plannerView(ctx) }
  const panel = byId('panel')
  const nav = byId('views')
  let active: ViewModule | undefined
  const renderNav = (): void => {
    nav.replaceChildren(...Object.values(views).map((v) => {
      const b = h('button', { type: 'button', class: v === active ? 'active' : '', 'aria-pressed': String(v === active), 'data-testid': `view-${v.id}` }, i18n.t(v.titleKey))
      b.addEventListener('click', () => activate(v.id, true))
      return b
    }))
  }
  const activate = (id: string, byUser = false): void => {
    const next = views[id] ?? views.dispatcher
    if (next === active) return
    if (byUser && next.defaultLayers?.some((l) => !visible.has(l))) {
      for (const l of next.defaultLayers) visible.add(l)
      for (const l of layers) l.setVisible(visible.has(l.id))
      url.update({ layers: layers.filter((l) => visible.has(l.id)).map((l) => l.id) })
      legend()
    }
    active?.unmount()
    active = next
    document.body.dataset.view = next.id
    url.update({ view: next.id })
    next.mount(panel)
    renderNav()
    renderControls()
  }
  activate(initial.view, !initial.layers)
  map.on('zoomend', () => legend())

  const renderAuth = renderSignIn(byId('signin'), auth, i18n)
  const langButton = byId<HTMLButtonElement>('lang')
  const applyLanguage = (): void => {
    i18n.apply()
    legend()
    renderNav()
    renderAuth()
    renderControls()
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
      renderControls()
    }
    if (s.view !== prev.view) activate(s.view)
    else if (s.at?.lon !== prev.at?.lon || s.at?.lat !== prev.at?.lat) {
      // A pasted link with another point: the view reads it on mount.
      active?.unmount()
      active?.mount(panel)
    }
  })

  // First draw: the map is idle with the grid's tiles for this zoom loaded and rendered (or the cells switched off).
  const source = map.getZoom() >= CELLS_MIN_ZOOM ? CELLS_SOURCE : SUBDISTRICTS_SOURCE
  for (;;) {
    await map.once('idle')
    if (!visible.has('cells') || (map.isSourceLoaded(source) && map.querySourceFeatures(source, { sourceLayer: source }).length > 0)) break
  }
  metrics.firstDraw = performance.now()
  metrics.firstDrawSource = source
  status.set(() => i18n.t('status.ready'))
  window.__wangge.ready = true
  document.body.dataset.ready = 'true'
  markDrawn()
  const count = await api.subdistricts().then((s) => s.reduce((n, r) => n + r.cells, 0), () => null)
  if (count !== null) status.set(() => i18n.t('status.cells', { count }))
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err)
  document.body.dataset.ready = 'error'
  if (window.__wangge) window.__wangge.error = message
  console.error('wangge: the client failed to start', err)
})
