/**
 * The closed loop as an explicit state machine: which action leads from which
 * status to which, who may take it, and what it must carry.
 *
 *   reported ──accept──▶ accepted ──dispatch──▶ dispatched ──start──▶ in_progress ──handle──▶ handled ──verify──▶ verified ──close──▶ closed
 *      │                    ▲                       │                     │   ▲                  │
 *      └──void──▶ voided    └──────────return───────┴─────────────────────┘   └──────rework──────┘
 *   accepted | dispatched | in_progress ──defer──▶ deferred ──resume──▶ (where it was)
 *   dispatched | in_progress: request_extension → grant_extension | deny_extension (status unchanged)
 *   any open status: progress (a note or on-site measure, status unchanged)
 *   closed ──reopen──▶ handled (复核: the reporter was not satisfied; a supervisor verifies again, or sends it to rework)
 *
 * Pure: the service checks a request against this table before it touches the case.
 */
import type { Role } from './roles.ts'

export const STATUSES = ['reported', 'accepted', 'voided', 'dispatched', 'in_progress', 'handled', 'verified', 'closed', 'deferred'] as const
export type Status = (typeof STATUSES)[number]

export const STATUS_NAMES: Record<Status, string> = {
  reported: '已上报',
  accepted: '已立案',
  voided: '已作废',
  dispatched: '已派遣',
  in_progress: '处置中',
  handled: '已反馈',
  verified: '已核查',
  closed: '已结案',
  deferred: '已挂账',
}

export const OPEN_STATUSES: readonly Status[] = STATUSES.filter((s) => s !== 'closed' && s !== 'voided')

/** The timed stage a status is in; none for terminal and deferred cases. */
export const STAGE_OF: Record<Status, Stage | null> = {
  reported: 'accept',
  accepted: 'dispatch',
  dispatched: 'handle',
  in_progress: 'handle',
  handled: 'verify',
  verified: 'close',
  voided: null,
  closed: null,
  deferred: null,
}

export const STAGES = ['accept', 'dispatch', 'handle', 'verify', 'close'] as const
export type Stage = (typeof STAGES)[number]

export const ACTIONS = [
  'accept', 'void', 'dispatch', 'start', 'return', 'handle', 'verify', 'rework', 'close',
  'defer', 'resume', 'request_extension', 'grant_extension', 'deny_extension', 'progress', 'reopen',
] as const
export type Action = (typeof ACTIONS)[number]

/** Whose organisation must be on the case: the lead unit (主办), any unit it went to, or none. */
export type UnitRule = 'lead' | 'assigned' | null

export interface ActionSpec {
  /** Chinese name, for the event log and clients. */
  name: string
  from: readonly Status[]
  /** The status after; 'same' keeps it, 'resume' goes back to where a deferred case was. */
  to: Status | 'same' | 'resume'
  roles: readonly Role[]
  unit: UnitRule
  note: 'required' | 'optional'
  photos: 'required' | 'optional' | 'none'
  /** The reporter of the case may not take it (监管分离: nobody verifies their own report). */
  notReporter: boolean
}

const OPEN_WORK: readonly Status[] = ['dispatched', 'in_progress']

export const MACHINE: Record<Action, ActionSpec> = {
  accept: { name: '立案', from: ['reported'], to: 'accepted', roles: ['command_centre'], unit: null, note: 'optional', photos: 'none', notReporter: false },
  void: { name: '作废', from: ['reported'], to: 'voided', roles: ['command_centre'], unit: null, note: 'required', photos: 'none', notReporter: false },
  dispatch: { name: '派遣', from: ['accepted'], to: 'dispatched', roles: ['dispatcher'], unit: null, note: 'optional', photos: 'none', notReporter: false },
  start: { name: '签收', from: ['dispatched'], to: 'in_progress', roles: ['handler'], unit: 'lead', note: 'optional', photos: 'none', notReporter: false },
  return: { name: '退回', from: OPEN_WORK, to: 'accepted', roles: ['handler'], unit: 'lead', note: 'required', photos: 'none', notReporter: false },
  handle: { name: '处置反馈', from: ['in_progress'], to: 'handled', roles: ['handler'], unit: 'lead', note: 'optional', photos: 'required', notReporter: false },
  verify: { name: '核查通过', from: ['handled'], to: 'verified', roles: ['supervisor'], unit: null, note: 'optional', photos: 'required', notReporter: true },
  rework: { name: '返工', from: ['handled'], to: 'in_progress', roles: ['supervisor'], unit: null, note: 'required', photos: 'optional', notReporter: true },
  close: { name: '结案', from: ['verified'], to: 'closed', roles: ['command_centre'], unit: null, note: 'optional', photos: 'none', notReporter: false },
  defer: { name: '挂账', from: ['accepted', 'dispatched', 'in_progress'], to: 'deferred', roles: ['command_centre', 'dispatcher'], unit: null, note: 'required', photos: 'none', notReporter: false },
  resume: { name: '恢复', from: ['deferred'], to: 'resume', roles: ['command_centre', 'dispatcher'], unit: null, note: 'optional', photos: 'none', notReporter: false },
  request_extension: { name: '申请延期', from: OPEN_WORK, to: 'same', roles: ['handler'], unit: 'lead', note: 'required', photos: 'optional', notReporter: false },
  grant_extension: { name: '批准延期', from: OPEN_WORK, to: 'same', roles: ['dispatcher'], unit: null, note: 'optional', photos: 'none', notReporter: false },
  deny_extension: { name: '驳回延期', from: OPEN_WORK, to: 'same', roles: ['dispatcher'], unit: null, note: 'required', photos: 'none', notReporter: false },
  // After an unsatisfied rating (case_ratings): back to the handled state, so the result is verified on site again.
  reopen: { name: '复核重办', from: ['closed'], to: 'handled', roles: ['command_centre'], unit: null, note: 'required', photos: 'none', notReporter: false },
  progress: { name: '处置进展', from: OPEN_STATUSES, to: 'same', roles: ['handler', 'supervisor', 'command_centre', 'dispatcher'], unit: 'assigned', note: 'required', photos: 'optional', notReporter: false },
}

