/**
 * Open311 GeoReport v2 at /open311/v2: discovery, services (the matter
 * taxonomy), service definitions, requests (POST with api_key; GET with the
 * spec's filters plus bbox), one request, and tokens. Every path takes a
 * `.json` or `.xml` suffix; errors are the spec's `[{ code, description }]`.
 *
 * POST takes application/x-www-form-urlencoded (as the spec) or JSON; the
 * api_key is a user's bearer token, so a report is theirs (channel open311).
 */
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest, FastifyError } from 'fastify'
import { Type } from 'typebox'
import { AppError } from '../errors.ts'
import { beijingTime, requestOf, serviceDefinition, services, toXml, type Format } from '../cases/open311.ts'
import { REPORT_CHANNELS } from '../cases/roles.ts'
import { PHOTO_ID } from '../cases/photo-type.ts'
import { parseBbox } from './cells.ts'
import type { Crs } from '../../geocoder/crs.ts'
import type { CaseRow } from '../repositories/case-queries.ts'

const Fmt = Type.Union([Type.Literal('json'), Type.Literal('xml')], { description: 'response format' })
const Open311Error = Type.Array(Type.Object({ code: Type.Integer(), description: Type.String() }), { description: 'GeoReport v2 errors' })
const errors = { 400: Open311Error, 403: Open311Error, 404: Open311Error, 422: Open311Error }

const ServiceSchema = Type.Object({
  service_code: Type.String(), service_name: Type.String(), description: Type.String(), metadata: Type.Boolean(),
  type: Type.String(), keywords: Type.String(), group: Type.String(),
})
const AttributeSchema = Type.Object({
  variable: Type.Boolean(), code: Type.String(), datatype: Type.String(), required: Type.Boolean(), datatype_description: Type.String(),
  order: Type.Integer(), description: Type.String(), values: Type.Array(Type.Object({ key: Type.String(), name: Type.String() })),
})
const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()])
const RequestSchema = Type.Object({
  service_request_id: Type.String(), status: Type.String(), status_notes: Nullable(Type.String()), service_name: Type.String(),
  service_code: Type.String(), description: Type.String(), agency_responsible: Nullable(Type.String()), service_notice: Nullable(Type.String()),
  requested_datetime: Type.String(), updated_datetime: Type.String(), expected_datetime: Nullable(Type.String()),
  address: Nullable(Type.String()), address_id: Type.String(), zipcode: Nullable(Type.String()), lat: Type.Number(), long: Type.Number(),
  media_url: Nullable(Type.String()),
})
const PostReply = Type.Array(Type.Object({ service_request_id: Type.String(), service_notice: Nullable(Type.String()), account_id: Nullable(Type.String()), token: Type.String() }))

/** Spec XML roots of each answer. */
function send(reply: FastifyReply, format: Format, root: string, body: unknown, status = 200): FastifyReply {
  reply.code(status)
  if (format === 'xml') return reply.type('text/xml; charset=utf-8').send(toXml(root, body))
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(body))
}

function formatOf(req: FastifyRequest): Format {
  return /\.xml(\?|$)/.test(req.url) ? 'xml' : 'json'
}

function fail(status: number, description: string): AppError {
  return new AppError(status, 'open311', description)
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : undefined)

