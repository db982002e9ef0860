/**
 * deck.gl layers interleaved into the MapLibre map: they share its WebGL2
 * context and depth order, so a layer can sit under the boundaries
 * (`beforeId`) instead of on a separate canvas over everything.
 *
 * MapLibre 6 removed the internal `map.transform` that @deck.gl/mapbox's
 * MapboxOverlay reads; @deck.gl/maplibre's MapLibreOverlay is the same control
 * built on MapLibre's public API, so it is the one used here.
 */
import type { Layer } from '@deck.gl/core'
import { MapLibreOverlay } from '@deck.gl/maplibre'
import type { Map as MapLibreMap } from 'maplibre-gl'

/**
 * The deck.gl layers of every module, by slot. Modules set or clear their own
 * slot; the overlay gets the whole list in slot order (registration order), so
 * what is drawn on top does not depend on which module finished loading first.
 */
export class DeckLayers {
  private readonly slots = new Map<string, Layer | Layer[] | null>()
  private readonly overlay: MapLibreOverlay

  constructor(map: MapLibreMap) {
    this.overlay = new MapLibreOverlay({ interleaved: true, layers: [] })
    map.addControl(this.overlay)
  }

  /** Reserves a slot so its position is fixed before its data arrives. */
  reserve(slot: string): void {
    if (!this.slots.has(slot)) this.slots.set(slot, null)
  }

  set(slot: string, layer: Layer | Layer[] | null): void {
    this.slots.set(slot, layer)
    this.overlay.setProps({ layers: [...this.slots.values()].flat().filter((l): l is Layer => l !== null) })
  }

  finalize(): void {
    this.overlay.finalize()
  }
}
