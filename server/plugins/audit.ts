/**
 * Audit of every mutating request (POST, PUT, PATCH, DELETE) that reached a
 * route: who, role, route, target, status, time, request id — refusals too.
 *
 * Queued by an onResponse hook, after the answer has gone, rather than written
 * inside each action's transaction: one hook covers every route (including the
 * ones added later), refused attempts (401/403/409) are recorded although they
 * never open a transaction, and the caller does not wait for the insert. The
 * repository writes the queue in batches within 50 ms (one statement for many
 * requests) and on close. A crash before a batch is written loses its rows (at
 * most the last 50 ms); the actions' own records (case_events, grid_versions,
 * change sets) remain. A failed batch (the database is down) is logged and
 * tried again, never turned into an error.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AuditRepository } from '../repositories/audit.ts'

declare module 'fastify' {
  interface FastifyInstance {
    audit: AuditRepository
  }
  interface FastifyRequest {
    /** The id of what a mutating request created or touched, when the answer names one. */
    auditTarget: string | null
  }
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
/** Path parameters that name the target, in order of preference. */
const TARGET_PARAMS = ['id', 'code', 'day', 'service_request_id', 'token', 'layer']
/** Answers longer than this are not read for an id (imports answer with summaries). */
const MAX_SCAN = 64 * 1024

function paramTarget(req: FastifyRequest): string | null {
  const params = req.params
  if (params === null || typeof params !== 'object') return null
  const p = params as Record<string, unknown>
  for (const k of TARGET_PARAMS) {
    const v = p[k]
    if (typeof v === 'string' || typeof v === 'number') return String(v).slice(0, 200)
  }
  return null
}

/** The id in a created thing's answer: `{ id }`, `{ case: { id } }`, `{ user: { id } }`, `[{ service_request_id }]`. */
function bodyTarget(payload: string): string | null {
  let v: unknown
  try { v = JSON.parse(payload) } catch { return null }
  const pick = (o: unknown): string | null => {
    if (o === null || typeof o !== 'object') return null
    const r = o as Record<string, unknown>
    for (const k of ['id', 'service_request_id', 'code']) {
      if (typeof r[k] === 'string' || typeof r[k] === 'number') return String(r[k]).slice(0, 200)
    }
    return null
  }
  if (Array.isArray(v)) return pick(v[0])
  const direct = pick(v)
  if (direct !== null) return direct
  if (v !== null && typeof v === 'object') {
    for (const k of ['case', 'user', 'changeset', 'rule']) {
      const inner = pick((v as Record<string, unknown>)[k])
      if (inner !== null) return inner
    }
  }
  return null
}

export default fp(async function audit(app: FastifyInstance) {
  const repo = new AuditRepository(app.db, (err, rows, dropped) => {
    if (dropped) app.log.error({ err, dropped }, 'audit rows dropped: the database has been unreachable too long')
    else app.log.error({ err, rows }, 'audit rows not written yet; trying again')
  })
  app.decorate('audit', repo)
  app.addHook('onClose', async () => { await repo.flush() })
  app.decorateRequest('auditTarget', null)

  app.addHook('onSend', async (req, reply, payload) => {
    // A route that knows what it touched says so (intake: the case id); the answer is not parsed then.
    if (!MUTATING.has(req.method) || req.routeOptions.url === undefined || req.auditTarget !== null) return payload
    req.auditTarget = paramTarget(req)
    if (req.auditTarget === null && reply.statusCode < 300 && typeof payload === 'string' && payload.length <= MAX_SCAN) {
      req.auditTarget = bodyTarget(payload)
    }
    return payload
  })

  app.addHook('onResponse', async (req, reply) => {
    // Only requests that matched a route: a 404 for a path that does not exist has no route to audit.
    if (!MUTATING.has(req.method) || req.routeOptions.url === undefined) return
    const actor = req.actor
    repo.write({
        at: new Date(),
        requestId: String(req.id),
        userId: actor?.userId ?? null,
        userName: actor?.name ?? null,
        role: actor?.role ?? null,
        method: req.method,
        route: `${req.method} ${req.routeOptions.url}`,
        path: req.url.split('?')[0].slice(0, 1000),
        target: req.auditTarget ?? paramTarget(req),
        status: reply.statusCode,
        ip: req.ip ?? null,
        durationMs: reply.elapsedTime,
      })
  })
}, { name: 'audit', dependencies: ['database', 'auth'] })
