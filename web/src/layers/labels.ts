/**
 * Names of subdistricts (always) and communities (from zoom 13.5), drawn by
 * deck.gl's TextLayer from the browser's own fonts: no glyph server. The font
 * atlas is built from exactly the characters in the data (`characterSet:
 * 'auto'`); the default set is ASCII only and would drop every Chinese name.
 * Names that would overlap are left out, larger places first
 * (web/src/lib/declutter.ts); sizes follow the interface's root size, so
 * they stay readable on a 4K screen.
 */
import { TextLayer } from '@deck.gl/layers'
import type { AppContext, LayerModule } from '../context.ts'
import { declutter } from '../lib/declutter.ts'
import type { Label } from '../lib/places.ts'
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
    fontSettings: { sdf: true, fontSize: 48, buffer: 6 },
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
  let placedAt: { zoom: number; rem: number } | undefined

  const render = async (force = false): Promise<void> => {
    if (!ctx) return
    // After the cells are on screen: deck.gl's first layer compiles its shaders and builds the
    // font atlas, which would otherwise hold back the first frame of the grid.
    await ctx.drawn
    const outlines = await ctx.places
    const { map, deck } = ctx
    if (!visible) {
      deck.set(LABELS_SLOT, null)
      placedAt = undefined
      return
    }
    const zoom = map.getZoom()
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16
    if (!force && placedAt && Math.abs(placedAt.zoom - zoom) < 0.01 && placedAt.rem === rem) return
    placedAt = { zoom, rem }
    const big = Math.round(rem * 1.05)
    const small = Math.round(rem * 0.85)
    const candidates = [
      ...outlines.subdistrictLabels.map((l) => ({ l, size: big })),
      ...(zoom >= COMMUNITY_MIN_ZOOM ? outlines.communityLabels.map((l) => ({ l, size: small })) : []),
    ]
    const kept = declutter(candidates.map(({ l, size }) => {
      const p = map.project(l.position)
      // CJK glyphs are about one em wide; the halo adds a little on each side.
      return { x: p.x, y: p.y, w: [...l.name].length * size + 6, h: size * 1.3 }
    }))
    const shown = kept.map((i) => candidates[i])
    deck.set(LABELS_SLOT, [
      textLayer('labels-community', shown.filter((c) => c.size === small).map((c) => c.l), small, 400),
      textLayer('labels-subdistrict', shown.filter((c) => c.size === big).map((c) => c.l), big, 600),
    ])
    if (!performance.getEntriesByName('wangge:labels-drawn').length) {
      await map.once('idle')
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
      c.map.on('zoomend', () => void render())
      c.map.on('resize', () => void render())
      render().catch(() => undefined)
    },
    setVisible(v) {
      visible = v
      void render(true)
    },
  }
}
