/** Liveness and readiness: answers 503 when the database does not. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ErrorSchema } from '../schemas.ts'

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', {
    schema: {
      tags: ['ops'],
      summary: 'Health: database reachable, active grid version and cell count, and whether the in-memory facility index is in',
      response: {
        200: Type.Object({
          status: Type.Literal('ok'), database: Type.String(), grid_version: Type.Union([Type.Integer(), Type.Null()]), cells: Type.Integer(),
          facility_index: Type.Union([Type.Literal('ready'), Type.Literal('building')], { description: 'building: lookups are answered by PostGIS meanwhile' }),
          facilities_indexed: Type.Integer(),
        }),
        503: ErrorSchema,
      },
    },
  }, async (_req, reply) => {
    try {
      const [version, cells] = await Promise.all([app.grid.activeVersion(), app.grid.cellCount()])
      const f = app.facilities.current()
      return {
        status: 'ok' as const, database: app.db.kind, grid_version: version, cells,
        facility_index: f.ready ? 'ready' as const : 'building' as const, facilities_indexed: f.index.size,
      }
    } catch (err) {
      app.log.warn({ err }, 'health check: database unreachable')
      return reply.code(503).send({ error: { code: 'database_unavailable', message: 'the database did not answer' } })
    }
  })
}

export default routes
