/** Schemas shared by the case routes: a case as clients see it, its events and reports. */
import { Type, type TSchema } from 'typebox'
import { ACTIONS, STAGES, STATUSES } from '../cases/machine.ts'
import { CHANNELS, ROLES } from '../cases/roles.ts'
import { ErrorSchema } from '../schemas.ts'

/** A string that is one of `values` (JSON Schema enum), typed as their union. */
export const literals = <const T extends string>(values: readonly T[], opts: Record<string, unknown> = {}) =>
  Type.Enum([...values], opts)

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const Time = Type.String({ format: 'date-time' })

export const StatusSchema = literals(STATUSES, { description: 'reported 已上报, accepted 已立案, voided 已作废, dispatched 已派遣, in_progress 处置中, handled 已反馈, verified 已核查, closed 已结案, deferred 已挂账' })
export const ActionSchema = literals(ACTIONS)
export const ChannelSchema = literals(CHANNELS)
export const RoleSchema = literals(ROLES)
export const StageSchema = literals(STAGES)
export const Uscc = Type.String({ pattern: '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$', description: '18-character unified social credit code' })
export const PhotoId = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the photo (POST /api/photos)' })
export const MatterCode = Type.String({ maxLength: 32, description: 'matter code: 11 digits (district 6 + major 2 + sub 3) or finer (14, 17 …)' })

const StageView = Type.Object({ due_at: Nullable(Time), done_at: Nullable(Time), on_time: Nullable(Type.Boolean()) })

export const CaseSchema = Type.Object({
  id: Type.Integer(),
  matter: Type.Object({ code: Type.String(), name: Type.String(), standard_code: Type.String() }),
  status: StatusSchema,
  status_name: Type.String(),
  channel: Type.String(),
  description: Type.String(),
  address: Nullable(Type.String()),
  location: Type.Object({
    lon: Type.Number(), lat: Type.Number(), cell: Type.String(),
    community: Type.Object({ code: Type.String(), name: Nullable(Type.String()) }),
    subdistrict: Type.Object({ code: Type.String(), name: Nullable(Type.String()) }),
    district: Type.String(), grid_version: Nullable(Type.Integer()),
  }, { description: 'WGS84 point, its cell, community and subdistrict' }),
  facility: Nullable(Type.Object({
    id: Type.String(), owner: Nullable(Type.String()), owner_name: Nullable(Type.String()), maintainer: Nullable(Type.String()), distance_m: Nullable(Type.Number()),
  }, { description: 'the component whose anomaly it is (权属单位 owner, 养护单位 maintainer)' })),
  lead_unit: Nullable(Type.Object({ org: Type.String(), name: Nullable(Type.String()) })),
  units: Type.Array(Type.Object({
    org: Type.String(), name: Type.String(), role: literals(['lead', 'assist'] as const), state: Type.String(),
    rule_id: Nullable(Type.Integer()), rule_name: Nullable(Type.String()), assigned_at: Time,
  }), { description: 'units routed (planned) and dispatched (active), with the rule that chose each; rule_id null: chosen by a dispatcher' }),
  reporter_id: Nullable(Type.Integer()),
  report_count: Type.Integer(),
  rework_count: Type.Integer(),
  return_count: Type.Integer(),
  defer_count: Type.Integer(),
  extension_minutes: Type.Integer(),
  pending_extension: Nullable(Type.Object({ minutes: Type.Integer(), reason: Nullable(Type.String()), requested_at: Nullable(Time) })),
  reported_at: Time,
  updated_at: Time,
  stages: Type.Object({ accept: StageView, dispatch: StageView, handle: StageView, verify: StageView, close: StageView }),
  clock: Nullable(Type.Object({
    stage: StageSchema, basis: literals(['working', 'natural'] as const), limit_minutes: Type.Integer(), used_minutes: Type.Number(),
    used_fraction: Type.Number(), running: Type.Boolean(), due_at: Nullable(Time), light: literals(['green', 'yellow', 'red'] as const),
  }, { description: 'the current stage: time used (working or natural minutes), deadline and light (green < 80 %, yellow 80–100 %, red over)' })),
  overdue: Type.Boolean(),
  closed_on_time: Nullable(Type.Boolean()),
  actions: Type.Array(ActionSchema, { description: 'actions the caller\'s role may take from this status' }),
})

export const EventSchema = Type.Object({
  seq: Type.Integer(), at: Time, action: Type.String(), action_name: Type.String(),
  from_status: Nullable(Type.String()), to_status: Nullable(Type.String()),
  actor: Type.Object({ id: Nullable(Type.Integer()), name: Nullable(Type.String()), role: Type.String(), org: Nullable(Type.String()), org_name: Nullable(Type.String()) }),
  note: Nullable(Type.String()), photos: Type.Array(Type.String()), data: Nullable(Type.Record(Type.String(), Type.Unknown())),
})

export const ReportSchema = Type.Object({
  id: Type.Integer(), created_case: Type.Boolean(), channel: Type.String(), reporter_id: Nullable(Type.Integer()), reporter_name: Nullable(Type.String()),
  contact: Nullable(Type.Object({ name: Nullable(Type.String()), phone: Nullable(Type.String()), email: Nullable(Type.String()) })),
  description: Nullable(Type.String()), address: Nullable(Type.String()), lon: Type.Number(), lat: Type.Number(), input_crs: Type.String(),
  photos: Type.Array(Type.String()), distance_m: Nullable(Type.Number()), reported_at: Time,
})

export const authErrors = { 401: ErrorSchema, 403: ErrorSchema }
