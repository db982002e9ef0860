/**
 * What a shared link carries, in the URL hash so the server never sees it:
 * `#view=dispatcher&map=13.00/39.92100/116.46300&layers=cells,district&lang=en&at=116.46,39.92`.
 * Parsing is forgiving (a bad part falls back to its default) because links get
 * hand-edited and truncated in chat messages.
 */
import type { Crs } from '../types.ts'

export type Lang = 'zh' | 'en'

export interface Viewport { zoom: number; lat: number; lon: number }

export interface UrlState {
  view: string
  /** Visible layer ids, in no particular order; undefined = each layer's default. */
  layers: string[] | undefined
  viewport: Viewport | undefined
  lang: Lang
  /** The located point (WGS84) of the dispatcher view, if any. */
  at: { lon: number; lat: number } | undefined
  /** The coordinate system typed points are read in. */
  crs: Crs
  /** Optional raster base map URL template ({z}/{x}/{y}); off unless given. */
  basemap: string | undefined
  /** Seconds between the big screen's refreshes (leader view); undefined = its default. */
  refresh: number | undefined
}

export const DEFAULT_STATE: UrlState = {
  view: 'dispatcher',
  layers: undefined,
  viewport: undefined,
  lang: 'zh',
  at: undefined,
  crs: 'wgs84',
  basemap: undefined,
  refresh: undefined,
}

const num = (s: string | undefined): number | undefined => {
  if (s === undefined || s.trim() === '') return undefined
  const n = Number(s)
  return Number.isFinite(n) ? n : undefined
}

function parseViewport(raw: string | null): Viewport | undefined {
  if (!raw) return undefined
  const [z, lat, lon] = raw.split('/').map(num)
  if (z === undefined || lat === undefined || lon === undefined) return undefined
  if (z < 0 || z > 24 || Math.abs(lat) > 85.06 || Math.abs(lon) > 180) return undefined
  return { zoom: z, lat, lon }
}

function parsePoint(raw: string | null): { lon: number; lat: number } | undefined {
  if (!raw) return undefined
  const [lon, lat] = raw.split(',').map(num)
  if (lon === undefined || lat === undefined || Math.abs(lon) > 180 || Math.abs(lat) > 90) return undefined
  return { lon, lat }
}

/** Only http(s) tile templates: a `javascript:` or `data:` URL is not a base map. */
export function safeBasemap(raw: string | null | undefined): string | undefined {
  if (!raw) return undefined
  try {
    const u = new URL(raw.replace(/\{[a-z]+\}/g, '0'))
    return u.protocol === 'https:' || u.protocol === 'http:' ? raw : undefined
  } catch {
    return undefined
  }
}

/**
 * Reads the state from a hash (`#a=b&…`) and, for the base map, from the query
 * string too (`?basemap=` is how an operator configures a deployment link).
 */
export function parseState(hash: string, search = ''): UrlState {
  const p = new URLSearchParams(hash.replace(/^#/, ''))
  const q = new URLSearchParams(search.replace(/^\?/, ''))
  const lang = p.get('lang')
  const crs = p.get('crs')
  const layers = p.get('layers')
  return {
    view: p.get('view') || DEFAULT_STATE.view,
    layers: layers === null ? undefined : layers.split(',').filter((s) => /^[a-z0-9-]+$/.test(s)),
    viewport: parseViewport(p.get('map')),
    lang: lang === 'en' || lang === 'zh' ? lang : DEFAULT_STATE.lang,
    at: parsePoint(p.get('at')),
    crs: crs === 'gcj02' || crs === 'bd09' || crs === 'wgs84' ? crs : DEFAULT_STATE.crs,
    basemap: safeBasemap(p.get('basemap') ?? q.get('basemap')),
    refresh: parseRefresh(p.get('refresh')),
  }
}

/** Whole seconds, at least 2 (a wall screen polling faster only loads the server). */
function parseRefresh(raw: string | null): number | undefined {
  const n = num(raw ?? undefined)
  return n === undefined || n < 2 || n > 86_400 ? undefined : Math.round(n)
}

/** Decimals for a zoom: enough that a shared link reopens on the same cell (≈ 1 m at zoom 18). */
function decimals(zoom: number): number {
  return Math.max(2, Math.min(6, Math.ceil((zoom * Math.LN2 + Math.log(512 / 360)) / Math.LN10)))
}

/** Writes the state as a hash; defaults are left out so links stay short. */
export function formatState(s: UrlState): string {
  const parts: string[] = []
  parts.push(`view=${encodeURIComponent(s.view)}`)
  if (s.viewport) {
    const d = decimals(s.viewport.zoom)
    parts.push(`map=${s.viewport.zoom.toFixed(2)}/${s.viewport.lat.toFixed(d)}/${s.viewport.lon.toFixed(d)}`)
  }
  if (s.layers) parts.push(`layers=${s.layers.join(',')}`)
  if (s.lang !== DEFAULT_STATE.lang) parts.push(`lang=${s.lang}`)
  if (s.at) parts.push(`at=${s.at.lon.toFixed(6)},${s.at.lat.toFixed(6)}`)
  if (s.crs !== DEFAULT_STATE.crs) parts.push(`crs=${s.crs}`)
  if (s.basemap) parts.push(`basemap=${encodeURIComponent(s.basemap)}`)
  if (s.refresh !== undefined) parts.push(`refresh=${s.refresh}`)
  return `#${parts.join('&')}`
}
