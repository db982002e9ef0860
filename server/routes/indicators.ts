/**
 * Monitoring indicators (监测指标) as data: definitions with their formulas,
 * the daily snapshot, the day's ranking of a subject and a unit's trend.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type TSchema } from 'typebox'
import { Code9, ErrorSchema, errorResponses } from '../schemas.ts'
import { AppError } from '../errors.ts'
import { authErrors, literals } from './case-schemas.ts'
import { QUERY_ROLES } from '../base/access.ts'
import { FormulaError, parseFormula } from '../base/formula.ts'
import { MEASURES, SUBJECTS, SUBJECT_NAMES } from '../base/measures.ts'
import { beijingDay, takeSnapshot } from '../base/indicators.ts'
import { INDICATOR_UNITS, IndicatorRepository, ranking, trend } from '../repositories/base-indicators.ts'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const Subject = literals(SUBJECTS, { description: 'department 职能部门, utility 专业公司, subdistrict 街道/地区, frontage_unit 门前三包' })
const Day = Type.String({ format: 'date', description: 'YYYY-MM-DD, Beijing' })

const Definition = Type.Object({
  code: Type.String({ pattern: '^[A-Z]{2}[0-9]{2}$' }), name: Type.String({ minLength: 1, maxLength: 100 }), subject: Subject,
  formula: Type.String({ minLength: 1, maxLength: 500, description: 'arithmetic (+ − × ÷, parentheses, numbers) over the subject\'s measures (GET /api/indicators)' }),
  unit: literals(INDICATOR_UNITS), better: literals(['higher', 'lower'] as const),
  target: Type.Number({ minimum: 0 }), weight: Type.Number({ minimum: 0, description: 'weight in the subject\'s composite; 0: shown, not weighed' }),
  window_days: Type.Integer({ minimum: 1, maximum: 366 }), active: Type.Boolean(), description: Nullable(Type.String({ maxLength: 500 })),
})

export const RankingSchema = Type.Object({
  subject: Type.String(), day: Type.String(), total: Type.Integer(),
  items: Type.Array(Type.Object({
    unit_key: Type.String(), name: Nullable(Type.String()), subdistrict: Nullable(Type.String()), score: Nullable(Type.Number()),
    rank: Nullable(Type.Integer()), previous_rank: Nullable(Type.Integer({ description: 'rank the day before' })),
    values: Type.Record(Type.String(), Type.Object({ value: Nullable(Type.Number()), score: Nullable(Type.Number()) }), { description: 'indicator code → value and 0–100 score' }),
  })),
})

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const repo = new IndicatorRepository(app.db)

  app.get('/api/indicators', {
    preHandler: app.requireRole(...QUERY_ROLES),
    schema: {
      tags: ['indicators'],
      summary: 'Indicator definitions, and the measures each subject\'s formulas may use',
      response: {
        200: Type.Object({
          subjects: Type.Record(Type.String(), Type.Object({ name: Type.String(), measures: Type.Array(Type.String()) })),
          items: Type.Array(Definition),
        }),
        ...authErrors,
      },
    },
  }, async () => ({
    subjects: Object.fromEntries(SUBJECTS.map((s) => [s, { name: SUBJECT_NAMES[s], measures: [...MEASURES[s]] }])),
    items: await repo.definitions(),
  }))

  app.put('/api/indicators/:code', {
    preHandler: app.requireRole('admin'),
    schema: {
      tags: ['indicators'],
      summary: 'Create or change an indicator; its formula is checked against the subject\'s measures',
      params: Type.Object({ code: Type.String({ pattern: '^[A-Z]{2}[0-9]{2}$' }) }),
      body: Type.Omit(Definition, ['code'], { additionalProperties: false }),
      response: { 200: Definition, 422: ErrorSchema, ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const d = { ...req.body, code: req.params.code }
    try {
      parseFormula(d.formula, MEASURES[d.subject])
    } catch (err) {
      if (err instanceof FormulaError) throw new AppError(422, 'invalid_formula', err.message, { field: 'body.formula', at: err.at, measures: [...MEASURES[d.subject]] })
      throw err
    }
    await repo.upsert(d)
    return d
  })

  app.post('/api/indicators/snapshot', {
    preHandler: app.requireRole('admin', 'command_centre'),
    schema: {
      tags: ['indicators'],
      summary: 'Computes a day\'s snapshot (default today) of every active indicator for every unit, replacing that day\'s rows',
      body: Type.Optional(Type.Object({ day: Type.Optional(Day), subjects: Type.Optional(Type.Array(Subject, { minItems: 1 })) }, { additionalProperties: false })),
      response: {
        200: Type.Object({ day: Type.String(), at: Type.String(), subjects: Type.Array(Type.Object({ subject: Type.String(), units: Type.Integer(), indicators: Type.Integer(), rows: Type.Integer() })), ms: Type.Integer() }),
        ...authErrors, ...errorResponses,
      },
    },
  }, async (req) => takeSnapshot(app.db, { day: req.body?.day, subjects: req.body?.subjects, now: app.cases.now() }))

  app.get('/api/indicators/ranking', {
    preHandler: app.requireRole(...QUERY_ROLES),
    schema: {
      tags: ['indicators'],
      summary: 'A day\'s composite scores and ranks of a subject\'s units, with each indicator\'s value and score',
      querystring: Type.Object({
        subject: Subject, day: Type.Optional(Day), subdistrict: Type.Optional(Code9),
        order: Type.Optional(literals(['best', 'worst'] as const, { default: 'best' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })), offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
      }, { additionalProperties: false }),
      response: { 200: RankingSchema, ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const q = req.query
    const day = q.day ?? beijingDay(app.cases.now())
    return { subject: q.subject, day, ...(await ranking(app.db, { subject: q.subject, day, subdistrict: q.subdistrict, limit: q.limit ?? 100, offset: q.offset ?? 0, order: q.order ?? 'best' })) }
  })

  app.get('/api/indicators/trend', {
    preHandler: app.requireRole(...QUERY_ROLES),
    schema: {
      tags: ['indicators'],
      summary: 'A unit\'s composite, rank and indicator values day by day',
      querystring: Type.Object({ subject: Subject, unit: Type.String({ minLength: 1, maxLength: 64 }), from: Type.Optional(Day), to: Type.Optional(Day) }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          subject: Type.String(), unit: Type.String(),
          days: Type.Array(Type.Object({ day: Type.String(), score: Nullable(Type.Number()), rank: Nullable(Type.Integer()), values: Type.Record(Type.String(), Nullable(Type.Number())) })),
        }),
        ...authErrors, ...errorResponses,
      },
    },
  }, async (req) => {
    const q = req.query
    const to = q.to ?? beijingDay(app.cases.now())
    const from = q.from ?? beijingDay(new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000))
    return { subject: q.subject, unit: q.unit, days: await trend(app.db, { subject: q.subject, unit: q.unit, from, to }) }
  })
}

export default routes
