/**
 * The optional raster base map, configured per deployment with `?basemap=`
 * (a {z}/{x}/{y} URL template). Off by default: the service must work with no
 * internet. Note: Chinese commercial tiles (AMap, Tencent, Baidu) are drawn in
 * GCJ-02/BD-09 and would sit ≈ 500 m off our WGS84 grid; use WGS84 tiles.
 */
import type { AppContext, LayerModule } from '../context.ts'
import { h } from '../ui/dom.ts'

export function basemapLayer(): LayerModule {
  let ctx: AppContext | undefined
  return {
    id: 'basemap',
    labelKey: 'layer.basemap',
    defaultVisible: true,
    swatch: () => h('span', { class: 'swatch swatch-fill swatch-basemap' }),
    add(c) {
      ctx = c
    },
    setVisible(visible) {
      if (ctx?.map.getLayer('basemap')) ctx.map.setLayoutProperty('basemap', 'visibility', visible ? 'visible' : 'none')
    },
  }
}
