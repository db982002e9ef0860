/** Colour ramps and keys for the analysis layers: pure, so the legend and the map agree and tests can check them. */

export type Rgb = [number, number, number]

/**
 * The colour at t ∈ [0, 1] along evenly spaced stops.
 * @example
 * ramp([[0, 0, 0], [255, 255, 255]], 0.5) // [128, 128, 128]
 */
export function ramp(stops: Rgb[], t: number): Rgb {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1)
  const i = Math.min(stops.length - 2, Math.floor(x))
  const f = x - i
  const a = stops[i]
  const b = stops[i + 1]
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)]
}

/** The H3 resolution the server picks for a zoom (server/analysis/heatmap.ts resolutionForZoom): a new request only when it changes. */
export function resolutionForZoom(zoom: number): number {
  if (zoom <= 9) return 6
  if (zoom < 12) return 7
  if (zoom < 13) return 8
  if (zoom < 14) return 9
  return 10
}

/** Grade of a composite score (A ≥ 90, B 75–90, C 60–75, D 40–60, E < 40), as the analysis grades it. */
export function gradeOf(score: number | null): 'A' | 'B' | 'C' | 'D' | 'E' | null {
  if (score === null || !Number.isFinite(score)) return null
  if (score >= 90) return 'A'
  if (score >= 75) return 'B'
  if (score >= 60) return 'C'
  if (score >= 40) return 'D'
  return 'E'
}

/**
 * Owners coloured in order of how many components each owns (the largest get
 * the distinct hues; the rest share grey), so manhole covers read by utility.
 */
export function ownerColours(owners: { uscc: string; owned: number }[], palette: string[]): Map<string, string> {
  const sorted = owners.filter((o) => o.owned > 0).sort((a, b) => b.owned - a.owned || a.uscc.localeCompare(b.uscc))
  return new Map(sorted.slice(0, palette.length).map((o, i) => [o.uscc, palette[i]]))
}
