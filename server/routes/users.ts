/** Users and their tokens (admin), and who the caller is (everyone signed in). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError, ErrorCode } from '../errors.ts'
import { errorResponses, ErrorSchema } from '../schemas.ts'
import { requireActor } from '../plugins/auth.ts'
import { newToken, type UserRow } from '../repositories/case-users.ts'
import { REPORT_CHANNELS, ROLE_NAMES, type Role } from '../cases/roles.ts'
import { RoleSchema, Uscc, authErrors } from './case-schemas.ts'

const UserSchema = Type.Object({
  id: Type.Integer(), name: Type.String(), role: RoleSchema, role_name: Type.String(),
  org: Type.Union([Type.String(), Type.Null()]), org_name: Type.Union([Type.String(), Type.Null()]),
  active: Type.Boolean(), created_at: Type.String({ format: 'date-time' }),
})

const userOut = (u: UserRow) => ({ ...u, role_name: ROLE_NAMES[u.role], created_at: new Date(u.created_at).toISOString() })

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const admin = app.requireRole('admin')

  app.get('/api/me', {
    schema: {
      tags: ['users'],
      summary: 'The signed-in user, with the channels they may report through',
      response: { 200: Type.Intersect([UserSchema, Type.Object({ report_channels: Type.Array(Type.String()) })]), ...authErrors },
    },
  }, async (req) => {
    const actor = requireActor(req)
    const u = actor.userId === null ? null : await app.users.get(actor.userId)
    if (!u) throw new AppError(401, 'invalid_token', 'the user no longer exists')
    return { ...userOut(u), report_channels: [...REPORT_CHANNELS[u.role]] }
  })

  app.get('/api/users', {
    preHandler: admin,
    schema: {
      tags: ['users'],
      summary: 'Users, by role or organisation',
      querystring: Type.Object({ role: Type.Optional(RoleSchema), org: Type.Optional(Uscc) }, { additionalProperties: false }),
      response: { 200: Type.Array(UserSchema), ...authErrors, ...errorResponses },
    },
  }, async (req) => (await app.users.list({ role: req.query.role as Role | undefined, org: req.query.org })).map(userOut))

  app.post('/api/users', {
    preHandler: admin,
    schema: {
      tags: ['users'],
      summary: 'Create a user; the answer holds their bearer token, shown this once (only its hash is kept)',
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), role: RoleSchema, org: Type.Optional(Uscc) }, { additionalProperties: false }),
      response: { 201: Type.Object({ user: UserSchema, token: Type.String() }), 422: ErrorSchema, ...authErrors, ...errorResponses },
    },
  }, async (req, reply) => {
    const role = req.body.role as Role
    const org = req.body.org ?? null
    if (role === 'handler' && !org) throw new AppError(400, 'org_required', 'a handler belongs to an organisation', { field: 'body.org' })
    if (org && !(await app.users.orgExists(org))) throw new AppError(422, 'unknown_org', `no organisation ${org}`, { field: 'body.org' })
    const token = newToken()
    const user = await app.users.create({ name: req.body.name, role, org, token })
    return reply.code(201).send({ user: userOut(user), token })
  })

  app.post('/api/users/:id/token', {
    preHandler: admin,
    schema: {
      tags: ['users'],
      summary: 'Issue a new token for a user (the old one stops working at once)',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      response: { 200: Type.Object({ token: Type.String() }), ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const token = newToken()
    if (!(await app.users.setToken(req.params.id, token))) throw new AppError(404, ErrorCode.notFound, `user ${req.params.id} not found`)
    app.forgetTokens()
    return { token }
  })

  app.patch('/api/users/:id', {
    preHandler: admin,
    schema: {
      tags: ['users'],
      summary: 'Activate or deactivate a user',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      body: Type.Object({ active: Type.Boolean() }, { additionalProperties: false }),
      response: { 200: UserSchema, ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    if (!(await app.users.setActive(req.params.id, req.body.active))) throw new AppError(404, ErrorCode.notFound, `user ${req.params.id} not found`)
    app.forgetTokens()
    return userOut((await app.users.get(req.params.id)) as UserRow)
  })
}

export default routes