const routes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(async (plain) => {
    const o311 = plain.withTypeProvider<TypeBoxTypeProvider>()
    // The spec's POST is a form; parse it here only.
    o311.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
      const out: Record<string, string> = {}
      for (const [k, v] of new URLSearchParams(body as string)) out[k] = v
      done(null, out)
    })
    o311.setErrorHandler((err: FastifyError, req, reply) => {
      const status = err instanceof AppError ? err.statusCode : err.validation ? 400 : err.statusCode && err.statusCode < 500 ? err.statusCode : 500
      if (status >= 500) req.log.error({ err }, 'open311 error')
      const description = status >= 500 ? 'internal error; it has been logged' : err.message
      return send(reply, formatOf(req), 'errors', [{ code: status, description }], status)
    })

    const base = (req: FastifyRequest): string => `${req.protocol}://${req.host}`

    o311.get('/open311/v2/discovery.:format', {
      schema: {
        tags: ['open311'], summary: 'GeoReport v2 discovery', params: Type.Object({ format: Fmt }),
        response: { 200: Type.Object({ changeset: Type.String(), contact: Type.String(), key_service: Type.String(), endpoints: Type.Array(Type.Object({ specification: Type.String(), url: Type.String(), changeset: Type.String(), type: Type.String(), formats: Type.Array(Type.String()) })) }), ...errors },
      },
    }, async (req, reply) => {
      const changeset = beijingTime(new Date(Date.UTC(2025, 0, 1)))
      return send(reply, req.params.format, 'discovery', {
        changeset,
        contact: '朝阳区网格化服务管理中心 96105',
        key_service: 'an api_key is a wangge bearer token; ask the district centre for an account',
        endpoints: [{ specification: 'http://wiki.open311.org/GeoReport_v2', url: `${base(req)}/open311/v2`, changeset, type: 'production', formats: ['application/json', 'text/xml'] }],
      })
    })

    o311.get('/open311/v2/services.:format', {
      schema: { tags: ['open311'], summary: 'Service list: the matter types (事项) of the standard\'s level', params: Type.Object({ format: Fmt }), querystring: Type.Object({ jurisdiction_id: Type.Optional(Type.String()) }), response: { 200: Type.Array(ServiceSchema), ...errors } },
    }, async (req, reply) => send(reply, req.params.format, 'services', services(app.caseConfig.current())))

    o311.get('/open311/v2/services/:service_code.:format', {
      schema: {
        tags: ['open311'], summary: 'Service definition: attributes (finer type, component ID, CRS)',
        params: Type.Object({ service_code: Type.String({ maxLength: 32 }), format: Fmt }), querystring: Type.Object({ jurisdiction_id: Type.Optional(Type.String()) }),
        response: { 200: Type.Object({ service_code: Type.String(), attributes: Type.Array(AttributeSchema) }), ...errors },
      },
    }, async (req, reply) => {
      const def = serviceDefinition(app.caseConfig.current(), req.params.service_code)
      if (!def) throw fail(404, `service_code ${req.params.service_code} not found`)
      return send(reply, req.params.format, 'service_definition', def)
    })

    o311.post('/open311/v2/requests.:format', {
      schema: {
        tags: ['open311'], summary: 'Create a service request (api_key required)',
        description: 'Fields: api_key, service_code, lat, long (WGS84 unless attribute[crs]), address_string, description, media_url (a /api/photos/<id> URL), '
          + 'email, first_name, last_name, phone, device_id, account_id, attribute[subtype], attribute[facility_id], attribute[crs]. An Idempotency-Key header makes retries safe.',
        params: Type.Object({ format: Fmt }),
        body: Type.Record(Type.String(), Type.Unknown()),
        response: { 200: PostReply, 201: PostReply, ...errors },
      },
    }, async (req, reply) => {
      const f = req.body
      const query = req.query as Record<string, unknown>
      const apiKey = str(f.api_key) ?? str(query.api_key)
      if (!apiKey) throw fail(403, 'api_key is required')
      const actor = await app.authenticate(apiKey)
      if (!actor || actor.role === 'system') throw fail(403, 'api_key is not valid')
      if (!REPORT_CHANNELS[actor.role].includes('open311')) throw fail(403, `a ${actor.role} does not report through Open311`)
      const code = str(f.service_code)
      if (!code) throw fail(400, 'service_code is required')
      const config = app.caseConfig.current()
      const std = config.matter(code)
      if (!std || std.level !== 2) throw fail(404, `service_code ${code} not found`)
      const subtype = str(f['attribute[subtype]'])
      if (subtype && !subtype.startsWith(code)) throw fail(400, `attribute[subtype] ${subtype} is not a type of ${code}`)
      const lat = str(f.lat)
      const lon = str(f.long)
      const address = str(f.address_string)
      if ((lat === undefined) !== (lon === undefined)) throw fail(400, 'lat and long go together')
      if (lat === undefined && !address) throw fail(400, 'a location is required: lat and long, or address_string')
      if (lat !== undefined && !(Number.isFinite(Number(lat)) && Number.isFinite(Number(lon)))) throw fail(400, 'lat and long must be numbers')
      const crs = (str(f['attribute[crs]']) ?? 'wgs84').toLowerCase()
      if (!['wgs84', 'gcj02', 'bd09'].includes(crs)) throw fail(400, 'attribute[crs] is wgs84, gcj02 or bd09')
      const media = str(f.media_url)
      const photo = media ? /\/api\/photos\/([0-9a-f]{64})$/.exec(media)?.[1] : undefined
      if (media && !(photo && PHOTO_ID.test(photo))) throw fail(400, 'media_url must be a photo uploaded to this service (/api/photos/<id>)')
      const facility = str(f['attribute[facility_id]'])
      const name = [str(f.last_name), str(f.first_name)].filter(Boolean).join('') || undefined
      const r = await app.cases.intake(actor, {
        matter: subtype ?? code,
        description: str(f.description) ?? std.name,
        channel: 'open311',
        point: lat !== undefined ? { lon: Number(lon), lat: Number(lat), crs: crs as Crs } : undefined,
        address: address,
        photos: photo ? [photo] : undefined,
        facility_id: facility,
        contact: name || f.phone || f.email ? { name, phone: str(f.phone), email: str(f.email) } : undefined,
      }, str(req.headers['idempotency-key']) ?? null).catch((err: unknown) => {
        // The spec's clients read `description`; keep our machine code in it.
        if (err instanceof AppError) throw fail(err.statusCode, `${err.code}: ${err.message}`)
        throw err
      })
      const body = [{
        service_request_id: String(r.case.id),
        service_notice: r.linked ? r.message : `预计 ${r.case.stages.accept.due_at ? beijingTime(new Date(r.case.stages.accept.due_at)) : ''} 前受理`,
        account_id: str(f.account_id) ?? null,
        token: String(r.report_id),
      }]
      return send(reply, req.params.format, 'service_requests', body, r.status)
    })

    const listRequests = async (rows: CaseRow[], req: FastifyRequest): Promise<unknown[]> => {
      const photos = await app.cases.queries.firstPhotos(rows.map((r) => r.id))
      const config = app.caseConfig.current()
      return rows.map((r) => requestOf(r, config, photos.get(r.id), base(req)))
    }

    o311.get('/open311/v2/requests.:format', {
      schema: {
        tags: ['open311'], summary: 'Service requests: by service_request_id (comma list; overrides the rest), service_code, start_date, end_date, status, bbox',
        description: 'Without dates, the last 90 days; at most 1,000 (limit). Public: no reporter details are given.',
        params: Type.Object({ format: Fmt }),
        querystring: Type.Object({
          jurisdiction_id: Type.Optional(Type.String()), service_request_id: Type.Optional(Type.String({ maxLength: 2000 })),
          service_code: Type.Optional(Type.String({ maxLength: 400 })), start_date: Type.Optional(Type.String({ format: 'date-time' })),
          end_date: Type.Optional(Type.String({ format: 'date-time' })), status: Type.Optional(Type.String({ maxLength: 20 })),
          bbox: Type.Optional(Type.String({ maxLength: 200 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        }),
        response: { 200: Type.Array(RequestSchema), ...errors },
      },
    }, async (req, reply) => {
      const q = req.query
      let rows: CaseRow[]
      if (q.service_request_id) {
        const ids = q.service_request_id.split(',').map((s) => Number(s.trim()))
        if (ids.some((n) => !Number.isInteger(n) || n < 1)) throw fail(400, 'service_request_id is a comma-separated list of ids')
        rows = await app.cases.queries.byIds(ids.slice(0, 1000), { kind: 'all' })
      } else {
        const statuses = q.status ? q.status.split(',').map((s) => s.trim()) : []
        if (statuses.some((s) => s !== 'open' && s !== 'closed')) throw fail(400, 'status is open, closed or both')
        const now = app.cases.now()
        const end = q.end_date ? new Date(q.end_date) : now
        const start = q.start_date ? new Date(q.start_date) : new Date(end.getTime() - 90 * 86_400_000)
        const codes = q.service_code ? q.service_code.split(',').map((s) => s.trim()) : [undefined]
        if (codes.length > 1) throw fail(400, 'one service_code at a time')
        let bbox: [number, number, number, number] | undefined
        try {
          bbox = q.bbox === undefined ? undefined : parseBbox(q.bbox)
        } catch (err) {
          throw fail(400, (err as Error).message)
        }
        rows = await app.cases.queries.list({ kind: 'all' }, {
          open: statuses.length === 1 ? statuses[0] === 'open' : undefined, matter: codes[0], bbox,
          from: start, to: new Date(end.getTime() + 1), limit: q.limit ?? 1000, offset: 0,
        }, now)
      }
      return send(reply, req.params.format, 'service_requests', await listRequests(rows, req))
    })

    o311.get('/open311/v2/requests/:service_request_id.:format', {
      schema: {
        tags: ['open311'], summary: 'One service request (an array of one, as the spec)',
        params: Type.Object({ service_request_id: Type.Integer({ minimum: 1 }), format: Fmt }), querystring: Type.Object({ jurisdiction_id: Type.Optional(Type.String()) }),
        response: { 200: Type.Array(RequestSchema), ...errors },
      },
    }, async (req, reply) => {
      const rows = await app.cases.queries.byIds([req.params.service_request_id], { kind: 'all' })
      if (!rows.length) throw fail(404, `service_request_id ${req.params.service_request_id} not found`)
      return send(reply, req.params.format, 'service_requests', await listRequests(rows, req))
    })

    o311.get('/open311/v2/tokens/:token.:format', {
      schema: {
        tags: ['open311'], summary: 'The service request a token (from POST) belongs to',
        params: Type.Object({ token: Type.Integer({ minimum: 1 }), format: Fmt }), querystring: Type.Object({ jurisdiction_id: Type.Optional(Type.String()) }),
        response: { 200: Type.Array(Type.Object({ service_request_id: Type.String(), token: Type.String() })), ...errors },
      },
    }, async (req, reply) => {
      const caseId = await app.cases.queries.caseOfReport(req.params.token)
      if (caseId === null) throw fail(404, `token ${req.params.token} not found`)
      return send(reply, req.params.format, 'service_requests', [{ service_request_id: String(caseId), token: String(req.params.token) }])
    })
  })
}

export default routes
