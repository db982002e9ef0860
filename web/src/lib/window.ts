/**
 * The analysis time window: `days` long, ending at the end of a day that the
 * time slider moves. The slider's range ends at the newest case, not at the
 * clock: a district whose history stops (a test copy, an archive) still opens
 * on its last month instead of an empty one.
 */

export const DAY_MS = 86_400_000
/** Beijing is UTC+8 all year: windows end at Beijing midnight. */
const BEIJING_MS = 8 * 3_600_000

export interface WindowState {
  /** Days before the newest day the window ends (0 = ends with the newest case's day). */
  offsetDays: number
  days: number
  matter: string | null
}

/** The end of the Beijing day holding `t` (exclusive). */
export function endOfDay(t: Date): Date {
  const local = t.getTime() + BEIJING_MS
  return new Date(Math.floor(local / DAY_MS) * DAY_MS + DAY_MS - BEIJING_MS)
}

/**
 * The window's [from, to) for the newest case time and the slider's state.
 * @example
 * windowOf(new Date('2025-10-31T14:00:00Z'), { offsetDays: 0, days: 30, matter: null })
 * // { from: 2025-10-01T16:00:00Z, to: 2025-10-31T16:00:00Z }
 */
export function windowOf(latest: Date, s: WindowState): { from: Date; to: Date } {
  const to = new Date(endOfDay(latest).getTime() - s.offsetDays * DAY_MS)
  return { from: new Date(to.getTime() - s.days * DAY_MS), to }
}

/** `2025-10-31` in Beijing time, for labels. */
export function dayLabel(t: Date): string {
  return new Date(t.getTime() + BEIJING_MS).toISOString().slice(0, 10)
}
