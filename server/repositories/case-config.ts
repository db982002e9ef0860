/**
 * The configuration of the loop: matter taxonomy, time limits, dispatch rules,
 * work calendar and settings. Every write bumps case_settings.revision in the
 * same transaction, so a server can tell its snapshot is stale.
 */
import type { Queryable } from '../db/types.ts'
import type { ConfigRows, LimitRow, OrgInfo, CaseSettings } from '../cases/config.ts'
import type { DispatchRule, RuleTarget, UnitRole } from '../cases/dispatch.ts'
import type { MatterType } from '../cases/matters.ts'
import type { Basis, Periods } from '../cases/calendar.ts'
import type { Stage } from '../cases/machine.ts'

interface MatterRow {
  code: string; parent_code: string | null; level: number; name: string; district_code: string; major: string
  component_subclass: string | null; duplicate_radius_m: number | null; facility_tolerance_m: number | null
  active: boolean; description: string | null; keywords: string | null
}

interface RuleRow {
  id: number; name: string; priority: number; role: UnitRole; matter_prefixes: string[]; subdistricts: string[]
  channels: string[]; target: RuleTarget; org: string | null; active: boolean; note: string | null
}

const toMatter = (r: MatterRow): MatterType => ({
  code: r.code, parentCode: r.parent_code, level: r.level, name: r.name, districtCode: r.district_code, major: r.major,
  componentSubclass: r.component_subclass, duplicateRadiusM: r.duplicate_radius_m, facilityToleranceM: r.facility_tolerance_m,
  active: r.active, description: r.description, keywords: r.keywords,
})

const toRule = (r: RuleRow): DispatchRule & { note: string | null } => ({
  id: r.id, name: r.name, priority: r.priority, role: r.role, matterPrefixes: r.matter_prefixes, subdistricts: r.subdistricts,
  channels: r.channels, target: r.target, org: r.org, active: r.active, note: r.note,
})

export type RuleInput = Omit<DispatchRule, 'id'> & { note: string | null }

export interface SettingsPatch {
  duplicateRadiusM?: number
  duplicateWindowHours?: number
  facilityToleranceM?: number
  autoDispatch?: boolean
  autoAcceptChannels?: string[]
  publishResultPhotos?: boolean
}

export class CaseConfigRepository {
  constructor(private readonly db: Queryable) {}

  /** Everything a CaseConfig is built from. */
  async load(): Promise<ConfigRows> {
    const db = this.db
    const s = (await db.query<{ utc_offset_minutes: number; duplicate_radius_m: number; duplicate_window_hours: number; facility_tolerance_m: number; auto_dispatch: boolean; auto_accept_channels: string[]; publish_result_photos: boolean; revision: string }>(
      'SELECT * FROM case_settings')).rows[0]
    const settings: CaseSettings = {
      utcOffsetMinutes: s.utc_offset_minutes, duplicateRadiusM: s.duplicate_radius_m, duplicateWindowHours: s.duplicate_window_hours,
      facilityToleranceM: s.facility_tolerance_m, autoDispatch: s.auto_dispatch, autoAcceptChannels: s.auto_accept_channels,
      publishResultPhotos: s.publish_result_photos, revision: Number(s.revision),
    }
    const matters = (await db.query<MatterRow>('SELECT * FROM matter_types ORDER BY code')).rows.map(toMatter)
    const limits = (await db.query<{ matter_code: string | null; stage: Stage; minutes: number; basis: Basis }>('SELECT matter_code, stage, minutes, basis FROM time_limits')).rows
      .map((r): LimitRow => ({ matterCode: r.matter_code, stage: r.stage, minutes: r.minutes, basis: r.basis }))
    const rules = await this.rules()
    const hours = (await db.query<{ weekday: number; start_minute: number; end_minute: number }>('SELECT weekday, start_minute, end_minute FROM work_hours ORDER BY weekday, start_minute')).rows
    const week: [number, number][][] = [[], [], [], [], [], [], []]
    for (const h of hours) week[h.weekday].push([h.start_minute, h.end_minute])
    const days = new Map((await db.query<{ day: string; working: boolean }>("SELECT to_char(day, 'YYYY-MM-DD') AS day, working FROM calendar_days")).rows.map((r) => [r.day, r.working]))
    const orgs = (await db.query<{ uscc: string; name: string; kind: string; subdistrict_code: string | null }>('SELECT uscc, name, kind, subdistrict_code FROM organisations')).rows
      .map((o): OrgInfo => ({ uscc: o.uscc, name: o.name, kind: o.kind, subdistrictCode: o.subdistrict_code }))
    const commandCentres = new Map((await db.query<{ code: string; command_centre: string }>('SELECT code, command_centre FROM subdistricts WHERE command_centre IS NOT NULL')).rows.map((r) => [r.code, r.command_centre]))
    return { settings, matters, limits, rules, week, days, orgs, commandCentres }
  }

