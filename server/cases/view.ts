/**
 * A case as clients see it: its place and units by name, each stage's due and
 * done times, and the running clock with time used, deadline and colour.
 */
import { view as clockView, type Clock, type ClockView } from './clock.ts'
import type { CaseConfig } from './config.ts'
import { STAGES, STATUS_NAMES, allowedFor, type Action, type Stage, type Status } from './machine.ts'
import { standardCode } from './matters.ts'
import type { Actor } from './roles.ts'
import type { CaseRow } from '../repositories/case-queries.ts'
import type { Basis } from './calendar.ts'

export interface StageView {
  due_at: string | null
  done_at: string | null
  on_time: boolean | null
}

export interface CaseView {
  id: number
  matter: { code: string; name: string; standard_code: string }
  status: Status
  status_name: string
  channel: string
  description: string
  address: string | null
  location: {
    lon: number; lat: number; cell: string
    community: { code: string; name: string | null }
    subdistrict: { code: string; name: string | null }
    district: string; grid_version: number | null
  }
  facility: { id: string; owner: string | null; owner_name: string | null; maintainer: string | null; distance_m: number | null } | null
  lead_unit: { org: string; name: string | null } | null
  units: { org: string; name: string; role: 'lead' | 'assist'; state: string; rule_id: number | null; rule_name: string | null; assigned_at: string }[]
  reporter_id: number | null
  report_count: number
  rework_count: number
  return_count: number
  defer_count: number
  extension_minutes: number
  pending_extension: { minutes: number; reason: string | null; requested_at: string | null } | null
  reported_at: string
  updated_at: string
  stages: Record<Stage, StageView>
  clock: ClockView | null
  overdue: boolean
  closed_on_time: boolean | null
  /** What the caller may do next (by role and status; unit and reporter rules still apply). */
  actions: Action[]
}

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null)

export function clockOf(r: CaseRow): Clock {
  return {
    stage: r.stage as Stage | null,
    startedAt: r.clock_started_at ? new Date(r.clock_started_at) : null,
    usedMinutes: Number(r.clock_used_minutes),
    limitMinutes: r.clock_limit_minutes,
    basis: r.clock_basis as Basis | null,
    warnAt: r.warn_at ? new Date(r.warn_at) : null,
    dueAt: r.due_at ? new Date(r.due_at) : null,
  }
}

export function caseView(r: CaseRow, now: Date, config: CaseConfig, actor: Actor | null): CaseView {
  const status = r.status as Status
  const stages = {} as Record<Stage, StageView>
  const done: Record<Stage, Date | null> = { accept: r.accepted_at ?? r.voided_at, dispatch: r.dispatched_at, handle: r.handled_at, verify: r.verified_at, close: r.closed_at }
  const due: Record<Stage, Date | null> = { accept: r.accept_due_at, dispatch: r.dispatch_due_at, handle: r.handle_due_at, verify: r.verify_due_at, close: r.close_due_at }
  const onTime: Record<Stage, boolean | null> = { accept: r.accept_on_time, dispatch: r.dispatch_on_time, handle: r.handle_on_time, verify: r.verify_on_time, close: r.close_on_time }
  for (const s of STAGES) stages[s] = { due_at: iso(due[s]), done_at: iso(done[s]), on_time: onTime[s] }
  const open = status !== 'closed' && status !== 'voided'
  const clock = open ? clockView(clockOf(r), now, config.calendar) : null
  return {
    id: r.id,
    matter: { code: r.matter_code, name: r.matter_name, standard_code: standardCode(r.matter_code) },
    status,
    status_name: STATUS_NAMES[status],
    channel: r.channel,
    description: r.description,
    address: r.address,
    location: {
      lon: r.lon, lat: r.lat, cell: r.cell_code,
      community: { code: r.community_code, name: r.community_name },
      subdistrict: { code: r.subdistrict_code, name: r.subdistrict_name },
      district: r.district_code, grid_version: r.grid_version,
    },
    facility: r.facility_id ? {
      id: r.facility_id, owner: r.facility_owner, owner_name: r.facility_owner_name, maintainer: r.facility_maintainer,
      distance_m: r.facility_distance_m === null ? null : Math.round(r.facility_distance_m * 10) / 10,
    } : null,
    lead_unit: r.lead_unit ? { org: r.lead_unit, name: r.lead_unit_name } : null,
    units: r.units.map((u) => ({ org: u.org, name: u.name, role: u.role, state: u.state, rule_id: u.rule_id, rule_name: u.rule_name, assigned_at: new Date(u.assigned_at).toISOString() })),
    reporter_id: r.reporter_id,
    report_count: r.report_count,
    rework_count: r.rework_count,
    return_count: r.return_count,
    defer_count: r.defer_count,
    extension_minutes: r.extension_minutes,
    pending_extension: r.pending_extension_minutes === null ? null
      : { minutes: r.pending_extension_minutes, reason: r.pending_extension_reason, requested_at: iso(r.pending_extension_at) },
    reported_at: new Date(r.reported_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
    stages,
    clock,
    overdue: clock !== null && clock.light === 'red',
    closed_on_time: status === 'closed' ? STAGES.every((s) => onTime[s] !== false) : null,
    actions: actor && actor.role !== 'system' ? allowedFor(status, actor.role) : [],
  }
}
