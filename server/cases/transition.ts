/**
 * What an action does to a case, computed without the database: the columns
 * that change, the events to append and what happens to the units it went
 * to. The service checks the request (machine.ts `check`) first, then applies
 * this, then writes the result in one transaction.
 */
import * as clock from './clock.ts'
import type { Clock } from './clock.ts'
import type { CaseConfig } from './config.ts'
import { STAGE_OF, nextStatus, type Action, type Stage, type Status } from './machine.ts'
import type { Actor } from './roles.ts'
import type { UnitRole } from './dispatch.ts'

/** A unit a case goes to; ruleId null when a dispatcher chose it by hand. */
export interface UnitChoice {
  org: string
  role: UnitRole
  ruleId: number | null
  ruleName: string | null
}

/** The part of a case an action reads. */
export interface CaseState {
  id: number
  status: Status
  resumeStatus: Status | null
  matterCode: string
  leadUnit: string | null
  clock: Clock
  pendingExtensionMinutes: number | null
  onTime: Record<Stage, boolean | null>
  dispatchedAt: Date | null
  startedAt: Date | null
  /** Units routed at intake and not yet dispatched. */
  planned: UnitChoice[]
}

export interface ActionInput {
  note?: string | null
  photos?: readonly string[]
  /** dispatch: the units, overriding the routing. */
  units?: readonly UnitChoice[]
  /** request_extension / grant_extension: minutes asked or granted. */
  minutes?: number
}

export interface EventDraft {
  at: Date
  action: Action | 'report' | 'link_report'
  from: Status | null
  to: Status | null
  actor: Actor
  note: string | null
  photos: readonly string[]
  data: Record<string, unknown> | null
}

export type AssignmentOp =
  /** Dispatch: these units become active; what was planned or active before is cancelled. */
  | { op: 'dispatch'; units: UnitChoice[] }
  /** End the active units (returned, done) and cancel what is planned. */
  | { op: 'end'; state: 'returned' | 'done' | 'cancelled' }

/** Columns an action may set (the repository writes only these). */
export interface CasePatch {
  status?: Status
  resume_status?: Status | null
  lead_unit?: string | null
  updated_at?: Date
  accepted_at?: Date
  voided_at?: Date
  dispatched_at?: Date
  started_at?: Date
  handled_at?: Date
  verified_at?: Date | null
  closed_at?: Date | null
  accept_due_at?: Date | null
  dispatch_due_at?: Date | null
  handle_due_at?: Date | null
  verify_due_at?: Date | null
  close_due_at?: Date | null
  accept_on_time?: boolean
  dispatch_on_time?: boolean
  handle_on_time?: boolean
  verify_on_time?: boolean
  close_on_time?: boolean
  rework_count_add?: number
  return_count_add?: number
  defer_count_add?: number
  extension_count_add?: number
  extension_minutes_add?: number
  pending_extension_minutes?: number | null
  pending_extension_reason?: string | null
  pending_extension_at?: Date | null
  stage?: Stage | null
  clock_started_at?: Date | null
  clock_used_minutes?: number
  clock_limit_minutes?: number | null
  clock_basis?: 'working' | 'natural' | null
  warn_at?: Date | null
  due_at?: Date | null
}

export interface Effect {
  patch: CasePatch
  events: EventDraft[]
  assignments: AssignmentOp[]
  /** The case after the action, for chaining (立案 then automatic dispatch). */
  next: CaseState
}

export const DUE_COLUMN = {
  accept: 'accept_due_at', dispatch: 'dispatch_due_at', handle: 'handle_due_at', verify: 'verify_due_at', close: 'close_due_at',
} as const satisfies Record<Stage, keyof CasePatch>

export const ON_TIME_COLUMN = {
  accept: 'accept_on_time', dispatch: 'dispatch_on_time', handle: 'handle_on_time', verify: 'verify_on_time', close: 'close_on_time',
} as const satisfies Record<Stage, keyof CasePatch>

export function clockPatch(c: Clock): CasePatch {
  const p: CasePatch = {
    stage: c.stage, clock_started_at: c.startedAt, clock_used_minutes: c.usedMinutes,
    clock_limit_minutes: c.limitMinutes, clock_basis: c.basis, warn_at: c.warnAt, due_at: c.dueAt,
  }
  if (c.stage && c.dueAt) p[DUE_COLUMN[c.stage]] = c.dueAt
  return p
}

/**
 * Applies a checked action at `now`.
 * @example applyAction(reported, 'accept', {}, { now, actor: operator, config }).next.status // 'accepted'
 */
