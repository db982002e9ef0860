/**
 * The work calendar: working hours per weekday, holidays and make-up working
 * days (调休), in one fixed UTC offset (Beijing has had no daylight saving since
 * 1991). Time limits are counted in it: "5 working hours" from Friday 16:00 ends
 * on Monday at 12:00 when the hours are 9:00–12:00 and 13:30–17:30.
 *
 * Pure and synchronous; everything is in whole milliseconds of UTC, so two
 * computations of the same deadline agree to the millisecond.
 */

const DAY_MS = 86_400_000
const MINUTE_MS = 60_000
/** Searching further than this for working time means the calendar has none. */
const MAX_DAYS = 3660

export type Basis = 'working' | 'natural'

/** Working periods of a day, [start, end) in minutes after local midnight, sorted, not overlapping. */
export type Periods = readonly (readonly [number, number])[]

export interface CalendarData {
  /** Minutes east of UTC: 480 for Beijing. */
  utcOffsetMinutes: number
  /** Periods of each weekday, 0 = Sunday … 6 = Saturday. */
  week: readonly Periods[]
  /** Local dates ('YYYY-MM-DD') that differ from the week: holidays (false) and make-up working days (true). */
  days: ReadonlyMap<string, boolean>
}

/** The 7-hour day of the fixture: 9:00–12:00 and 13:30–17:30. */
export const STANDARD_DAY: Periods = [[540, 720], [810, 1050]]

/** Monday to Friday, STANDARD_DAY. */
export function standardWeek(day: Periods = STANDARD_DAY): Periods[] {
  return [[], day, day, day, day, day, []]
}

function checkPeriods(p: Periods, where: string): void {
  let last = -1
  for (const [s, e] of p) {
    if (!(Number.isInteger(s) && Number.isInteger(e) && s >= 0 && e <= 1440 && s < e && s >= last)) {
      throw new RangeError(`${where}: periods must be sorted, disjoint, whole minutes within a day`)
    }
    last = e
  }
}

export class WorkCalendar {
  private readonly offsetMs: number
  private readonly week: Periods[]
  private readonly days: ReadonlyMap<string, boolean>
  /** Periods used on a working day that is not a working weekday (调休): the first non-empty weekday's. */
  private readonly makeUp: Periods

  constructor(data: CalendarData) {
    if (data.week.length !== 7) throw new RangeError('week must have 7 days, Sunday first')
    data.week.forEach((p, i) => checkPeriods(p, `week[${i}]`))
    this.offsetMs = data.utcOffsetMinutes * MINUTE_MS
    this.week = data.week.map((p) => p.map(([s, e]) => [s, e] as const))
    this.days = data.days
    this.makeUp = this.week.find((p) => p.length > 0) ?? STANDARD_DAY
  }

  /** Local day number (days since 1970-01-01 local) of an instant. */
  private dayOf(ms: number): number {
    return Math.floor((ms + this.offsetMs) / DAY_MS)
  }

  /** 'YYYY-MM-DD' of a local day number. */
  static dateOf(day: number): string {
    return new Date(day * DAY_MS).toISOString().slice(0, 10)
  }

  /** The working periods of a local day, as UTC milliseconds. */
  private periodsOf(day: number): Periods {
    const weekday = (day + 4) % 7 // 1970-01-01 was a Thursday
    const override = this.days.get(WorkCalendar.dateOf(day))
    if (override === false) return []
    if (override === true) return this.week[weekday].length ? this.week[weekday] : this.makeUp
    return this.week[weekday]
  }

  /** True when the local date is a working day. */
  isWorkingDay(date: Date): boolean {
    return this.periodsOf(this.dayOf(date.getTime())).length > 0
  }

  /**
   * The instant `minutes` of working time after `start`.
   * @example cal.addWorking(new Date('2025-03-07T16:00:00+08:00'), 300) // Monday 2025-03-10 12:00 +08:00
   */
  addWorking(start: Date, minutes: number): Date {
    if (!(minutes >= 0)) throw new RangeError('minutes must be ≥ 0')
    let left = minutes * MINUTE_MS
    const t0 = start.getTime()
    let day = this.dayOf(t0)
    for (let i = 0; i < MAX_DAYS; i++, day++) {
      const base = day * DAY_MS - this.offsetMs
      for (const [s, e] of this.periodsOf(day)) {
        const ps = Math.max(base + s * MINUTE_MS, t0)
        const pe = base + e * MINUTE_MS
        if (pe <= ps) continue
        if (left <= pe - ps) {
          // A limit that ends exactly at a period's end is due then, not at the next period's start.
          return new Date(ps + left)
        }
        left -= pe - ps
      }
    }
    throw new RangeError(`the calendar has no working time within ${MAX_DAYS} days`)
  }

  /** Working minutes between two instants (0 when b ≤ a). */
  workingBetween(a: Date, b: Date): number {
    const ta = a.getTime()
    const tb = b.getTime()
    if (tb <= ta) return 0
    let ms = 0
    const last = this.dayOf(tb)
    for (let day = this.dayOf(ta); day <= last; day++) {
      const base = day * DAY_MS - this.offsetMs
      for (const [s, e] of this.periodsOf(day)) {
        const ps = Math.max(base + s * MINUTE_MS, ta)
        const pe = Math.min(base + e * MINUTE_MS, tb)
        if (pe > ps) ms += pe - ps
      }
    }
    return ms / MINUTE_MS
  }

  /** `minutes` after `start`, on the clock or in working time. */
  add(start: Date, minutes: number, basis: Basis): Date {
    return basis === 'natural' ? new Date(start.getTime() + minutes * MINUTE_MS) : this.addWorking(start, minutes)
  }

  /** Minutes between two instants, on the clock or in working time. */
  between(a: Date, b: Date, basis: Basis): number {
    return basis === 'natural' ? Math.max(0, (b.getTime() - a.getTime()) / MINUTE_MS) : this.workingBetween(a, b)
  }

  /** Minutes of working time in one standard working day (what "1 working day" means). */
  get minutesPerWorkingDay(): number {
    return this.makeUp.reduce((n, [s, e]) => n + e - s, 0)
  }
}

export type Light = 'green' | 'yellow' | 'red'

/**
 * The status light of a clock: green under 80 % of the limit used, yellow from
 * 80 % to 100 %, red over.
 * @example light(0.85) // 'yellow'
 */
export function light(usedFraction: number): Light {
  return usedFraction < 0.8 ? 'green' : usedFraction <= 1 ? 'yellow' : 'red'
}
