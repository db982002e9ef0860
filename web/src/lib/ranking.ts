/**
 * Rankings as the leader reads them: rows sorted by any column, units without
 * a score last whatever the direction, ties by code so the order is stable.
 */

export interface RankRow {
  code: string
  name: string
  score: number | null
  grade: string | null
  rank: number | null
  /** Places moved up since the previous window (negative: down). */
  change: number | null
  cases: number
}

export type SortKey = 'rank' | 'name' | 'score' | 'change' | 'cases'
export type SortDir = 'asc' | 'desc'

/** The natural direction of a column when it is first clicked. */
export const DEFAULT_DIR: Record<SortKey, SortDir> = { rank: 'asc', name: 'asc', score: 'desc', change: 'desc', cases: 'desc' }

/**
 * @example
 * sortRows(rows, 'score', 'desc') // best score first, unscored units at the end
 */
export function sortRows<T extends RankRow>(rows: readonly T[], key: SortKey, dir: SortDir): T[] {
  const sign = dir === 'asc' ? 1 : -1
  return [...rows].sort((a, b) => {
    if (key === 'name') return sign * a.name.localeCompare(b.name, 'zh-CN') || a.code.localeCompare(b.code)
    const x = a[key]
    const y = b[key]
    if (x === null && y === null) return a.code.localeCompare(b.code)
    if (x === null) return 1
    if (y === null) return -1
    return sign * (x - y) || a.code.localeCompare(b.code)
  })
}

/** "↑3", "↓2", "–" (no change) or "" (no previous rank). */
export function changeLabel(change: number | null): string {
  if (change === null) return ''
  if (change > 0) return `↑${change}`
  if (change < 0) return `↓${-change}`
  return '–'
}

/**
 * An SVG polyline's points for a series in a w × h box (null values skipped,
 * y from 0 at the bottom to 100 at the top: scores are percentages).
 */
export function sparkPoints(values: (number | null)[], w: number, hgt: number, pad = 2): string {
  const n = values.length
  return values.map((v, i) => (v === null ? null
    : `${(pad + (n > 1 ? (i * (w - 2 * pad)) / (n - 1) : (w - 2 * pad) / 2)).toFixed(1)},${(hgt - pad - (Math.max(0, Math.min(100, v)) / 100) * (hgt - 2 * pad)).toFixed(1)}`))
    .filter((p): p is string => p !== null).join(' ')
}
