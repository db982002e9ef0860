/**
 * Everything the loop is configured with, read from the database into one
 * immutable snapshot: the matter taxonomy, time limits, dispatch rules, the
 * work calendar, settings and the units of each subdistrict. The cases plugin
 * swaps in a new one after each change, so a request sees one whole state.
 */
import { WorkCalendar, type Basis, type Periods } from './calendar.ts'
import { ordered, type DispatchRule } from './dispatch.ts'
import type { Limit } from './clock.ts'
import type { Stage } from './machine.ts'
import type { MatterType } from './matters.ts'

export interface CaseSettings {
  utcOffsetMinutes: number
  duplicateRadiusM: number
  duplicateWindowHours: number
  facilityToleranceM: number
  autoDispatch: boolean
  autoAcceptChannels: string[]
  /** Residents see the photos of the repair and its verification of the cases they reported (migration 011). */
  publishResultPhotos: boolean
  revision: number
}

export interface LimitRow {
  matterCode: string | null
  stage: Stage
  minutes: number
  basis: Basis
}

export interface OrgInfo {
  uscc: string
  name: string
  kind: string
  subdistrictCode: string | null
}

export interface ConfigRows {
  settings: CaseSettings
  matters: MatterType[]
  limits: LimitRow[]
  rules: DispatchRule[]
  week: Periods[]
  days: Map<string, boolean>
  orgs: OrgInfo[]
  /** Subdistrict code → its command centre. */
  commandCentres: Map<string, string>
}

/** Used when neither the matter, its ancestors nor the defaults have a limit for a stage. */
const FALLBACK: Limit = { minutes: 7 * 60, basis: 'working' }

export class CaseConfig {
  readonly settings: CaseSettings
  readonly calendar: WorkCalendar
  readonly rules: readonly DispatchRule[]
  private readonly matters: Map<string, MatterType>
  private readonly children = new Map<string, MatterType[]>()
  private readonly limits = new Map<string, Limit>()
  private readonly orgs: Map<string, OrgInfo>
  private readonly offices = new Map<string, string>()
  private readonly commandCentres: Map<string, string>

  constructor(rows: ConfigRows) {
    this.settings = rows.settings
    this.calendar = new WorkCalendar({ utcOffsetMinutes: rows.settings.utcOffsetMinutes, week: rows.week, days: rows.days })
    this.rules = ordered(rows.rules)
    this.matters = new Map(rows.matters.map((m) => [m.code, m]))
    for (const m of rows.matters) {
      if (!m.parentCode) continue
      const list = this.children.get(m.parentCode) ?? []
      list.push(m)
      this.children.set(m.parentCode, list)
    }
    for (const l of rows.limits) this.limits.set(`${l.matterCode ?? ''}:${l.stage}`, { minutes: l.minutes, basis: l.basis })
    this.orgs = new Map(rows.orgs.map((o) => [o.uscc, o]))
    for (const o of rows.orgs) if (o.kind === 'subdistrict_office' && o.subdistrictCode) this.offices.set(o.subdistrictCode, o.uscc)
    this.commandCentres = rows.commandCentres
  }

  matter(code: string): MatterType | undefined {
    return this.matters.get(code)
  }

  /** Every matter type, by code. */
  allMatters(): MatterType[] {
    return [...this.matters.values()].sort((a, b) => (a.code < b.code ? -1 : 1))
  }

  childrenOf(code: string): MatterType[] {
    return this.children.get(code) ?? []
  }

  /** The limit of a stage for a matter: its own, else its nearest ancestor's, else the default. */
  limit(matterCode: string, stage: Stage): Limit {
    for (let m = this.matters.get(matterCode); m; m = m.parentCode ? this.matters.get(m.parentCode) : undefined) {
      const own = this.limits.get(`${m.code}:${stage}`)
      if (own) return own
    }
    return this.limits.get(`:${stage}`) ?? FALLBACK
  }

  /** A setting of the matter or its ancestors, else the district default. */
  private inherited(code: string, pick: (m: MatterType) => number | null, fallback: number): number {
    for (let m = this.matters.get(code); m; m = m.parentCode ? this.matters.get(m.parentCode) : undefined) {
      const v = pick(m)
      if (v !== null) return v
    }
    return fallback
  }

  duplicateRadiusM(code: string): number {
    return this.inherited(code, (m) => m.duplicateRadiusM, this.settings.duplicateRadiusM)
  }

  facilityToleranceM(code: string): number {
    return this.inherited(code, (m) => m.facilityToleranceM, this.settings.facilityToleranceM)
  }

  org(uscc: string | null): OrgInfo | null {
    return uscc ? this.orgs.get(uscc) ?? null : null
  }

  orgName(uscc: string | null): string | null {
    return this.org(uscc)?.name ?? null
  }

  commandCentreOf(subdistrict: string): string | null {
    return this.commandCentres.get(subdistrict) ?? null
  }

  officeOf(subdistrict: string): string | null {
    return this.offices.get(subdistrict) ?? null
  }
}
