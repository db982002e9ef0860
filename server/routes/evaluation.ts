/**
 * External evaluation (外部评价): a reporter's rating of a closed case (API and
 * an Open311 extension), the ratings of a case, and third-party survey results
 * (CSV import and reads).
 *
 * Open311 extension (not in GeoReport v2): POST /open311/v2/requests/{id}/rating.{json|xml}
 * with api_key (the reporter's token), rating = satisfied | basic | unsatisfied
 * (or 满意 / 基本满意 / 不满意) and an optional comment, as a form or JSON; answers
 * [{ service_request_id, rating, reopened, status }], errors as the spec's [{ code, description }].
 */
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { Type, type Static, type TSchema } from 'typebox'
import { Code9, ErrorSchema, errorResponses } from '../schemas.ts'
import { AppError } from '../errors.ts'
import { requireActor } from '../plugins/auth.ts'
import { authErrors, literals } from './case-schemas.ts'
import { toXml, type Format } from '../cases/open311.ts'
import { RATINGS, RATING_NAMES, rateCase, ratingsOfCase, type Rating } from '../base/evaluation.ts'
import { importSurveys, readSurveyCsv } from '../base/surveys.ts'
import { IMPORT_ROLES, QUERY_ROLES } from '../base/access.ts'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const RatingSchema = Type.Object({
  id: Type.Integer(), case_id: Type.Integer(), rating: literals(RATINGS), rating_name: Type.String(), comment: Nullable(Type.String()),
  channel: Type.String(), created_at: Type.String(), reopened: Type.Boolean({ description: 'the case was reopened for review (复核重办) because of this rating' }),
  case_status: Type.String(),
})
const SurveySchema = Type.Object({
  subdistrict_code: Type.String(), subdistrict_name: Nullable(Type.String()), period_start: Type.String(), period_end: Type.String(), topic: Type.String(),
  respondents: Type.Integer(), satisfied: Type.Integer(), basic: Type.Integer(), unsatisfied: Type.Integer(), satisfaction: Type.Number(), surveyor: Nullable(Type.String()),
})
const SURVEY_ROLES = [...IMPORT_ROLES, 'command_centre'] as const
const BY_NAME: Record<string, Rating> = { ...Object.fromEntries(RATINGS.map((r) => [r, r])), ...Object.fromEntries(RATINGS.map((r) => [RATING_NAMES[r], r])) }

