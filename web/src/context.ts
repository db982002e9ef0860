/**
 * What layers and views are given: the map, the deck.gl layer slots, the API,
 * the interface language, the shared URL state and the grid once loaded.
 */
import type { Map as MapLibreMap } from 'maplibre-gl'
import type { Api } from './api.ts'
import type { Grid } from './grid-store.ts'
import type { I18n, MessageKey } from './i18n.ts'
import type { DeckLayers } from './map/deck.ts'
import type { UrlStore } from './url-store.ts'
import type { CellFeature } from './types.ts'

export interface AppContext {
  map: MapLibreMap
  deck: DeckLayers
  api: Api
  i18n: I18n
  url: UrlStore
  /** Resolves once /api/cells is loaded and indexed. */
  grid: Promise<Grid>
  /** Resolves once the cells are first on screen: what is not urgent waits for it. */
  drawn: Promise<void>
  /** The highlighted cell (any view may set it; the selection layer draws it). */
  selection: Selection
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
}

/**
 * A view (web/src/views/*.ts): a task with its own side panel and map
 * interaction. Dispatcher now; facilities, cases, leader and planner later.
 */
export interface ViewModule {
  id: string
  titleKey: MessageKey
  /** Builds the panel; called when the view becomes active. */
  mount(panel: HTMLElement): void
  unmount(): void
  onMapClick?(lngLat: { lng: number; lat: number }): void
  /** Re-renders text after a language switch. */
  onLanguage?(): void
}
