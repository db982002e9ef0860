/**
 * Reading a screenshot's pixels without an image library: the PNG is decoded
 * by the browser itself (createImageBitmap on a Blob; no request is made).
 */
import type { Page } from 'playwright-core'

export interface PixelStats {
  total: number
  /** Pixels farther than `tolerance` from the background colour. */
  drawn: number
  /** Pixels of the selection's orange (#ff6d00, alone or blended over a pastel fill). */
  orange: number
}

export async function pixelStats(page: Page, png: Buffer, background: [number, number, number], tolerance = 24): Promise<PixelStats> {
  return page.evaluate(async ({ b64, bg, tol }) => {
    const bin = atob(b64)
    const bytes = new Uint8Array(bin.length)
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
    const bmp = await createImageBitmap(new Blob([bytes], { type: 'image/png' }))
    const canvas = new OffscreenCanvas(bmp.width, bmp.height)
    const g = canvas.getContext('2d')
    if (!g) throw new Error('no 2d context')
    g.drawImage(bmp, 0, 0)
    const d = g.getImageData(0, 0, bmp.width, bmp.height).data
    let drawn = 0
    let orange = 0
    for (let i = 0; i < d.length; i += 4) {
      const r = d[i]
      const gr = d[i + 1]
      const b = d[i + 2]
      if (Math.abs(r - bg[0]) + Math.abs(gr - bg[1]) + Math.abs(b - bg[2]) > tol) drawn++
      if (r > 200 && b < 140 && r - b > 110 && gr < 190) orange++
    }
    return { total: d.length / 4, drawn, orange }
  }, { b64: png.toString('base64'), bg: background, tol: tolerance })
}

export function hexToRgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16)
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255]
}

/** Pixels that differ by more than `tolerance` (sum of channel differences) between two screenshots of the same size. */
export async function pixelDiff(page: Page, a: Buffer, b: Buffer, tolerance = 40): Promise<{ total: number; changed: number }> {
  return page.evaluate(async ({ a64, b64, tol }) => {
    // No named inner functions: tsx would wrap them in a helper the page does not have.
    const [x, y] = await Promise.all([a64, b64].map(async (s) => {
      const bin = atob(s)
      const bytes = new Uint8Array(bin.length)
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
      const bmp = await createImageBitmap(new Blob([bytes], { type: 'image/png' }))
      const canvas = new OffscreenCanvas(bmp.width, bmp.height)
      const g = canvas.getContext('2d')
      if (!g) throw new Error('no 2d context')
      g.drawImage(bmp, 0, 0)
      return g.getImageData(0, 0, bmp.width, bmp.height).data
    }))
    if (x.length !== y.length) throw new Error('screenshots of different sizes')
    let changed = 0
    for (let i = 0; i < x.length; i += 4) {
      if (Math.abs(x[i] - y[i]) + Math.abs(x[i + 1] - y[i + 1]) + Math.abs(x[i + 2] - y[i + 2]) > tol) changed++
    }
    return { total: x.length / 4, changed }
  }, { a64: a.toString('base64'), b64: b.toString('base64'), tol: tolerance })
}
