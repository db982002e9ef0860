/**
 * What layers and views are given: the map, the deck.gl layer slots, the API,
 * the interface language, the shared URL state, the signed-in user, the
 * analysis filters and the places (label points, district outline).
 */
import type { Map as MapLibreMap } from 'maplibre-gl'
import type { Api } from './api.ts'
import type { AnalysisStore } from './analysis-store.ts'
import type { Auth } from './auth.ts'
import type { I18n, MessageKey } from './i18n.ts'
import type { Places } from './lib/places.ts'
import type { DeckLayers } from './map/deck.ts'
import type { UrlStore } from './url-store.ts'
import type { CellFeature } from './types.ts'

export interface AppContext {
  map: MapLibreMap
  deck: DeckLayers
  api: Api
  i18n: I18n
  url: UrlStore
  /** Label points and the district outline, read from a few community tiles after the first draw. */
  places: Promise<Places>
  auth: Auth
  analysis: AnalysisStore
  /** Where a layer may put a hover tooltip (one for the whole map). */
  tooltip: Tooltip
  /** Re-renders the legend (a layer's options changed: its data arrived, a filter list loaded). */
  refreshLegend(): void
  /** Resolves once the cells are first on screen: what is not urgent waits for it. */
  drawn: Promise<void>
  /** The highlighted cell (any view may set it; the selection layer draws it). */
  selection: Selection
}

export interface Tooltip {
  show(x: number, y: number, content: HTMLElement): void
  hide(): void
}

export class Selection {
  private current: CellFeature | null = null
  private listeners: ((c: CellFeature | null) => void)[] = []

  get(): CellFeature | null {
    return this.current
  }

  set(cell: CellFeature | null): void {
    this.current = cell
    for (const l of this.listeners) l(cell)
  }

  onChange(fn: (c: CellFeature | null) => void): void {
    this.listeners.push(fn)
  }
}

/**
 * A map layer module (web/src/layers/*.ts): its sources and style layers or
 * deck.gl layers, its legend entry and its toggle.
 */
export interface LayerModule {
  /** Stable id, used in the URL (`layers=cells,district`). */
  id: string
  labelKey: MessageKey
  defaultVisible: boolean
  /** A small swatch for the legend. */
  swatch(): HTMLElement
  /** Adds sources and layers; called once the style is loaded. */
  add(ctx: AppContext): void
  setVisible(visible: boolean): void
  /** Options shown under the layer's legend row while it is visible (filters, a colour ramp, why it is empty). */
  controls?(): HTMLElement | null
  /** Layers that need a signed-in role say so in the legend. */
  needsRole?: boolean
}

/**
 * A view (web/src/views/*.ts): a task with its own side panel and map
 * interaction: dispatcher and leader.
 */
export interface ViewModule {
  id: string
  titleKey: MessageKey
  /** Builds the panel; called when the view becomes active. */
  mount(panel: HTMLElement): void
  unmount(): void
  onMapClick?(lngLat: { lng: number; lat: number }): void
  /** Layers switched on when the user opens the view (a shared link keeps its own). */
  defaultLayers?: string[]
  /** Re-renders text after a language switch. */
  onLanguage?(): void
}
