/**
 * Cases: intake from every channel, lists and one case with its history, and
 * the steps of the loop (`POST /api/cases/:id/:action`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ErrorSchema, errorResponses, Code9, Code12, Code15 } from '../schemas.ts'
import { requireActor } from '../plugins/auth.ts'
import { MACHINE, STATUSES, type Action } from '../cases/machine.ts'
import { SEES_CONTACTS, type Channel } from '../cases/roles.ts'
import { AppError, ErrorCode } from '../errors.ts'
import { parseBbox } from './cells.ts'
import { ActionSchema, CaseSchema, ChannelSchema, EventSchema, MatterCode, PhotoId, ReportSchema, Uscc, authErrors, literals } from './case-schemas.ts'
import type { EventRow, ReportRow } from '../repositories/case-queries.ts'
import type { Status } from '../cases/machine.ts'

const IntakeBody = Type.Object({
  matter: MatterCode,
  description: Type.String({ minLength: 1, maxLength: 2000 }),
  channel: Type.Optional(ChannelSchema),
  point: Type.Optional(Type.Object({
    lon: Type.Number(), lat: Type.Number(),
    crs: Type.Optional(literals(['wgs84', 'gcj02', 'bd09'] as const, { description: 'wgs84 (GPS), gcj02 (AMap, Tencent), bd09 (Baidu); default wgs84' })),
  }, { additionalProperties: false })),
  address: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
  photos: Type.Optional(Type.Array(PhotoId, { maxItems: 9 })),
  facility_id: Type.Optional(Type.String({ pattern: '^[0-9]{17}$', description: 'the component, when the reporter knows it (its plate or QR code)' })),
  contact: Type.Optional(Type.Object({
    name: Type.Optional(Type.String({ maxLength: 100 })), phone: Type.Optional(Type.String({ maxLength: 40 })), email: Type.Optional(Type.String({ maxLength: 200 })),
  }, { additionalProperties: false })),
}, { additionalProperties: false })

const IntakeReply = Type.Object({
  case: CaseSchema,
  linked: Type.Boolean({ description: 'true: an open case of the same matter was already reported nearby; this report was added to it' }),
  duplicate_of: Type.Union([Type.Integer(), Type.Null()]),
  distance_m: Type.Union([Type.Number(), Type.Null()]),
  report_id: Type.Integer(),
  replayed: Type.Boolean({ description: 'true: the same Idempotency-Key was seen before; nothing new was written' }),
  message: Type.String(),
})

const ActionBody = Type.Object({
  note: Type.Optional(Type.String({ maxLength: 2000 })),
  photos: Type.Optional(Type.Array(PhotoId, { maxItems: 9 })),
  units: Type.Optional(Type.Array(Type.Object({ org: Uscc, role: literals(['lead', 'assist'] as const) }, { additionalProperties: false }), { maxItems: 10, description: 'dispatch: the units, overriding the routing (one lead)' })),
  minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 60 * 24 * 365, description: 'request_extension / grant_extension: minutes more (working or natural, as the stage counts)' })),
}, { additionalProperties: false })

const ListQuery = Type.Object({
  status: Type.Optional(Type.String({ description: 'comma-separated statuses, or open / closed', maxLength: 200 })),
  matter: Type.Optional(Type.String({ pattern: '^[0-9]{2,32}$', description: 'matter code or prefix' })),
  subdistrict: Type.Optional(Code9),
  community: Type.Optional(Code12),
  cell: Type.Optional(Code15),
  unit: Type.Optional(Uscc),
  channel: Type.Optional(ChannelSchema),
  overdue: Type.Optional(Type.Boolean()),
  light: Type.Optional(literals(['green', 'yellow', 'red'] as const)),
  bbox: Type.Optional(Type.String({ maxLength: 200, description: 'minLon,minLat,maxLon,maxLat (WGS84)' })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  sort: Type.Optional(literals(['newest', 'due'] as const)),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
}, { additionalProperties: false })

const ACTION_NAMES: Record<string, string> = { report: '上报', link_report: '重复上报并案', ...Object.fromEntries(Object.entries(MACHINE).map(([a, s]) => [a, s.name])) }

function eventOut(e: EventRow) {
  return {
    seq: e.seq, at: new Date(e.at).toISOString(), action: e.action, action_name: ACTION_NAMES[e.action] ?? e.action,
    from_status: e.from_status, to_status: e.to_status,
    actor: { id: e.actor_id, name: e.actor_name, role: e.actor_role, org: e.actor_org, org_name: e.actor_org_name },
    note: e.note, photos: e.photos, data: e.data,
  }
}

function reportOut(r: ReportRow, contacts: boolean) {
  return {
    id: r.id, created_case: r.created_case, channel: r.channel, reporter_id: r.reporter_id, reporter_name: r.reporter_name,
    contact: contacts ? { name: r.contact_name, phone: r.contact_phone, email: r.contact_email } : null,
    description: r.description, address: r.address, lon: r.lon, lat: r.lat, input_crs: r.input_crs, photos: r.photos,
    distance_m: r.distance_m === null ? null : Math.round(r.distance_m * 10) / 10, reported_at: new Date(r.reported_at).toISOString(),
  }
}

function statusFilter(raw: string | undefined): { statuses?: string[]; open?: boolean } {
  if (!raw) return {}
  if (raw === 'open') return { open: true }
  if (raw === 'closed') return { statuses: ['closed', 'voided'] }
  const list = raw.split(',').map((s) => s.trim())
  const bad = list.filter((s) => !(STATUSES as readonly string[]).includes(s))
  if (bad.length) throw new AppError(400, ErrorCode.validation, `unknown status ${bad.join(', ')}`, [{ field: 'querystring.status', message: 'open, closed or statuses' }])
  return { statuses: list }
}

export interface CaseRoutesOptions {
  /** Reports per hour by one resident account (guests from /api/public/guest included); staff are not limited. */
  residentReportsPerHour?: number
}

