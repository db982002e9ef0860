/**
 * Names of subdistricts (always) and communities (from zoom 13.5), drawn by
 * deck.gl's TextLayer from the browser's own fonts: no glyph server. The font
 * atlas is built from exactly the characters in the data (`characterSet:
 * 'auto'`); the default set is ASCII only and would drop every Chinese name.
 */
import { TextLayer } from '@deck.gl/layers'
import type { AppContext, LayerModule } from '../context.ts'
import type { Label } from '../grid-store.ts'
import { h } from '../ui/dom.ts'
import { LABEL, rgba } from './palette.ts'

export const LABELS_SLOT = 'labels'

/** System CJK fonts on Windows, macOS, Linux and Android, in that order; nothing downloaded. */
export const FONT_FAMILY = '"Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Droid Sans Fallback", sans-serif'

const COMMUNITY_MIN_ZOOM = 13.5

function textLayer(id: string, data: Label[], size: number, weight: number | string): TextLayer<Label> {
  return new TextLayer<Label>({
    id,
    data,
    getPosition: (d) => d.position,
    getText: (d) => d.name,
    getSize: size,
    getColor: rgba(LABEL),
    characterSet: 'auto',
    fontFamily: FONT_FAMILY,
    fontWeight: weight,
    // A white halo keeps names legible over any fill; it needs the SDF atlas.
    fontSettings: { sdf: true, fontSize: 64, buffer: 6 },
    outlineWidth: 3,
    outlineColor: [255, 255, 255, 230],
    getTextAnchor: 'middle',
    getAlignmentBaseline: 'center',
    pickable: false,
  })
}

export function labelsLayer(): LayerModule {
  let ctx: AppContext | undefined
  let visible = true
  let showCommunities = false

  const render = async (): Promise<void> => {
    if (!ctx) return
    // After the cells are on screen: deck.gl's first layer compiles its shaders and builds the
    // font atlas, which would otherwise hold back the first frame of the grid.
    await ctx.drawn
    const outlines = await (await ctx.grid).outlines
    if (!visible) {
      ctx.deck.set(LABELS_SLOT, null)
      return
    }
    const layers = [textLayer('labels-subdistrict', outlines.subdistrictLabels, 15, 600)]
    if (showCommunities) layers.unshift(textLayer('labels-community', outlines.communityLabels, 12, 400))
    ctx.deck.set(LABELS_SLOT, layers)
    if (!performance.getEntriesByName('wangge:labels-drawn').length) {
      await ctx.map.once('idle')
      performance.mark('wangge:labels-drawn')
    }
  }

  return {
    id: 'labels',
    labelKey: 'layer.labels',
    defaultVisible: true,
    swatch: () => h('span', { class: 'swatch swatch-text' }, '名'),
    add(c) {
      ctx = c
      c.deck.reserve(LABELS_SLOT)
      showCommunities = c.map.getZoom() >= COMMUNITY_MIN_ZOOM
      c.map.on('zoomend', () => {
        const show = c.map.getZoom() >= COMMUNITY_MIN_ZOOM
        if (show === showCommunities) return
        showCommunities = show
        void render()
      })
      render().catch(() => undefined)
    },
    setVisible(v) {
      visible = v
      void render()
    },
  }
}
