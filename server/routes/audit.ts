/** The audit log for administrators: GET /api/audit with filters, newest first, paged by id. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses } from '../schemas.ts'
import { authErrors } from './case-schemas.ts'

const Row = Type.Object({
  id: Type.Integer(), at: Type.String({ format: 'date-time' }), request_id: Type.String(),
  user_id: Type.Union([Type.Integer(), Type.Null()]), user_name: Type.Union([Type.String(), Type.Null()]), role: Type.Union([Type.String(), Type.Null()]),
  method: Type.String(), route: Type.String(), path: Type.String(), target: Type.Union([Type.String(), Type.Null()]),
  status: Type.Integer(), ip: Type.Union([Type.String(), Type.Null()]), duration_ms: Type.Integer(),
})

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/audit', {
    preHandler: app.requireRole('admin'),
    schema: {
      tags: ['users'],
      summary: 'Audit log: every POST/PUT/PATCH/DELETE that reached a route (refusals too), newest first',
      description: 'Filters combine with AND. Page with before = the smallest id of the previous page.',
      querystring: Type.Object({
        user: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
        role: Type.Optional(Type.String({ maxLength: 32 })),
        method: Type.Optional(Type.Union(['POST', 'PUT', 'PATCH', 'DELETE'].map((m) => Type.Literal(m)))),
        route: Type.Optional(Type.String({ maxLength: 300, description: 'route pattern, e.g. "POST /api/cases/:id/:action"' })),
        target: Type.Optional(Type.String({ maxLength: 200 })),
        status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
        status_class: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: '4 for every 4xx' })),
        from: Type.Optional(Type.String({ format: 'date-time' })),
        to: Type.Optional(Type.String({ format: 'date-time' })),
        before: Type.Optional(Type.Integer({ minimum: 1 })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(Row) }), ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const q = req.query
    const items = await app.audit.list({
      user: q.user, role: q.role, method: q.method, route: q.route, target: q.target, status: q.status, statusClass: q.status_class,
      from: q.from === undefined ? undefined : new Date(q.from), to: q.to === undefined ? undefined : new Date(q.to),
      before: q.before, limit: q.limit ?? 100,
    })
    return { items }
  })
}

export default routes
