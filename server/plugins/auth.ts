/**
 * Bearer tokens: `Authorization: Bearer wg_…` names a user; the request then
 * carries `req.actor` (null without a header). A header with an unknown or
 * revoked token is 401 on every route, public or not. Routes say who may call
 * them with `preHandler: app.requireRole('planner', 'admin')`.
 *
 * Tokens are looked up by their SHA-256 and remembered for 30 s, so a busy
 * client costs one query per half minute; a revoked token stops within that.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { AppError } from '../errors.ts'
import { hashToken, UserRepository, type UserRow } from '../repositories/case-users.ts'
import type { Actor, Role } from '../cases/roles.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user, or null. */
    actor: Actor | null
  }
  interface FastifyInstance {
    /** A preHandler admitting only these roles: 401 without a token, 403 with another role. */
    requireRole(...roles: Role[]): preHandlerAsyncHookHandler
    /** The user a token belongs to (Open311's api_key), or null. */
    authenticate(token: string): Promise<Actor | null>
    /** Forgets remembered tokens (after a user or token changed). */
    forgetTokens(): void
    users: UserRepository
  }
}

export interface AuthOptions {
  /** How long a looked-up token is trusted, ms. 30 s: revocation takes effect within it. */
  cacheMs?: number
  /** Most tokens remembered; the oldest go first. */
  cacheSize?: number
}

/**
 * The roles each guard made by `requireRole` admits, so the doors plugin can
 * read a route's policy and check it before the body is parsed or validated.
 */
const guardRoles = new WeakMap<object, readonly Role[]>()

/** The roles a preHandler made by `app.requireRole` admits; undefined for any other function. */
export function rolesOfGuard(fn: unknown): readonly Role[] | undefined {
  return typeof fn === 'function' ? guardRoles.get(fn) : undefined
}

/** 403 forbidden_role unless the actor has one of `roles`; 401 without one. */
export function checkRole(req: FastifyRequest, roles: readonly Role[]): void {
  const actor = requireActor(req)
  if (actor.role === 'system' || !roles.includes(actor.role)) {
    throw new AppError(403, 'forbidden_role', `this is for ${roles.join(', ')}; you are ${actor.role}`, { role: actor.role, allowed_roles: roles })
  }
}

export function actorOf(u: UserRow): Actor {
  return { userId: u.id, name: u.name, role: u.role, org: u.org }
}

export function requireActor(req: FastifyRequest): Actor {
  if (!req.actor) throw new AppError(401, 'unauthenticated', 'sign in: send Authorization: Bearer <token>')
  return req.actor
}

export default fp(async function auth(app: FastifyInstance, opts: AuthOptions) {
  const cacheMs = opts.cacheMs ?? 30_000
  const cacheSize = opts.cacheSize ?? 10_000
  const users = new UserRepository(app.db)
  const cache = new Map<string, { actor: Actor | null; until: number }>()

  async function authenticate(token: string): Promise<Actor | null> {
    const key = hashToken(token)
    const k = key.toString('hex')
    const hit = cache.get(k)
    if (hit && hit.until > Date.now()) return hit.actor
    const u = await users.byTokenHash(key)
    const actor = u ? actorOf(u) : null
    if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string)
    cache.set(k, { actor, until: Date.now() + cacheMs })
    return actor
  }

  app.decorate('users', users)
  app.decorate('authenticate', authenticate)
  app.decorate('forgetTokens', () => cache.clear())
  app.decorateRequest('actor', null)
  app.addHook('onRequest', async (req) => {
    const header = req.headers.authorization
    if (header === undefined) return
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (!m) throw new AppError(401, 'invalid_token', 'Authorization must be "Bearer <token>"')
    const actor = await authenticate(m[1])
    if (!actor) throw new AppError(401, 'invalid_token', 'the token is unknown or was revoked')
    req.actor = actor
  })
  app.decorate('requireRole', (...roles: Role[]): preHandlerAsyncHookHandler => {
    const guard: preHandlerAsyncHookHandler = async (req) => { checkRole(req, roles) }
    guardRoles.set(guard, roles)
    return guard
  })
}, { name: 'auth', dependencies: ['database'] })
