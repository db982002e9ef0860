/**
 * A small map with no map library (the phone app must load fast on a poor
 * connection): the cell's outline, the reported point and the nearest
 * components as numbered dots, drawn as SVG in a local metric projection
 * around the point. Pure: returns markup; the caller wires taps by data-id.
 */
import type { Geometry, Position } from 'geojson'

export interface MiniFacility { id: string; lon: number; lat: number; label: string; selected: boolean }

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function rings(g: Geometry | null): Position[][] {
  if (!g) return []
  if (g.type === 'Polygon') return g.coordinates
  if (g.type === 'MultiPolygon') return g.coordinates.flat()
  return []
}

export function miniMapSvg(opts: {
  point: { lon: number; lat: number }
  cell: Geometry | null
  facilities: readonly MiniFacility[]
  width?: number
  height?: number
}): string {
  const w = opts.width ?? 360
  const h = opts.height ?? 220
  const { lon: lon0, lat: lat0 } = opts.point
  const kx = 111_320 * Math.cos((lat0 * Math.PI) / 180)
  const ky = 110_574
  const xs: number[] = [0]
  const ys: number[] = [0]
  const cellRings = rings(opts.cell)
  for (const r of cellRings) for (const [x, y] of r) { xs.push((x - lon0) * kx); ys.push((y - lat0) * ky) }
  for (const f of opts.facilities) { xs.push((f.lon - lon0) * kx); ys.push((f.lat - lat0) * ky) }
  // Frame: everything, at least 60 m across, with a margin.
  const half = Math.max(30, ...xs.map(Math.abs), ...ys.map((y) => Math.abs(y) * (w / h))) * 1.15
  const s = w / 2 / half
  const px = (lon: number): number => w / 2 + (lon - lon0) * kx * s
  const py = (lat: number): number => h / 2 - (lat - lat0) * ky * s
  const path = cellRings.map((r) => `M${r.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join('L')}Z`).join('')
  const scaleM = [10, 20, 50, 100, 200, 500, 1000].find((m) => m * s > w / 6) ?? 1000
  const dots = opts.facilities.map((f, i) => {
    const x = px(f.lon).toFixed(1)
    const y = py(f.lat).toFixed(1)
    return `<g class="fac${f.selected ? ' sel' : ''}" data-id="${esc(f.id)}" role="button" tabindex="0" aria-label="${esc(f.label)}">`
      + `<circle cx="${x}" cy="${y}" r="11"/><text x="${x}" y="${y}" dy="4" text-anchor="middle">${i + 1}</text></g>`
  }).join('')
  return `<svg class="minimap" data-testid="minimap" viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="位置示意图">`
    + `<rect width="${w}" height="${h}" class="bg"/>`
    + (path ? `<path class="cell" d="${path}"/>` : '')
    + dots
    + `<g class="me"><circle cx="${w / 2}" cy="${h / 2}" r="7"/></g>`
    + `<g class="scale"><line x1="10" y1="${h - 12}" x2="${(10 + scaleM * s).toFixed(1)}" y2="${h - 12}"/><text x="10" y="${h - 17}">${scaleM} m</text></g>`
    + '</svg>'
}