const routes: FastifyPluginAsyncTypebox<CaseRoutesOptions> = async (app, opts) => {
  app.post('/api/cases', {
    config: {
      rateLimit: {
        max: opts.residentReportsPerHour ?? 30,
        timeWindow: 3_600_000,
        keyGenerator: (req) => `resident:${req.actor?.userId ?? req.ip}`,
        allowList: (req) => req.actor?.role !== 'resident',
      },
    },
    schema: {
      tags: ['cases'],
      summary: 'Report a case (any channel): located, matched to a component, checked for duplicates and routed, in one transaction',
      description: 'Send a point (any CRS) or an address. An open case of the same matter nearby takes the report as a link (200, linked: true) instead of a new case (201). '
        + 'Idempotency-Key: a retry with the same key returns the first answer and writes nothing.',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
      body: IntakeBody,
      response: { 200: IntakeReply, 201: IntakeReply, 413: ErrorSchema, 422: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema, ...authErrors, ...errorResponses },
    },
  }, async (req, reply) => {
    const actor = requireActor(req)
    const key = req.headers['idempotency-key'] ?? null
    const body = req.body
    const r = await app.cases.intake(actor, { ...body, channel: body.channel as Channel | undefined }, typeof key === 'string' ? key : null)
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    // The audit row's target, known here: the audit hook need not parse the answer for it.
    req.auditTarget = String(r.case.id)
    return reply.code(r.status).send(r)
  })

  app.get('/api/cases', {
    schema: {
      tags: ['cases'],
      summary: 'Cases the caller may see, filtered; sort=due lists the most urgent first',
      querystring: ListQuery,
      response: { 200: Type.Object({ items: Type.Array(CaseSchema), limit: Type.Integer(), offset: Type.Integer() }), ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const actor = requireActor(req)
    const q = req.query
    const rows = await app.cases.list(actor, {
      ...statusFilter(q.status), matter: q.matter, subdistrict: q.subdistrict, community: q.community, cell: q.cell, unit: q.unit,
      channel: q.channel, overdue: q.overdue, light: q.light, bbox: q.bbox === undefined ? undefined : parseBbox(q.bbox),
      from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined, sort: q.sort,
      limit: q.limit ?? 100, offset: q.offset ?? 0,
    })
    return { items: rows.map((r) => app.cases.view(r, actor)), limit: q.limit ?? 100, offset: q.offset ?? 0 }
  })

  app.get('/api/cases/overdue', {
    schema: {
      tags: ['cases'],
      summary: 'Open cases past the deadline of their stage, most overdue first',
      querystring: Type.Object({
        subdistrict: Type.Optional(Code9), unit: Type.Optional(Uscc), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(CaseSchema) }), ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const actor = requireActor(req)
    const rows = await app.cases.list(actor, { open: true, overdue: true, subdistrict: req.query.subdistrict, unit: req.query.unit, sort: 'due', limit: req.query.limit ?? 100, offset: 0 })
    return { items: rows.map((r) => app.cases.view(r, actor)) }
  })

  app.get('/api/cases/:id', {
    schema: {
      tags: ['cases'],
      summary: 'One case with its reports and every event of its loop',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      response: { 200: Type.Intersect([CaseSchema, Type.Object({ events: Type.Array(EventSchema), reports: Type.Array(ReportSchema) })]), ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const actor = requireActor(req)
    const row = await app.cases.get(actor, req.params.id)
    if (!row) throw new AppError(404, ErrorCode.notFound, `case ${req.params.id} not found`)
    const [events, reports] = await Promise.all([app.cases.queries.events(row.id), app.cases.queries.reports(row.id)])
    const contacts = actor.role !== 'system' && (SEES_CONTACTS.includes(actor.role))
    // A resident sees only the photos the district publishes to reporters (and their own).
    const shown = actor.role === 'resident'
      ? await app.cases.queries.reporterPhotos(row.id, actor.userId, app.caseConfig.current().settings.publishResultPhotos)
      : null
    const keep = (photos: string[]): string[] => (shown ? photos.filter((p) => shown.has(p)) : photos)
    return {
      ...app.cases.view(row, actor),
      events: events.map((e) => { const o = eventOut(e); return { ...o, photos: keep(o.photos) } }),
      reports: reports.map((r) => { const o = reportOut(r, contacts || r.reporter_id === actor.userId); return { ...o, photos: keep(o.photos) } }),
    }
  })

  app.get('/api/cases/:id/events', {
    schema: {
      tags: ['cases'],
      summary: 'The events of a case, in order (append-only)',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      response: { 200: Type.Array(EventSchema), ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const actor = requireActor(req)
    const row = await app.cases.get(actor, req.params.id)
    if (!row) throw new AppError(404, ErrorCode.notFound, `case ${req.params.id} not found`)
    return (await app.cases.queries.events(row.id)).map(eventOut)
  })

  app.post('/api/cases/:id/:action', {
    schema: {
      tags: ['cases'],
      summary: 'A step of the loop: accept 立案, void 作废, dispatch 派遣, start 签收, return 退回, handle 处置反馈, verify 核查, rework 返工, close 结案, defer 挂账, resume, request/grant/deny_extension 延期, progress',
      description: 'Refused with 403 for a role that may not take the step or a unit that is not on the case, 404 for a case the caller cannot see, '
        + '409 illegal_transition (with `allowed`) for a step the case\'s status does not allow. handle and verify need a photo; void, return, rework, defer and deny_extension a note.',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }), action: ActionSchema }),
      body: ActionBody,
      response: { 200: CaseSchema, 409: ErrorSchema, 422: ErrorSchema, ...authErrors, ...errorResponses },
    },
    // Most steps need nothing but the caller: an empty body is {}.
    preValidation: async (req) => { req.body ??= {} },
  }, async (req) => {
    const actor = requireActor(req)
    const b = req.body ?? {}
    return app.cases.act(actor, req.params.id, req.params.action as Action, {
      note: b.note ?? null, photos: b.photos, minutes: b.minutes,
      units: b.units?.map((u) => ({ org: u.org, role: u.role, ruleId: null, ruleName: null })),
    })
  })
}

export default routes

export type { Status }
