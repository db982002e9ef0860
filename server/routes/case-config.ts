/**
 * The loop's configuration as data: matter taxonomy (with the district's finer
 * levels), time limits per matter and stage, dispatch rules, the work calendar
 * and settings. Reading is for the centre and leaders; changing is for admins.
 * Each change is one transaction and takes effect for the next request.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import { AppError, ErrorCode } from '../errors.ts'
import { errorResponses, ErrorSchema } from '../schemas.ts'
import { RULE_TARGETS, type RuleTarget, type UnitRole } from '../cases/dispatch.ts'
import { initialsOf } from '../cases/pinyin.ts'
import { componentSubclassOf, levelOf, type MatterType } from '../cases/matters.ts'
import type { Stage } from '../cases/machine.ts'
import type { Basis } from '../cases/calendar.ts'
import type { RuleInput } from '../repositories/case-config.ts'
import type { Channel } from '../cases/roles.ts'
import { ChannelSchema, StageSchema, Uscc, authErrors, literals } from './case-schemas.ts'

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()])

const MatterSchema = Type.Object({
  code: Type.String(), parent_code: Nullable(Type.String()), level: Type.Integer(), name: Type.String(),
  major: Type.String(), component_subclass: Nullable(Type.String()), active: Type.Boolean(),
  duplicate_radius_m: Nullable(Type.Number()), facility_tolerance_m: Nullable(Type.Number()),
  description: Nullable(Type.String()), keywords: Nullable(Type.String()),
  limits: Type.Array(Type.Object({ stage: StageSchema, minutes: Type.Integer(), basis: Type.String() }), { description: 'effective limits (own, inherited or default)' }),
})

const LimitSchema = Type.Object({ matter_code: Nullable(Type.String()), stage: StageSchema, minutes: Type.Integer({ minimum: 1 }), basis: literals(['working', 'natural'] as const), note: Nullable(Type.String()) })

const RuleBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  priority: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  role: literals(['lead', 'assist'] as const),
  matter_prefixes: Type.Array(Type.String({ pattern: '^[0-9]{2,32}$' }), { maxItems: 500 }),
  subdistricts: Type.Array(Type.String({ pattern: '^[0-9]{9}$' }), { maxItems: 100 }),
  channels: Type.Array(ChannelSchema, { maxItems: 20 }),
  target: literals(RULE_TARGETS),
  org: Type.Union([Uscc, Type.Null()]),
  active: Type.Boolean(),
  note: Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]),
}, { additionalProperties: false })
const RuleSchema = Type.Intersect([Type.Object({ id: Type.Integer() }), RuleBody])

const Day = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' })

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const admin = app.requireRole('admin')
  const staff = app.requireRole('supervisor', 'command_centre', 'dispatcher', 'handler', 'planner', 'leader', 'admin')

  const matterOut = (m: MatterType) => {
    const cfg = app.caseConfig.current()
    return {
      code: m.code, parent_code: m.parentCode, level: m.level, name: m.name, major: m.major, component_subclass: m.componentSubclass,
      active: m.active, duplicate_radius_m: m.duplicateRadiusM, facility_tolerance_m: m.facilityToleranceM, description: m.description, keywords: m.keywords,
      limits: (['accept', 'dispatch', 'handle', 'verify', 'close'] as Stage[]).map((stage) => ({ stage, ...cfg.limit(m.code, stage) })),
    }
  }

  app.get('/api/matter-types', {
    schema: {
      tags: ['cases'],
      summary: 'The matter taxonomy (事项): majors, the standard\'s sub-classes and the district\'s finer levels, with effective time limits',
      querystring: Type.Object({
        parent: Type.Optional(Type.String({ pattern: '^[0-9]{8,32}$' })), level: Type.Optional(Type.Integer({ minimum: 1, maximum: 8 })),
        active: Type.Optional(Type.Boolean()),
      }, { additionalProperties: false }),
      response: { 200: Type.Array(MatterSchema), ...errorResponses },
    },
  }, async (req) => {
    const q = req.query
    return app.caseConfig.current().allMatters()
      .filter((m) => (q.parent === undefined || m.parentCode === q.parent) && (q.level === undefined || m.level === q.level) && (q.active === undefined || m.active === q.active))
      .map(matterOut)
  })

  // The phone's matter picker (城管通): active matters below the majors, names, their major's name and
  // pinyin initials per character, small and cached by taxonomy revision (ETag).
  let picker: { revision: number; etag: string; body: { revision: number; matters: { code: string; name: string; major_name: string; component_subclass: string | null; initials: string[] }[] } } | null = null
  app.get('/api/matter-picker', {
    schema: {
      tags: ['cases'],
      summary: 'Active matters for a searchable picker: code, name, major, component subclass and pinyin initials per character (行 → "xh")',
      response: {
        200: Type.Object({
          revision: Type.Integer(),
          matters: Type.Array(Type.Object({
            code: Type.String(), name: Type.String(), major_name: Type.String(), component_subclass: Type.Union([Type.String(), Type.Null()]),
            initials: Type.Array(Type.String(), { description: 'per character, the initials it may be typed with' }),
          })),
        }),
        304: Type.Null(),
      },
    },
  }, async (req, reply) => {
    const cfg = app.caseConfig.current()
    const revision = cfg.settings.revision
    if (!picker || picker.revision !== revision) {
      const all = cfg.allMatters()
      const majors = new Map(all.filter((m) => m.level === 1).map((m) => [m.code, m.name]))
      const matters = all.filter((m) => m.active && m.level >= 2).map((m) => ({
        code: m.code, name: m.name, major_name: majors.get(m.code.slice(0, 8)) ?? '', component_subclass: m.componentSubclass, initials: initialsOf(m.name),
      }))
      picker = { revision, etag: `"matters-${revision}"`, body: { revision, matters } }
    }
    reply.header('etag', picker.etag).header('cache-control', 'no-cache')
    if (req.headers['if-none-match'] === picker.etag) return reply.code(304).send(null)
    return picker.body
  })

  app.post('/api/matter-types', {
    preHandler: admin,
    schema: {
      tags: ['cases'],
      summary: 'Add a finer matter type below an existing one (code = parent code + 3 digits)',
      body: Type.Object({
        code: Type.String({ pattern: '^[0-9]{14,32}$' }), name: Type.String({ minLength: 1, maxLength: 100 }),
        duplicate_radius_m: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 500 })),
        facility_tolerance_m: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 500 })),
        description: Type.Optional(Type.String({ maxLength: 2000 })), keywords: Type.Optional(Type.String({ maxLength: 500 })),
      }, { additionalProperties: false }),
      response: { 201: MatterSchema, 409: ErrorSchema, 422: ErrorSchema, ...authErrors, ...errorResponses },
    },
  }, async (req, reply) => {
    const b = req.body
    if ((b.code.length - 11) % 3 !== 0) throw new AppError(400, 'invalid_matter_code', 'a finer level adds 3 digits to its parent\'s code', { field: 'body.code' })
    const parentCode = b.code.slice(0, -3)
    const cfg = app.caseConfig.current()
    const parent = cfg.matter(parentCode)
    if (!parent) throw new AppError(422, 'unknown_parent', `no matter type ${parentCode} to put ${b.code} under`, { field: 'body.code' })
    if (cfg.matter(b.code)) throw new AppError(409, 'matter_exists', `matter type ${b.code} exists`, { field: 'body.code' })
    const m: MatterType = {
      code: b.code, parentCode, level: levelOf(b.code), name: b.name, districtCode: parent.districtCode, major: parent.major,
      componentSubclass: componentSubclassOf(b.code), duplicateRadiusM: b.duplicate_radius_m ?? null, facilityToleranceM: b.facility_tolerance_m ?? null,
      active: true, description: b.description ?? null, keywords: b.keywords ?? null,
    }
    await app.caseConfig.change((repo) => repo.insertMatters([m]))
    return reply.code(201).send(matterOut(m))
  })

  app.patch('/api/matter-types/:code', {
    preHandler: admin,
    schema: {
      tags: ['cases'],
      summary: 'Rename, retire (active: false) or tune a matter type',
      params: Type.Object({ code: Type.String({ pattern: '^[0-9]{8,32}$' }) }),
      body: Type.Object({
        name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })), active: Type.Optional(Type.Boolean()),
        duplicate_radius_m: Type.Optional(Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 500 }))),
        facility_tolerance_m: Type.Optional(Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 500 }))),
        description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))), keywords: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
      }, { additionalProperties: false }),
      response: { 200: MatterSchema, ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const m = app.caseConfig.current().matter(req.params.code)
    if (!m) throw new AppError(404, ErrorCode.notFound, `matter type ${req.params.code} not found`)
    const b = req.body
    const next: MatterType = {
      ...m, name: b.name ?? m.name, active: b.active ?? m.active,
      duplicateRadiusM: b.duplicate_radius_m === undefined ? m.duplicateRadiusM : b.duplicate_radius_m,
      facilityToleranceM: b.facility_tolerance_m === undefined ? m.facilityToleranceM : b.facility_tolerance_m,
      description: b.description === undefined ? m.description : b.description, keywords: b.keywords === undefined ? m.keywords : b.keywords,
    }
    await app.caseConfig.change((repo) => repo.updateMatter(m.code, next))
    return matterOut(next)
  })

  app.get('/api/time-limits', {
    preHandler: staff,
    schema: { tags: ['cases'], summary: 'Time limits set per matter and stage (matter_code null: the default of the stage)', response: { 200: Type.Array(LimitSchema), ...authErrors } },
  }, async () => (await app.caseConfig.repository.limits()).map((l) => ({ matter_code: l.matterCode, stage: l.stage, minutes: l.minutes, basis: l.basis, note: l.note })))

  app.put('/api/time-limits', {
    preHandler: admin,
    schema: {
      tags: ['cases'],
      summary: 'Set the limit of a stage for a matter (and the matters below it that have none), or the default (matter_code null)',
      body: LimitSchema,
      response: { 200: LimitSchema, 422: ErrorSchema, ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const b = req.body
    if (b.matter_code !== null && !app.caseConfig.current().matter(b.matter_code)) throw new AppError(422, 'unknown_matter', `no matter type ${b.matter_code}`, { field: 'body.matter_code' })
    await app.caseConfig.change((repo) => repo.setLimit({ matterCode: b.matter_code, stage: b.stage as Stage, minutes: b.minutes, basis: b.basis as Basis, note: b.note }))
    return b
  })

  app.delete('/api/time-limits', {
    preHandler: admin,
    schema: {
      tags: ['cases'],
      summary: 'Remove a limit: the matter then inherits its parent\'s',
      querystring: Type.Object({ matter_code: Type.Optional(Type.String({ pattern: '^[0-9]{8,32}$' })), stage: StageSchema }, { additionalProperties: false }),
      response: { 204: Type.Null(), ...authErrors, ...errorResponses },
    },
  }, async (req, reply) => {
    const removed = await app.caseConfig.change((repo) => repo.deleteLimit(req.query.matter_code ?? null, req.query.stage as Stage))
    if (!removed) throw new AppError(404, ErrorCode.notFound, 'no such limit')
    return reply.code(204).send(null)
  })

  const ruleIn = (b: Static<typeof RuleBody>): RuleInput => ({
    name: b.name, priority: b.priority, role: b.role as UnitRole, matterPrefixes: b.matter_prefixes, subdistricts: b.subdistricts, channels: b.channels,
    target: b.target as RuleTarget, org: b.org, active: b.active, note: b.note,
  })
  const ruleOut = (r: RuleInput & { id: number }) => ({
    id: r.id, name: r.name, priority: r.priority, role: r.role, matter_prefixes: [...r.matterPrefixes], subdistricts: [...r.subdistricts],
    channels: [...r.channels] as Channel[], target: r.target, org: r.org, active: r.active, note: r.note,
  })
  const checkRule = async (r: RuleInput): Promise<void> => {
    if ((r.target === 'organisation') !== (r.org !== null)) throw new AppError(400, 'invalid_rule', 'org is given exactly when target is organisation', { field: 'body.org' })
    if (r.org && !(await app.users.orgExists(r.org))) throw new AppError(422, 'unknown_org', `no organisation ${r.org}`, { field: 'body.org' })
  }

  app.get('/api/dispatch-rules', {
    preHandler: app.requireRole('command_centre', 'dispatcher', 'leader', 'admin'),
    schema: { tags: ['cases'], summary: 'Dispatch rules (自动分拣) in the order they are tried', response: { 200: Type.Array(RuleSchema), ...authErrors } },
  }, async () => (await app.caseConfig.repository.rules()).map(ruleOut))

  app.post('/api/dispatch-rules', {
    preHandler: admin,
    schema: { tags: ['cases'], summary: 'Add a dispatch rule', body: RuleBody, response: { 201: RuleSchema, 422: ErrorSchema, ...authErrors, ...errorResponses } },
  }, async (req, reply) => {
    const r = ruleIn(req.body)
    await checkRule(r)
    const id = await app.caseConfig.change((repo) => repo.insertRule(r))
    return reply.code(201).send(ruleOut({ ...r, id }))
  })

  app.put('/api/dispatch-rules/:id', {
    preHandler: admin,
    schema: { tags: ['cases'], summary: 'Replace a dispatch rule', params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), body: RuleBody, response: { 200: RuleSchema, 422: ErrorSchema, ...authErrors, ...errorResponses } },
  }, async (req) => {
    const r = ruleIn(req.body)
    await checkRule(r)
    if (!(await app.caseConfig.change((repo) => repo.updateRule(req.params.id, r)))) throw new AppError(404, ErrorCode.notFound, `rule ${req.params.id} not found`)
    return ruleOut({ ...r, id: req.params.id })
  })

  app.delete('/api/dispatch-rules/:id', {
    preHandler: admin,
    schema: { tags: ['cases'], summary: 'Remove a dispatch rule (cases it routed keep its id and name)', params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), response: { 204: Type.Null(), ...authErrors, ...errorResponses } },
  }, async (req, reply) => {
    if (!(await app.caseConfig.change((repo) => repo.deleteRule(req.params.id)))) throw new AppError(404, ErrorCode.notFound, `rule ${req.params.id} not found`)
    return reply.code(204).send(null)
  })

  const Periods = Type.Array(Type.Tuple([Type.Integer({ minimum: 0, maximum: 1440 }), Type.Integer({ minimum: 0, maximum: 1440 })]), { maxItems: 6 })

  app.get('/api/calendar', {
    preHandler: staff,
    schema: {
      tags: ['cases'],
      summary: 'The work calendar: working periods per weekday (minutes after local midnight, Sunday first) and the days that differ',
      querystring: Type.Object({ from: Type.Optional(Day), to: Type.Optional(Day) }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          utc_offset_minutes: Type.Integer(), minutes_per_working_day: Type.Integer(), week: Type.Array(Periods),
          days: Type.Array(Type.Object({ day: Type.String(), working: Type.Boolean(), name: Type.Union([Type.String(), Type.Null()]) })),
        }),
        ...authErrors, ...errorResponses,
      },
    },
  }, async (req) => {
    const cfg = app.caseConfig.current()
    const repo = app.caseConfig.repository
    const [days, stored] = await Promise.all([repo.calendarDays(req.query.from ?? null, req.query.to ?? null), repo.load()])
    return { utc_offset_minutes: cfg.settings.utcOffsetMinutes, minutes_per_working_day: cfg.calendar.minutesPerWorkingDay, week: stored.week.map((p) => p.map(([s, e]): [number, number] => [s, e])), days }
  })

  app.put('/api/calendar/days/:day', {
    preHandler: admin,
    schema: {
      tags: ['cases'],
      summary: 'Mark a day as a holiday (working: false) or a make-up working day (调休, working: true)',
      params: Type.Object({ day: Day }),
      body: Type.Object({ working: Type.Boolean(), name: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ day: Type.String(), working: Type.Boolean(), name: Type.Union([Type.String(), Type.Null()]) }), ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    if (Number.isNaN(Date.parse(`${req.params.day}T00:00:00Z`))) throw new AppError(400, ErrorCode.validation, 'not a date', [{ field: 'params.day', message: 'YYYY-MM-DD' }])
    const d = { day: req.params.day, working: req.body.working, name: req.body.name ?? null }
    await app.caseConfig.change((repo) => repo.insertDays([d]))
    return d
  })

  app.delete('/api/calendar/days/:day', {
    preHandler: admin,
    schema: { tags: ['cases'], summary: 'Let a day follow the week again', params: Type.Object({ day: Day }), response: { 204: Type.Null(), ...authErrors, ...errorResponses } },
  }, async (req, reply) => {
    if (!(await app.caseConfig.change((repo) => repo.deleteDay(req.params.day)))) throw new AppError(404, ErrorCode.notFound, `${req.params.day} is not in the calendar`)
    return reply.code(204).send(null)
  })

  app.put('/api/calendar/week', {
    preHandler: admin,
    schema: {
      tags: ['cases'],
      summary: 'Set the working periods of each weekday (7 lists, Sunday first)',
      body: Type.Object({ week: Type.Array(Periods, { minItems: 7, maxItems: 7 }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ week: Type.Array(Periods) }), 422: ErrorSchema, ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const week = req.body.week.map((p) => p.map(([s, e]) => [s, e] as [number, number]))
    for (const [d, p] of week.entries()) {
      let last = -1
      for (const [s, e] of p) {
        if (!(s < e && s >= last)) throw new AppError(422, 'invalid_periods', `weekday ${d}: periods must be sorted, disjoint and start before they end`, { field: `body.week.${d}` })
        last = e
      }
    }
    if (!week.some((p) => p.length)) throw new AppError(422, 'invalid_periods', 'a week with no working time would make every working-time limit endless', { field: 'body.week' })
    await app.caseConfig.change((repo) => repo.setWeek(week))
    return { week }
  })

  const SettingsSchema = Type.Object({
    duplicate_radius_m: Type.Number(), duplicate_window_hours: Type.Number(), facility_tolerance_m: Type.Number(),
    auto_dispatch: Type.Boolean(), auto_accept_channels: Type.Array(Type.String()), publish_result_photos: Type.Boolean(), revision: Type.Integer(),
  })
  const settingsOut = () => {
    const s = app.caseConfig.current().settings
    return { duplicate_radius_m: s.duplicateRadiusM, duplicate_window_hours: s.duplicateWindowHours, facility_tolerance_m: s.facilityToleranceM, auto_dispatch: s.autoDispatch, auto_accept_channels: s.autoAcceptChannels, publish_result_photos: s.publishResultPhotos, revision: s.revision }
  }

  app.get('/api/case-settings', {
    preHandler: staff,
    schema: { tags: ['cases'], summary: 'Settings of the loop: duplicate radius and window, component tolerance, automatic dispatch', response: { 200: SettingsSchema, ...authErrors } },
  }, async () => settingsOut())

  app.patch('/api/case-settings', {
    preHandler: admin,
    schema: {
      tags: ['cases'],
      summary: 'Change settings of the loop',
      body: Type.Object({
        duplicate_radius_m: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 500 })),
        duplicate_window_hours: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 24 * 365 })),
        facility_tolerance_m: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 500 })),
        auto_dispatch: Type.Optional(Type.Boolean()),
        auto_accept_channels: Type.Optional(Type.Array(ChannelSchema, { maxItems: 20 })),
        publish_result_photos: Type.Optional(Type.Boolean({ description: 'residents see the repair and verification photos of the cases they reported' })),
      }, { additionalProperties: false }),
      response: { 200: SettingsSchema, ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const b = req.body
    await app.caseConfig.change((repo) => repo.updateSettings({
      duplicateRadiusM: b.duplicate_radius_m, duplicateWindowHours: b.duplicate_window_hours, facilityToleranceM: b.facility_tolerance_m,
      autoDispatch: b.auto_dispatch, autoAcceptChannels: b.auto_accept_channels, publishResultPhotos: b.publish_result_photos,
    }))
    return settingsOut()
  })
}

export default routes