export function applyAction(s: CaseState, action: Action, input: ActionInput, ctx: { now: Date; actor: Actor; config: CaseConfig }): Effect {
  const { now, actor, config } = ctx
  const cal = config.calendar
  const to = nextStatus(action, s.status, s.resumeStatus)
  const patch: CasePatch = { updated_at: now }
  const assignments: AssignmentOp[] = []
  const data: Record<string, unknown> = {}
  const next: CaseState = { ...s, status: to, onTime: { ...s.onTime } }
  let c = s.clock

  /** Ends the running stage: records whether it was in time (every attempt must be). */
  const endStage = (): void => {
    if (!c.stage) return
    const ok = clock.onTime(c, now, cal)
    const col = ON_TIME_COLUMN[c.stage]
    const v = (s.onTime[c.stage] ?? true) && ok
    patch[col] = v
    next.onTime[c.stage] = v
    data.stage_ended = { stage: c.stage, on_time: ok }
  }
  const startStage = (stage: Stage): void => {
    c = clock.startClock(stage, config.limit(s.matterCode, stage), now, cal)
  }

  switch (action) {
    case 'accept':
      endStage()
      patch.accepted_at = now
      startStage('dispatch')
      break
    case 'void':
      endStage()
      patch.voided_at = now
      c = clock.NO_CLOCK
      assignments.push({ op: 'end', state: 'cancelled' })
      next.planned = []
      break
    case 'dispatch': {
      const units = input.units?.length ? [...input.units] : s.planned
      endStage()
      if (!s.dispatchedAt) { patch.dispatched_at = now; next.dispatchedAt = now }
      const lead = units.find((u) => u.role === 'lead') ?? null
      patch.lead_unit = lead?.org ?? null
      next.leadUnit = lead?.org ?? null
      assignments.push({ op: 'dispatch', units })
      next.planned = []
      data.units = units.map((u) => ({ org: u.org, name: config.orgName(u.org), role: u.role, rule_id: u.ruleId, rule_name: u.ruleName }))
      data.automatic = actor.role === 'system'
      startStage('handle')
      break
    }
    case 'start':
      if (!s.startedAt) { patch.started_at = now; next.startedAt = now }
      break
    case 'return':
      patch.return_count_add = 1
      patch.lead_unit = null
      next.leadUnit = null
      patch.pending_extension_minutes = null
      patch.pending_extension_reason = null
      patch.pending_extension_at = null
      next.pendingExtensionMinutes = null
      assignments.push({ op: 'end', state: 'returned' })
      startStage('dispatch')
      break
    case 'handle':
      endStage()
      patch.handled_at = now
      startStage('verify')
      break
    case 'verify':
      endStage()
      patch.verified_at = now
      startStage('close')
      break
    case 'rework':
      endStage()
      patch.rework_count_add = 1
      // The handler gets the matter's full handling time again.
      startStage('handle')
      break
    case 'close':
      endStage()
      patch.closed_at = now
      c = clock.NO_CLOCK
      assignments.push({ op: 'end', state: 'done' })
      break
    case 'defer':
      patch.resume_status = s.status
      next.resumeStatus = s.status
      patch.defer_count_add = 1
      c = clock.pause(c, now, cal)
      break
    case 'resume':
      patch.resume_status = null
      next.resumeStatus = null
      c = clock.resume(c, now, cal)
      break
    case 'request_extension':
      patch.pending_extension_minutes = input.minutes ?? null
      patch.pending_extension_reason = input.note ?? null
      patch.pending_extension_at = now
      next.pendingExtensionMinutes = input.minutes ?? null
      data.minutes = input.minutes
      break
    case 'grant_extension': {
      const minutes = input.minutes ?? s.pendingExtensionMinutes ?? 0
      patch.extension_count_add = 1
      patch.extension_minutes_add = minutes
      patch.pending_extension_minutes = null
      patch.pending_extension_reason = null
      patch.pending_extension_at = null
      next.pendingExtensionMinutes = null
      c = clock.extend(c, minutes, cal)
      data.minutes = minutes
      break
    }
    case 'deny_extension':
      patch.pending_extension_minutes = null
      patch.pending_extension_reason = null
      patch.pending_extension_at = null
      next.pendingExtensionMinutes = null
      break
    case 'progress':
      break
    case 'reopen':
      // The result is verified again: the verify stage's full time, from now. It is neither
      // verified nor closed until then (the first close stays in the events); whether the
      // stages were on time accumulates, as with rework.
      patch.verified_at = null
      patch.closed_at = null
      patch.close_due_at = null
      startStage('verify')
      break
  }

  if (c !== s.clock) {
    Object.assign(patch, clockPatch(c))
    next.clock = c
    if (c.stage && c.dueAt) data.due_at = c.dueAt.toISOString()
  }
  if (to !== s.status) patch.status = to
  // The stage a status is in and the clock always agree, except while deferred.
  if (to !== 'deferred' && STAGE_OF[to] !== next.clock.stage) {
    throw new Error(`clock in stage ${next.clock.stage} for status ${to} after ${action}`)
  }
  const event: EventDraft = {
    at: now, action, from: s.status, to, actor, note: input.note ?? null, photos: input.photos ?? [],
    data: Object.keys(data).length ? data : null,
  }
  return { patch, events: [event], assignments, next }
}

/** Runs actions one after the other, merging what they do (later columns win). */
export function chain(first: Effect, second: (s: CaseState) => Effect): Effect {
  const e = second(first.next)
  return {
    patch: mergePatch(first.patch, e.patch),
    events: [...first.events, ...e.events],
    assignments: [...first.assignments, ...e.assignments],
    next: e.next,
  }
}

function mergePatch(a: CasePatch, b: CasePatch): CasePatch {
  const out: CasePatch = { ...a, ...b }
  for (const k of ['rework_count_add', 'return_count_add', 'defer_count_add', 'extension_count_add', 'extension_minutes_add'] as const) {
    if (a[k] !== undefined && b[k] !== undefined) out[k] = (a[k] ?? 0) + (b[k] ?? 0)
  }
  return out
}