const routes: FastifyPluginAsyncTypebox<{ bodyLimit?: number }> = async (app, opts) => {
  const bodyLimit = opts.bodyLimit ?? 64 * 1024 * 1024
  if (!app.hasContentTypeParser('text/csv')) app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body))
  const deps = () => ({ db: app.db, config: app.caseConfig.current(), now: app.cases.now() })

  app.post('/api/cases/:id/rating', {
    schema: {
      tags: ['evaluation'],
      summary: 'Rate the result of a closed case (满意 / 基本满意 / 不满意), once, as its reporter; unsatisfied reopens it for review',
      description: '403 not_reporter for anyone who did not report the case; 409 case_not_closed, already_rated, rating_period_over.',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      body: Type.Object({ rating: literals(RATINGS), comment: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false }),
      response: { 201: RatingSchema, 409: ErrorSchema, ...authErrors, ...errorResponses },
    },
  }, async (req, reply) => {
    const r = await rateCase(deps(), requireActor(req), req.params.id, { rating: req.body.rating, comment: req.body.comment, channel: 'web' })
    return reply.code(201).send(r)
  })

  app.get('/api/cases/:id/ratings', {
    schema: {
      tags: ['evaluation'],
      summary: 'The ratings of a case the caller may see',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      response: { 200: Type.Array(RatingSchema), ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const row = await app.cases.get(requireActor(req), req.params.id)
    if (!row) throw new AppError(404, 'not_found', `case ${req.params.id} not found`)
    return ratingsOfCase(app.db, row.id)
  })

  app.post('/api/surveys/import', {
    bodyLimit,
    preHandler: app.requireRole(...SURVEY_ROLES),
    schema: {
      tags: ['evaluation'],
      summary: 'Import third-party survey results (text/csv): one row per subdistrict, period and topic; all or nothing',
      description: 'Columns: subdistrict_code, period_start, period_end (YYYY-MM-DD), topic (optional, default 总体), respondents, satisfied, basic, unsatisfied, surveyor (optional). '
        + 'A bad row rejects the file (422 invalid_surveys, problems by row). A row for a stored subdistrict, period and topic replaces it.',
      body: Type.String({ description: 'CSV text' }),
      response: { 201: Type.Object({ import_id: Type.Integer(), rows: Type.Integer(), written: Type.Integer() }), 415: ErrorSchema, 422: ErrorSchema, ...authErrors, ...errorResponses },
    },
    preValidation: async (req) => {
      if (!/^text\/csv\b/i.test(req.headers['content-type'] ?? '')) throw new AppError(415, 'unsupported_media_type', 'send survey results as text/csv')
    },
  }, async (req, reply) => reply.code(201).send(await importSurveys(app.db, readSurveyCsv(req.body), 'api')))

  app.get('/api/surveys', {
    preHandler: app.requireRole(...QUERY_ROLES),
    schema: {
      tags: ['evaluation'],
      summary: 'Survey results, with the satisfaction rate ((satisfied + basic) / respondents)',
      querystring: Type.Object({ subdistrict: Type.Optional(Code9), from: Type.Optional(Type.String({ format: 'date' })), to: Type.Optional(Type.String({ format: 'date' })) }, { additionalProperties: false }),
      response: { 200: Type.Array(SurveySchema), ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const q = req.query
    return (await app.db.query<Static<typeof SurveySchema>>(`SELECT trim(r.subdistrict_code) AS subdistrict_code, s.name AS subdistrict_name, to_char(r.period_start, 'YYYY-MM-DD') AS period_start,
        to_char(r.period_end, 'YYYY-MM-DD') AS period_end, r.topic, r.respondents, r.satisfied, r.basic, r.unsatisfied,
        round(100.0 * (r.satisfied + r.basic) / r.respondents, 2)::float8 AS satisfaction, r.surveyor
      FROM survey_results r LEFT JOIN subdistricts s ON s.code = r.subdistrict_code
      WHERE ($1::text IS NULL OR r.subdistrict_code = $1::bpchar) AND ($2::date IS NULL OR r.period_end >= $2) AND ($3::date IS NULL OR r.period_start <= $3)
      ORDER BY r.period_end DESC, r.subdistrict_code, r.topic`, [q.subdistrict ?? null, q.from ?? null, q.to ?? null])).rows
  })

  // The Open311 extension, in its own context: the spec's form bodies and error shape.
  await app.register(async (plain) => {
    const o311 = plain.withTypeProvider<TypeBoxTypeProvider>()
    o311.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
      const out: Record<string, string> = {}
      for (const [k, v] of new URLSearchParams(body as string)) out[k] = v
      done(null, out)
    })
    const formatOf = (req: FastifyRequest): Format => (/\.xml(\?|$)/.test(req.url) ? 'xml' : 'json')
    const send = (reply: FastifyReply, format: Format, root: string, body: unknown, status: number): FastifyReply => {
      reply.code(status)
      if (format === 'xml') return reply.type('text/xml; charset=utf-8').send(toXml(root, body))
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(body))
    }
    o311.setErrorHandler((err: FastifyError, req, reply) => {
      const status = err instanceof AppError ? err.statusCode : err.validation ? 400 : err.statusCode && err.statusCode < 500 ? err.statusCode : 500
      if (status >= 500) req.log.error({ err }, 'open311 rating error')
      const description = status >= 500 ? 'internal error; it has been logged' : err instanceof AppError ? `${err.code}: ${err.message}` : err.message
      return send(reply, formatOf(req), 'errors', [{ code: status, description }], status)
    })
    o311.post('/open311/v2/requests/:id/rating.:format', {
      schema: {
        tags: ['open311'],
        summary: 'Extension: the reporter rates a closed request (satisfied | basic | unsatisfied, or 满意 | 基本满意 | 不满意), once',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }), format: Type.Union([Type.Literal('json'), Type.Literal('xml')]) }),
        body: Type.Record(Type.String(), Type.Unknown()),
      },
    }, async (req, reply) => {
      const f = req.body
      const key = typeof f.api_key === 'string' ? f.api_key : undefined
      if (!key) throw new AppError(403, 'api_key_required', 'api_key is required (your wangge token)')
      const actor = await app.authenticate(key)
      if (!actor) throw new AppError(403, 'invalid_api_key', 'api_key is unknown or revoked')
      const rating = BY_NAME[String(f.rating ?? '').trim()]
      if (!rating) throw new AppError(400, 'invalid_rating', 'rating is satisfied, basic or unsatisfied (满意, 基本满意, 不满意)')
      const comment = typeof f.comment === 'string' ? f.comment.slice(0, 1000) : null
      const r = await rateCase(deps(), actor, req.params.id, { rating, comment, channel: 'open311' })
      return send(reply, req.params.format, 'ratings', [{ service_request_id: String(r.case_id), rating: r.rating, reopened: r.reopened, status: r.case_status }], 201)
    })
  })
}

export default routes
