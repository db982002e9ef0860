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
          cluster: Type.Object({
            mode: Type.Union([Type.Literal('listen'), Type.Literal('single')], { description: 'listen: PostgreSQL, this process hears the others\' changes; single: embedded database, one process' }),
            listener: Type.String({ description: 'off, connecting, listening, reconnecting or closed' }),
            application_name: Type.Union([Type.String(), Type.Null()], { description: 'of the LISTEN connection in pg_stat_activity' }),
            reconnects: Type.Integer(),
            notices: Type.Integer({ description: 'changes by other processes heard' }),
            refreshes: Type.Integer({ description: 'refreshes that found something changed' }),
            last_refresh: Type.Union([Type.Null(), Type.Object({ reason: Type.String(), at: Type.String({ format: 'date-time' }), changed: Type.Array(Type.String()) })]),
            versions: Type.Object({ grid: Type.Union([Type.Integer(), Type.Null()]), facilities: Type.Integer(), config: Type.Integer() }, { description: 'what this process holds' }),
          }),
        }),
        503: ErrorSchema,
      },
    },
  }, async (_req, reply) => {
    try {
      const [version, cells] = await Promise.all([app.grid.activeVersion(), app.grid.cellCount()])
      const f = app.facilities.current()
      const c = app.cluster.status()
      return {
        status: 'ok' as const, database: app.db.kind, grid_version: version, cells,
        facility_index: f.ready ? 'ready' as const : 'building' as const, facilities_indexed: f.index.size,
        cluster: {
          mode: c.mode, listener: c.listener, application_name: c.applicationName, reconnects: c.reconnects, notices: c.notices, refreshes: c.refreshes,
          last_refresh: c.lastRefresh && { reason: c.lastRefresh.reason, at: c.lastRefresh.at.toISOString(), changed: c.lastRefresh.changed },
          versions: { grid: app.geocoder.current()?.version ?? null, facilities: f.revision, config: app.caseConfig.current().settings.revision },
        },
      }
    } catch (err) {
      app.log.warn({ err }, 'health check: database unreachable')
      return reply.code(503).send({ error: { code: 'database_unavailable', message: 'the database did not answer' } })
    }
  })
}

export default routes