/** Actions possible from a status, whoever asks. */
export function allowedFrom(status: Status): Action[] {
  return ACTIONS.filter((a) => MACHINE[a].from.includes(status))
}

/** Actions a role may take from a status (before unit and reporter checks). */
export function allowedFor(status: Status, role: Role): Action[] {
  return allowedFrom(status).filter((a) => MACHINE[a].roles.includes(role))
}

export function isAction(v: unknown): v is Action {
  return typeof v === 'string' && (ACTIONS as readonly string[]).includes(v)
}

/** The status an action leads to from `status` (`resumeStatus`: where a deferred case was). */
export function nextStatus(action: Action, status: Status, resumeStatus: Status | null): Status {
  const to = MACHINE[action].to
  if (to === 'same') return status
  if (to === 'resume') return resumeStatus ?? 'accepted'
  return to
}

/** Why an action is refused, in the order the checks run. */
export type Refusal =
  | { code: 'forbidden_role'; status: 403; message: string }
  | { code: 'illegal_transition'; status: 409; message: string; allowed: Action[] }
  | { code: 'not_your_unit'; status: 403; message: string }
  | { code: 'reporter_cannot_verify'; status: 403; message: string }
  | { code: 'no_pending_extension' | 'extension_pending'; status: 409; message: string; allowed: Action[] }

export interface CheckInput {
  action: Action
  role: Role
  status: Status
  /** The actor's organisation, and the case's lead and assigned units. */
  actorOrg: string | null
  leadUnit: string | null
  assignedUnits: readonly string[]
  actorIsReporter: boolean
  hasPendingExtension: boolean
}

/** The role check alone: it does not depend on the case. */
export function checkRole(action: Action, role: Role): Refusal | null {
  const spec = MACHINE[action]
  if (spec.roles.includes(role)) return null
  return { code: 'forbidden_role', status: 403, message: `a ${role} may not ${action} (${spec.name}); that is for ${spec.roles.join(', ')}` }
}

/** Every check of the table for one request; null when the action may go ahead. */
export function check(i: CheckInput): Refusal | null {
  const spec = MACHINE[i.action]
  const byRole = checkRole(i.action, i.role)
  if (byRole) return byRole
  if (!spec.from.includes(i.status)) {
    return { code: 'illegal_transition', status: 409, message: `cannot ${i.action} (${spec.name}) a case that is ${i.status} (${STATUS_NAMES[i.status]})`, allowed: allowedFrom(i.status) }
  }
  if (i.action === 'request_extension' && i.hasPendingExtension) {
    return { code: 'extension_pending', status: 409, message: 'an extension is already waiting for a decision', allowed: allowedFrom(i.status).filter((a) => a !== 'request_extension') }
  }
  if ((i.action === 'grant_extension' || i.action === 'deny_extension') && !i.hasPendingExtension) {
    return { code: 'no_pending_extension', status: 409, message: 'no extension has been requested', allowed: allowedFrom(i.status).filter((a) => a !== 'grant_extension' && a !== 'deny_extension') }
  }
  // Handlers act for their organisation; the other roles in `progress` act for the centre.
  if (i.role === 'handler') {
    if (spec.unit === 'lead' && (!i.actorOrg || i.actorOrg !== i.leadUnit)) {
      return { code: 'not_your_unit', status: 403, message: `only the lead unit (主办) may ${i.action} (${spec.name})` }
    }
    if (spec.unit === 'assigned' && (!i.actorOrg || !i.assignedUnits.includes(i.actorOrg))) {
      return { code: 'not_your_unit', status: 403, message: 'the case was not dispatched to your organisation' }
    }
  }
  if (spec.notReporter && i.actorIsReporter) {
    return { code: 'reporter_cannot_verify', status: 403, message: 'whoever reported a case may not verify it (监管分离); another supervisor must' }
  }
  return null
}
