/**
 * The selected cell, drawn by deck.gl over the cells and under the community
 * and subdistrict lines, so the boundaries stay readable around it.
 */
import { GeoJsonLayer, type GeoJsonLayerProps } from '@deck.gl/layers'
import type { AppContext, LayerModule } from '../context.ts'
import type { CellFeature } from '../types.ts'
import { h } from '../ui/dom.ts'
import { boundaryLayerId } from './boundaries.ts'
import { SELECTION, rgba } from './palette.ts'

export const SELECTION_SLOT = 'selection'

export function selectionLayer(): LayerModule {
  let ctx: AppContext | undefined
  let visible = true

  const render = (cell: CellFeature | null): void => {
    if (!ctx) return
    if (!cell || !visible) {
      ctx.deck.set(SELECTION_SLOT, null)
      return
    }
    // `beforeId` is read by the MapLibre overlay, not by the layer, so it is not in the layer's prop types.
    const props: GeoJsonLayerProps<CellFeature['properties']> & { beforeId: string } = {
      id: 'selection',
      data: [cell],
      beforeId: boundaryLayerId('community'),
      filled: true,
      stroked: true,
      getFillColor: rgba(SELECTION, 150),
      getLineColor: rgba(SELECTION),
      getLineWidth: 3,
      lineWidthUnits: 'pixels',
      pickable: false,
    }
    ctx.deck.set(SELECTION_SLOT, new GeoJsonLayer<CellFeature['properties']>(props))
  }

  return {
    id: 'selection',
    labelKey: 'layer.selection',
    defaultVisible: true,
    swatch: () => h('span', { class: 'swatch swatch-fill', style: `background: ${SELECTION}99; border: 2px solid ${SELECTION}` }),
    add(c) {
      ctx = c
      c.deck.reserve(SELECTION_SLOT)
      c.selection.onChange(render)
      render(c.selection.get())
    },
    setVisible(v) {
      visible = v
      render(ctx?.selection.get() ?? null)
    },
  }
}
