/** Import and export of a whole grid layout, and its versions. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ErrorSchema, GeoJSONFeatureCollection, errorResponses } from '../schemas.ts'
import { validateAndImport } from '../repositories/grid-import.ts'
import { sendText } from '../http.ts'
import { AppError, ErrorCode } from '../errors.ts'

export interface GridRoutesOptions {
  bodyLimit: number
}

const routes: FastifyPluginAsyncTypebox<GridRoutesOptions> = async (app, opts) => {
  app.post('/api/grids/import', {
    bodyLimit: opts.bodyLimit,
    preHandler: app.requireRole('planner', 'admin'),
    schema: {
      tags: ['grid'],
      summary: 'Import a grid (GeoJSON FeatureCollection of cells) as a new grid version',
      description: 'All or nothing: one transaction. Cells not in the file are retired (their codes are never reused). '
        + 'Every bad feature is reported with its index, code, field and reason. Coordinates are stored at 7 decimals.',
      body: Type.Unknown({ description: 'FeatureCollection; each feature a Polygon/MultiPolygon with properties code (15 digits), community_name, subdistrict_name, optional district_name and responsible_unit (18-char credit code)' }),
      response: {
        201: Type.Object({
          version: Type.Integer(), cells: Type.Integer(), added: Type.Integer(), changed: Type.Integer(),
          unchanged: Type.Integer(), retired: Type.Integer(), communities: Type.Integer(), subdistricts: Type.Integer(), ms: Type.Integer(),
        }),
        413: ErrorSchema,
        415: ErrorSchema,
        422: ErrorSchema,
        ...errorResponses,
      },
    },
    // Only JSON: a text/plain body would otherwise be parsed as a string and rejected less clearly.
    preValidation: async (req) => {
      if (!/^application\/(geo\+)?json\b/i.test(req.headers['content-type'] ?? '')) {
        throw new AppError(415, ErrorCode.unsupportedMediaType, 'send the grid as application/json or application/geo+json')
      }
    },
  }, async (req, reply) => {
    const summary = await validateAndImport(app.db, req.body, 'api')
    await app.gridChanged()
    return reply.code(201).send(summary)
  })

  app.get('/api/grids/export', {
    schema: {
      tags: ['grid'],
      summary: 'The active grid as GeoJSON (RFC 7946: WGS84, right-hand rule, 7 decimals), in the import format',
      response: { 200: GeoJSONFeatureCollection },
    },
  }, async (_req, reply) => {
    const body = await app.grid.exportGeoJSON()
    reply.header('content-disposition', 'attachment; filename="grid.geojson"')
    return sendText(reply, 'application/geo+json', body)
  })

  app.get('/api/grids/versions', {
    schema: {
      tags: ['grid'],
      summary: 'Grid layout versions, newest first',
      response: {
        200: Type.Array(Type.Object({
          id: Type.Integer(), created_at: Type.String({ format: 'date-time' }), effective_at: Type.String({ format: 'date-time' }),
          source: Type.String(), note: Type.Union([Type.String(), Type.Null()]), cell_count: Type.Integer(),
        })),
      },
    },
  }, async () => app.grid.versions())
}

export default routes
