/**
 * Frontage units (门前三包): list, one unit with its recent cases, the units a
 * case was routed to, the routing rules, and the backfill that links earlier
 * cases. Their scores and ranking come from the indicator snapshot
 * (GET /api/indicators/ranking?subject=frontage_unit, also here as /api/frontage-units/ranking).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type TSchema } from 'typebox'
import { Code9, Code12, Code15, errorResponses } from '../schemas.ts'
import { AppError } from '../errors.ts'
import { requireActor } from '../plugins/auth.ts'
import { parseBbox } from './cells.ts'
import { authErrors, literals } from './case-schemas.ts'
import { QUERY_ROLES, SEES_FRONTAGE_CONTACTS } from '../base/access.ts'
import { backfillFrontage, casesOfUnit, frontageOfCase, frontageRules, frontageUnit, frontageUnits, type FrontageUnitView } from '../repositories/base-frontage.ts'
import { ranking } from '../repositories/base-indicators.ts'
import { beijingDay } from '../base/indicators.ts'
import type { Role } from '../cases/roles.ts'
import { RankingSchema } from './indicators.ts'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

export const FrontageUnitSchema = Type.Object({
  id: Type.String(), uscc: Nullable(Type.String()), name: Type.String(), kind: Type.String(), address: Nullable(Type.String()),
  contact_person: Nullable(Type.String({ description: 'command centre, dispatcher, admin only; null for other roles' })),
  contact_phone: Nullable(Type.String({ description: 'command centre, dispatcher, admin only' })),
  record_id: Nullable(Type.String()), length_m: Type.Number(), cell_code: Type.String(), community_code: Type.String(), subdistrict_code: Type.String(),
  active: Type.Boolean(), signed_on: Nullable(Type.String()),
  frontage: Type.Unknown({ description: 'GeoJSON LineString or Polygon, WGS84' }),
})

function visible(u: FrontageUnitView, role: Role | 'system'): FrontageUnitView {
  return role !== 'system' && SEES_FRONTAGE_CONTACTS.includes(role) ? u : { ...u, contact_person: null, contact_phone: null }
}

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/frontage-units', {
    preHandler: app.requireRole(...QUERY_ROLES),
    schema: {
      tags: ['frontage'],
      summary: 'Frontage units (门前三包责任单位) of a cell, community, subdistrict or bbox, by id',
      querystring: Type.Object({
        cell: Type.Optional(Code15), community: Type.Optional(Code12), subdistrict: Type.Optional(Code9),
        bbox: Type.Optional(Type.String({ maxLength: 200, description: 'minLon,minLat,maxLon,maxLat (WGS84)' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 100 })), offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ total: Type.Integer(), items: Type.Array(FrontageUnitSchema) }), ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const q = req.query
    const code = q.cell ?? q.community ?? q.subdistrict ?? null
    const r = await frontageUnits(app.db, {
      lo: code ? code.padEnd(15, '0') : null, hi: code ? code.padEnd(15, '9') : null,
      bbox: q.bbox === undefined ? null : parseBbox(q.bbox), limit: q.limit ?? 100, offset: q.offset ?? 0,
    })
    const role = requireActor(req).role
    return { total: r.total, items: r.items.map((u) => visible(u, role)) }
  })

  app.get('/api/frontage-units/ranking', {
    preHandler: app.requireRole(...QUERY_ROLES),
    schema: {
      tags: ['frontage'],
      summary: 'The day\'s ranking of frontage units from the indicator snapshot (same as /api/indicators/ranking?subject=frontage_unit)',
      querystring: Type.Object({
        day: Type.Optional(Type.String({ format: 'date' })), subdistrict: Type.Optional(Code9),
        order: Type.Optional(literals(['best', 'worst'] as const, { default: 'worst' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })), offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
      }, { additionalProperties: false }),
      response: { 200: RankingSchema, ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const q = req.query
    const day = q.day ?? beijingDay(app.cases.now())
    const r = await ranking(app.db, { subject: 'frontage_unit', day, subdistrict: q.subdistrict, limit: q.limit ?? 50, offset: q.offset ?? 0, order: q.order ?? 'worst' })
    return { subject: 'frontage_unit', day, ...r }
  })

  app.get('/api/frontage-units/:id', {
    preHandler: app.requireRole(...QUERY_ROLES),
    schema: {
      tags: ['frontage'],
      summary: 'One frontage unit with its most recent cases',
      params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }) }),
      response: {
        200: Type.Object({
          ...FrontageUnitSchema.properties,
          cases: Type.Array(Type.Object({ case_id: Type.Integer(), status: Type.String(), matter_code: Type.String(), reported_at: Type.String(), rule_name: Type.String(), distance_m: Type.Number(), source: Type.String() })),
        }),
        ...authErrors, ...errorResponses,
      },
    },
  }, async (req) => {
    const u = await frontageUnit(app.db, req.params.id)
    if (!u) throw new AppError(404, 'not_found', `frontage unit ${req.params.id} not found`)
    return { ...visible(u, requireActor(req).role), cases: await casesOfUnit(app.db, u.id, 50) }
  })

  app.get('/api/cases/:id/frontage', {
    schema: {
      tags: ['frontage'],
      summary: 'The frontage units a case went to as assist units (协办), with the rule that chose each',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      response: {
        200: Type.Array(Type.Object({
          unit_id: Type.String(), name: Type.String(), uscc: Nullable(Type.String()), role: Type.Literal('assist'), rule_id: Nullable(Type.Integer()),
          rule_name: Type.String(), distance_m: Type.Number(), source: Type.String(), assigned_at: Type.String(),
        })),
        ...authErrors, ...errorResponses,
      },
    },
  }, async (req) => {
    const row = await app.cases.get(requireActor(req), req.params.id)
    if (!row) throw new AppError(404, 'not_found', `case ${req.params.id} not found`)
    return frontageOfCase(app.db, row.id)
  })

  app.get('/api/frontage/rules', {
    preHandler: app.requireRole(...QUERY_ROLES),
    schema: {
      tags: ['frontage'],
      summary: 'Which matters go to a frontage unit (standard codes without the district) and within how many metres of its frontage',
      response: {
        200: Type.Array(Type.Object({
          id: Type.Integer(), name: Type.String(), duty: Type.String(), matter_prefixes: Type.Array(Type.String()), tolerance_m: Type.Number(), priority: Type.Integer(), active: Type.Boolean(),
        })),
        ...authErrors,
      },
    },
  }, async () => frontageRules(app.db))

  app.post('/api/frontage/backfill', {
    preHandler: app.requireRole('admin'),
    schema: {
      tags: ['frontage'],
      summary: 'Links cases that have no frontage unit yet to the unit their point lies on, as intake would (after loading units)',
      response: { 200: Type.Object({ linked: Type.Integer() }), ...authErrors },
    },
  }, async () => ({ linked: await app.db.transaction((tx) => backfillFrontage(tx, app.cases.now())) }))
}

export default routes
