/**
 * The clock of a case's current stage: when it started, how much of its limit
 * was used before a pause (挂账), the limit (grown by extensions) and the two
 * instants that colour it: warn_at (80 % used) and due_at (100 %).
 */
import { light, type Basis, type Light, type WorkCalendar } from './calendar.ts'
import type { Stage } from './machine.ts'

export interface Limit {
  minutes: number
  basis: Basis
}

export interface Clock {
  stage: Stage | null
  /** Start of the running segment; null when stopped (deferred) or there is no stage. */
  startedAt: Date | null
  /** Minutes used in earlier segments (before a deferral). */
  usedMinutes: number
  limitMinutes: number | null
  basis: Basis | null
  warnAt: Date | null
  dueAt: Date | null
}

export const NO_CLOCK: Clock = { stage: null, startedAt: null, usedMinutes: 0, limitMinutes: null, basis: null, warnAt: null, dueAt: null }

/** warn_at and due_at of a running clock. */
function marks(startedAt: Date, used: number, limit: number, basis: Basis, cal: WorkCalendar): { warnAt: Date; dueAt: Date } {
  const at = (fraction: number): Date => {
    const left = fraction * limit - used
    return left > 0 ? cal.add(startedAt, left, basis) : startedAt
  }
  return { warnAt: at(0.8), dueAt: at(1) }
}

/** A fresh clock for `stage` starting at `at`. */
export function startClock(stage: Stage, limit: Limit, at: Date, cal: WorkCalendar): Clock {
  return { stage, startedAt: at, usedMinutes: 0, limitMinutes: limit.minutes, basis: limit.basis, ...marks(at, 0, limit.minutes, limit.basis, cal) }
}

/** Minutes of the limit used by `now`. */
export function used(c: Clock, now: Date, cal: WorkCalendar): number {
  if (!c.basis) return 0
  return c.usedMinutes + (c.startedAt ? cal.between(c.startedAt, now, c.basis) : 0)
}

/** True when the stage ending at `at` ended within its limit. */
export function onTime(c: Clock, at: Date, cal: WorkCalendar): boolean {
  if (c.limitMinutes === null) return true
  // Half a second of slack: instants are whole milliseconds, minutes are not.
  return used(c, at, cal) <= c.limitMinutes + 1 / 120
}

/** Stops the clock (挂账), keeping what was used. */
export function pause(c: Clock, at: Date, cal: WorkCalendar): Clock {
  return { ...c, startedAt: null, usedMinutes: used(c, at, cal), warnAt: null, dueAt: null }
}

/** Starts a stopped clock again from `at`. */
export function resume(c: Clock, at: Date, cal: WorkCalendar): Clock {
  if (!c.basis || c.limitMinutes === null) return c
  return { ...c, startedAt: at, ...marks(at, c.usedMinutes, c.limitMinutes, c.basis, cal) }
}

/** Grows the limit by `minutes` (延期). */
export function extend(c: Clock, minutes: number, cal: WorkCalendar): Clock {
  if (!c.basis || c.limitMinutes === null) return c
  const limitMinutes = c.limitMinutes + minutes
  return { ...c, limitMinutes, ...(c.startedAt ? marks(c.startedAt, c.usedMinutes, limitMinutes, c.basis, cal) : {}) }
}

export interface ClockView {
  stage: Stage
  basis: Basis
  limit_minutes: number
  used_minutes: number
  used_fraction: number
  running: boolean
  due_at: string | null
  light: Light
}

/** What a client sees of a clock at `now`: time used, deadline and colour. */
export function view(c: Clock, now: Date, cal: WorkCalendar): ClockView | null {
  if (!c.stage || !c.basis || c.limitMinutes === null) return null
  const u = used(c, now, cal)
  const fraction = u / c.limitMinutes
  return {
    stage: c.stage,
    basis: c.basis,
    limit_minutes: c.limitMinutes,
    used_minutes: Math.round(u * 10) / 10,
    used_fraction: Math.round(fraction * 1000) / 1000,
    running: c.startedAt !== null,
    due_at: c.dueAt ? c.dueAt.toISOString() : null,
    light: light(fraction),
  }
}