  async revision(): Promise<number> {
    return Number((await this.db.query<{ revision: string }>('SELECT revision FROM case_settings')).rows[0].revision)
  }

  async bump(): Promise<void> {
    await this.db.query('UPDATE case_settings SET revision = revision + 1')
  }

  async matterCount(): Promise<number> {
    return (await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM matter_types')).rows[0].n
  }

  async getMatter(code: string): Promise<MatterType | null> {
    const r = (await this.db.query<MatterRow>('SELECT * FROM matter_types WHERE code = $1', [code])).rows[0]
    return r ? toMatter(r) : null
  }

  /** Inserts matter types (parents before children). */
  async insertMatters(list: readonly MatterType[]): Promise<void> {
    const col = <K extends keyof MatterType>(k: K): MatterType[K][] => list.map((m) => m[k])
    await this.db.query(`INSERT INTO matter_types (code, parent_code, level, name, district_code, major, component_subclass,
        duplicate_radius_m, facility_tolerance_m, active, description, keywords)
      SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::real[], $9::real[], $10::boolean[], $11::text[], $12::text[]) ORDER BY 3, 1`,
    [col('code'), col('parentCode'), col('level'), col('name'), col('districtCode'), col('major'), col('componentSubclass'),
      col('duplicateRadiusM'), col('facilityToleranceM'), col('active'), col('description'), col('keywords')])
  }

  /** Changes the editable fields of a matter type; false when there is none. */
  async updateMatter(code: string, m: Pick<MatterType, 'name' | 'active' | 'duplicateRadiusM' | 'facilityToleranceM' | 'description' | 'keywords'>): Promise<boolean> {
    return (await this.db.query(`UPDATE matter_types SET name = $2, active = $3, duplicate_radius_m = $4, facility_tolerance_m = $5,
      description = $6, keywords = $7 WHERE code = $1`, [code, m.name, m.active, m.duplicateRadiusM, m.facilityToleranceM, m.description, m.keywords])).affectedRows > 0
  }

  async limits(): Promise<(LimitRow & { note: string | null })[]> {
    return (await this.db.query<{ matter_code: string | null; stage: Stage; minutes: number; basis: Basis; note: string | null }>(
      'SELECT matter_code, stage, minutes, basis, note FROM time_limits ORDER BY matter_code NULLS FIRST, stage')).rows
      .map((r) => ({ matterCode: r.matter_code, stage: r.stage, minutes: r.minutes, basis: r.basis, note: r.note }))
  }

  async insertLimits(list: readonly (LimitRow & { note?: string | null })[]): Promise<void> {
    await this.db.query(`INSERT INTO time_limits (matter_code, stage, minutes, basis, note)
      SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[])`,
    [list.map((l) => l.matterCode), list.map((l) => l.stage), list.map((l) => l.minutes), list.map((l) => l.basis), list.map((l) => l.note ?? null)])
  }

  /** Sets (inserts or replaces) one limit. */
  async setLimit(l: LimitRow & { note: string | null }): Promise<void> {
    await this.db.query('DELETE FROM time_limits WHERE coalesce(matter_code, \'\') = coalesce($1, \'\') AND stage = $2', [l.matterCode, l.stage])
    await this.insertLimits([l])
  }

  async deleteLimit(matterCode: string | null, stage: Stage): Promise<boolean> {
    return (await this.db.query('DELETE FROM time_limits WHERE coalesce(matter_code, \'\') = coalesce($1, \'\') AND stage = $2', [matterCode, stage])).affectedRows > 0
  }

  async rules(): Promise<(DispatchRule & { note: string | null })[]> {
    return (await this.db.query<RuleRow>('SELECT * FROM dispatch_rules ORDER BY priority, id')).rows.map(toRule)
  }

  async rule(id: number): Promise<(DispatchRule & { note: string | null }) | null> {
    const r = (await this.db.query<RuleRow>('SELECT * FROM dispatch_rules WHERE id = $1', [id])).rows[0]
    return r ? toRule(r) : null
  }

  async insertRule(r: RuleInput): Promise<number> {
    return (await this.db.query<{ id: number }>(`INSERT INTO dispatch_rules (name, priority, role, matter_prefixes, subdistricts, channels, target, org, active, note)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
    [r.name, r.priority, r.role, r.matterPrefixes, r.subdistricts, r.channels, r.target, r.org, r.active, r.note])).rows[0].id
  }

  async updateRule(id: number, r: RuleInput): Promise<boolean> {
    return (await this.db.query(`UPDATE dispatch_rules SET name = $2, priority = $3, role = $4, matter_prefixes = $5, subdistricts = $6,
      channels = $7, target = $8, org = $9, active = $10, note = $11, updated_at = now() WHERE id = $1`,
    [id, r.name, r.priority, r.role, r.matterPrefixes, r.subdistricts, r.channels, r.target, r.org, r.active, r.note])).affectedRows > 0
  }

  async deleteRule(id: number): Promise<boolean> {
    return (await this.db.query('DELETE FROM dispatch_rules WHERE id = $1', [id])).affectedRows > 0
  }

  /** Which of these credit codes are not organisations. */
  async unknownOrgs(codes: readonly string[]): Promise<string[]> {
    if (!codes.length) return []
    const found = new Set((await this.db.query<{ uscc: string }>('SELECT uscc FROM organisations WHERE uscc = ANY($1::text[])', [codes])).rows.map((r) => r.uscc))
    return codes.filter((c) => !found.has(c))
  }

  async calendarDays(from: string | null, to: string | null): Promise<{ day: string; working: boolean; name: string | null }[]> {
    return (await this.db.query<{ day: string; working: boolean; name: string | null }>(`SELECT to_char(day, 'YYYY-MM-DD') AS day, working, name
      FROM calendar_days WHERE ($1::date IS NULL OR day >= $1) AND ($2::date IS NULL OR day <= $2) ORDER BY day`, [from, to])).rows
  }

  async insertDays(list: readonly { day: string; working: boolean; name: string | null }[]): Promise<void> {
    await this.db.query(`INSERT INTO calendar_days (day, working, name) SELECT * FROM unnest($1::date[], $2::boolean[], $3::text[])
      ON CONFLICT (day) DO UPDATE SET working = EXCLUDED.working, name = EXCLUDED.name`,
    [list.map((d) => d.day), list.map((d) => d.working), list.map((d) => d.name)])
  }

  async deleteDay(day: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM calendar_days WHERE day = $1', [day])).affectedRows > 0
  }

  async setWeek(week: readonly Periods[]): Promise<void> {
    await this.db.query('DELETE FROM work_hours')
    const rows = week.flatMap((p, d) => p.map(([s, e]) => [d, s, e] as const))
    await this.db.query(`INSERT INTO work_hours (weekday, start_minute, end_minute) SELECT * FROM unnest($1::smallint[], $2::smallint[], $3::smallint[])`,
      [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])])
  }

  async updateSettings(p: SettingsPatch): Promise<void> {
    await this.db.query(`UPDATE case_settings SET
      duplicate_radius_m = coalesce($1, duplicate_radius_m), duplicate_window_hours = coalesce($2, duplicate_window_hours),
      facility_tolerance_m = coalesce($3, facility_tolerance_m), auto_dispatch = coalesce($4, auto_dispatch),
      auto_accept_channels = coalesce($5, auto_accept_channels), publish_result_photos = coalesce($6, publish_result_photos)`,
    [p.duplicateRadiusM ?? null, p.duplicateWindowHours ?? null, p.facilityToleranceM ?? null, p.autoDispatch ?? null, p.autoAcceptChannels ?? null, p.publishResultPhotos ?? null])
  }
}
