/**
 * Base information (人地事物组织): the comprehensive query (综合查询) for a
 * cell, community, subdistrict or a drawn polygon, one record, and the import
 * of base records (GeoJSON points or CSV; all or nothing by default).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static, type TSchema } from 'typebox'
import { Code9, Code12, Code15, ErrorSchema, errorResponses } from '../schemas.ts'
import { AppError } from '../errors.ts'
import { requireActor } from '../plugins/auth.ts'
import { authErrors, literals } from './case-schemas.ts'
import { comprehensive, polygonArea, type Area } from '../base/query.ts'
import { IMPORT_ROLES, QUERY_ROLES } from '../base/access.ts'
import { BASE_KINDS, CRS_NAMES, readBaseCsv, readBaseGeoJSON, validateBase } from '../base/validate.ts'
import { importBaseRecords, reassignAfterGridChange } from '../repositories/base-records.ts'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const Counts = Type.Record(Type.String(), Type.Integer())
const Crs = literals(CRS_NAMES, { description: 'wgs84 (GPS), gcj02 (AMap, Tencent), bd09 (Baidu); default wgs84' })

const ListItem = Type.Object({
  id: Type.String(), kind: Type.String(), name: Type.String(), address: Nullable(Type.String()), lon: Type.Number(), lat: Type.Number(),
  use: Nullable(Type.String()), floors: Nullable(Type.Integer()), households: Nullable(Type.Integer()), pop_resident: Nullable(Type.Integer()),
  capacity: Nullable(Type.Integer()), uscc: Nullable(Type.String()), cell_code: Type.String(),
})
export const ComprehensiveSchema = Type.Object({
  area: Type.Object({
    kind: literals(['cell', 'community', 'subdistrict', 'polygon'] as const), code: Nullable(Type.String()), name: Nullable(Type.String()),
    area_m2: Type.Number(), cells: Type.Integer({ description: 'cells of the area; for a polygon, the cells it touches' }),
  }),
  counts: Type.Record(Type.String(), Type.Integer(), { description: `base records by kind: ${BASE_KINDS.join(', ')}` }),
  buildings: Type.Object({ count: Type.Integer(), floors_mean: Nullable(Type.Number()), by_use: Counts }),
  people: Type.Object({
    households: Type.Number(), registered: Type.Number({ description: '户籍人口' }), resident: Type.Number({ description: '常住人口' }),
    key_persons: Type.Object({ total: Type.Integer(), by_category: Counts }, { description: '重点人员 (elderly living alone, disabled, low income, special care): counts for every role' }),
    personal_data: literals(['names', 'counts'] as const, { description: 'names: `residents` lists named residents (command centre, admin); counts: other roles, `residents` is null' }),
    residents: Nullable(Type.Array(Type.Object({
      id: Type.Integer(), name: Type.String(), category: Type.String(), birth_year: Nullable(Type.Integer()), phone: Nullable(Type.String()),
      building_id: Type.String(), building_name: Nullable(Type.String()),
    }))),
  }),
  cases: Type.Object({
    window: Type.Object({ from: Type.String(), to: Type.String() }),
    reported_in_window: Type.Integer(), open: Type.Integer(), overdue: Type.Integer(),
    by_status: Type.Record(Type.String(), Type.Integer(), { description: 'cases open now or reported in the window, by status' }),
    open_items: Type.Array(Type.Object({
      id: Type.Integer(), matter_code: Type.String(), matter_name: Nullable(Type.String()), status: Type.String(), reported_at: Type.String(),
      due_at: Nullable(Type.String()), lon: Type.Number(), lat: Type.Number(), cell_code: Type.String(),
    }), { description: 'open cases, most urgent first (at most `limit`)' }),
  }),
  facilities: Type.Object({ total: Type.Integer(), by_major: Counts, by_status: Counts }),
  frontage_units: Type.Object({ count: Type.Integer(), length_m: Type.Number() }),
  lists: Type.Record(Type.String(), Type.Array(ListItem), { description: 'up to `limit` records of each kind, by name' }),
  ms: Type.Integer(),
})

const RecordSchema = Type.Object({ ...ListItem.properties, pop_registered: Nullable(Type.Integer()), building_id: Nullable(Type.String()), place_id: Nullable(Type.String()) })

const Window = {
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 500, default: 20, description: 'records listed per kind, and open cases listed' })),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'cases reported from (default: 30 days before `to`)' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'cases reported before (default: now)' })),
}

const ImportSummary = Type.Object({
  import_id: Type.Integer(), rows: Type.Integer(), inserted: Type.Integer(), updated: Type.Integer(), skipped: Type.Integer(),
  skipped_rows: Type.Array(Type.Object({ row: Nullable(Type.Integer()), index: Type.Optional(Type.Integer()), id: Nullable(Type.String()), field: Type.String(), error: Type.String(), reason: Type.String() })),
  ms: Type.Integer(),
})

const DAY = 86_400_000

const routes: FastifyPluginAsyncTypebox<{ bodyLimit?: number }> = async (app, opts) => {
  // Imports are large: the app's limit for them (WANGGE_BODY_LIMIT), not the 1 MiB default.
  const bodyLimit = opts.bodyLimit ?? 64 * 1024 * 1024
  if (!app.hasContentTypeParser('text/csv')) app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body))
  // A redraw or an import closes cells: what was in them gets the cell that covers it now. Also when
  // another process made the change (a CLI import runs no listeners): idempotent, under the base write lock.
  app.onGridChanged(async () => {
    const moved = await reassignAfterGridChange(app.db)
    if (moved.records || moved.frontage) app.log.info(moved, 'base records and frontage units moved to their new cells')
  })
  const now = (): Date => app.cases.now()
  const window = (q: { from?: string; to?: string }): { from: Date; to: Date } => {
    const to = q.to ? new Date(q.to) : now()
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * DAY)
    if (from >= to) throw new AppError(400, 'invalid_window', '`from` must be before `to`', { field: 'querystring.from' })
    return { from, to }
  }

  app.get('/api/base/query', {
    preHandler: app.requireRole(...QUERY_ROLES),
    schema: {
      tags: ['base'],
      summary: 'Comprehensive query (综合查询) of a cell, community or subdistrict: base records by kind, people, cases, components, frontage units',
      description: 'Name exactly one of cell, community, subdistrict. Membership is by the cell each thing was assigned to. Named residents only for command_centre and admin.',
      querystring: Type.Object({ cell: Type.Optional(Code15), community: Type.Optional(Code12), subdistrict: Type.Optional(Code9), ...Window }, { additionalProperties: false }),
      response: { 200: ComprehensiveSchema, ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const q = req.query
    const given = (['cell', 'community', 'subdistrict'] as const).filter((k) => q[k] !== undefined)
    if (given.length !== 1) throw new AppError(400, 'area_required', 'name exactly one of cell, community, subdistrict (or POST a polygon)', { field: 'querystring' })
    const kind = given[0]
    const area: Area = { kind, code: q[kind] as string }
    return comprehensive(app.db, area, { limit: q.limit ?? 20, ...window(q), now: now(), role: requireActor(req).role })
  })

  app.post('/api/base/query', {
    preHandler: app.requireRole(...QUERY_ROLES),
    schema: {
      tags: ['base'],
      summary: 'Comprehensive query (综合查询) of a drawn polygon: what its geometry intersects',
      body: Type.Object({
        polygon: Type.Unknown({ description: 'GeoJSON Polygon or MultiPolygon' }),
        crs: Type.Optional(Crs),
        ...Window,
      }, { additionalProperties: false }),
      response: { 200: ComprehensiveSchema, 422: ErrorSchema, ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const b = req.body
    const area: Area = { kind: 'polygon', geometry: polygonArea(b.polygon, b.crs ?? 'wgs84') }
    return comprehensive(app.db, area, { limit: b.limit ?? 20, ...window(b), now: now(), role: requireActor(req).role })
  })

  app.get('/api/base/records/:id', {
    preHandler: app.requireRole(...QUERY_ROLES),
    schema: {
      tags: ['base'],
      summary: 'One base record',
      params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }) }),
      response: { 200: RecordSchema, ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const r = (await app.db.query<Static<typeof RecordSchema>>(`SELECT id, kind, name, address, ST_X(geom) AS lon, ST_Y(geom) AS lat, use, floors, households,
        pop_registered, pop_resident, capacity, trim(uscc) AS uscc, trim(cell_code) AS cell_code, building_id, place_id FROM base_records WHERE id = $1`, [req.params.id])).rows[0]
    if (!r) throw new AppError(404, 'not_found', `base record ${req.params.id} not found`)
    return r
  })

  app.post('/api/base/import', {
    bodyLimit,
    preHandler: app.requireRole(...IMPORT_ROLES),
    schema: {
      tags: ['base'],
      summary: 'Import base records from GeoJSON points (application/geo+json, application/json) or CSV (text/csv); upsert by id',
      description: 'One transaction per file. By default a file with any bad row is rejected whole (422 invalid_base_records, every problem by row, field and reason) and nothing is written; '
        + 'skip_invalid=true imports the good rows and lists the rest. Fields (properties or CSV columns): id, kind (' + BASE_KINDS.join(', ') + '), name, address, lon, lat (CSV), '
        + 'use, floors, households, pop_registered, pop_resident (buildings only), uscc, building_id, capacity (pupils, beds, stalls).',
      querystring: Type.Object({ skip_invalid: Type.Optional(Type.Boolean({ default: false })), crs: Type.Optional(Crs) }, { additionalProperties: false }),
      body: Type.Unknown({ description: 'a FeatureCollection of points, or CSV text' }),
      response: { 201: ImportSummary, 415: ErrorSchema, 422: ErrorSchema, ...authErrors, ...errorResponses },
    },
    preValidation: async (req) => {
      if (!/^(application\/(geo\+)?json|text\/csv)\b/i.test(req.headers['content-type'] ?? '')) {
        throw new AppError(415, 'unsupported_media_type', 'send base records as application/geo+json, application/json or text/csv')
      }
    },
  }, async (req, reply) => {
    const csv = /^text\/csv\b/i.test(req.headers['content-type'] ?? '')
    const crs = req.query.crs ?? 'wgs84'
    const read = csv ? readBaseCsv(String(req.body)) : readBaseGeoJSON(req.body)
    const checked = validateBase(read.raws, { crs })
    const summary = await importBaseRecords(app.db, checked.rows, [...read.problems, ...checked.problems], read.raws.length, {
      source: 'api', format: csv ? 'csv' : 'geojson', crs, skipInvalid: req.query.skip_invalid ?? false,
    })
    return reply.code(201).send(summary)
  })
}

export default routes
