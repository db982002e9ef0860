/** Liveness and readiness: answers 503 when the database does not. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ErrorSchema } from '../schemas.ts'

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', {
    schema: {
      tags: ['ops'],
      summary: 'Health: database reachable, active grid version and cell count',
      response: {
        200: Type.Object({ status: Type.Literal('ok'), database: Type.String(), grid_version: Type.Union([Type.Integer(), Type.Null()]), cells: Type.Integer() }),
        503: ErrorSchema,
      },
    },
  }, async (_req, reply) => {
    try {
      const [version, cells] = await Promise.all([app.grid.activeVersion(), app.grid.cellCount()])
      return { status: 'ok' as const, database: app.db.kind, grid_version: version, cells }
    } catch (err) {
      app.log.warn({ err }, 'health check: database unreachable')
      return reply.code(503).send({ error: { code: 'database_unavailable', message: 'the database did not answer' } })
    }
  })
}

export default routes
