/**
 * The doors: who may open which route, checked before anything else about the
 * request is read; security headers on every answer; CORS only for the
 * configured origins.
 *
 * Closed by default. A route is public only when listed in PUBLIC below (or
 * under a public prefix: the web client, the API documentation); every other
 * route needs a signed-in user (401 before its body is parsed or validated),
 * and where its preHandler is `app.requireRole(...)` that check runs here too,
 * in onRequest, so a caller without the role gets 403 without learning what a
 * valid body would look like. Handlers keep their own finer checks (a handler
 * sees only its organisation's cases).
 */
import fp from 'fastify-plugin'
import cors from '@fastify/cors'
import type { FastifyInstance, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify'
import { checkRole, requireActor, rolesOfGuard } from './auth.ts'
import { REPORT_CHANNELS, ROLES, type Role } from '../cases/roles.ts'

/** Who may open a route: everyone, any signed-in user, or these roles. */
export type Access = 'public' | 'signed-in' | readonly Role[]

export interface DoorEntry {
  method: string
  url: string
  access: Access
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route with its access, in registration order (what the door test walks). */
    doors: DoorEntry[]
  }
}

/**
 * Routes anyone may call, and why. Reads of the map's reference data are public
 * because the web client and the phone app show the map before anyone signs in
 * (web/src/api.ts sends a token only where one is needed); all writes but the
 * two that authenticate in their body are closed.
 */
export const PUBLIC: Readonly<Record<string, string>> = {
  'GET /healthz': 'monitoring and load balancers',
  'GET /api/public/challenge': 'how a phone without an account gets one (signed, single-use check)',
  'POST /api/public/guest': 'the same; rate-limited per address',
  'GET /api/districts': 'map reference data',
  'GET /api/subdistricts': 'map reference data',
  'GET /api/communities': 'map reference data',
  'GET /api/cells': 'map reference data',
  'GET /api/cells/:code': 'map reference data',
  'GET /api/geocode': 'point → cell, what the phone app asks before signing in',
  'POST /api/geocode/batch': 'the same for many points (read-only; bounded by the body limit)',
  'GET /api/grids/versions': 'published grid versions',
  'GET /api/grids/export': 'the published grid (the tiles carry the same)',
  'GET /api/grids/diff': 'published grid versions compared',
  'GET /api/grids/stats': 'published grid statistics',
  'GET /api/grids/history/cells': 'published grid history',
  'GET /api/matter-types': 'the categories a report can have',
  'GET /api/matter-picker': 'the same, for the phone app',
  'GET /api/component-classes': 'GB/T 47678.5 classes',
  'GET /api/organisations': 'owners and maintainers shown on facility cards',
  'GET /api/service-kinds': 'kinds of service outlets',
  'GET /api/service-outlets': 'service outlets on the map',
  'GET /api/facilities': 'facility layer of the map',
  'GET /api/facilities/:id': 'facility card',
  'GET /api/facilities/nearest': 'the phone app\'s "this power cover"',
  'GET /api/facilities/owner-at': 'facility ownership at a point',
  'GET /api/facilities/within': 'facility layer of the map',
  'GET /api/facilities/in-cell/:code': 'facility layer of the map',
  'GET /api/facilities/counts': 'facility layer of the map',
  'GET /api/facilities/export': 'the same data as the layer, as a file',
  'GET /tiles': 'vector tiles of the map',
  'GET /tiles/:layer.json': 'vector tiles of the map',
  'GET /tiles/:layer/:z/:x/:y.mvt': 'vector tiles of the map',
  'GET /open311/v2/discovery.:format': 'Open311 GeoReport v2 is public by specification',
  'GET /open311/v2/services.:format': 'Open311',
  'GET /open311/v2/services/:service_code.:format': 'Open311',
  'GET /open311/v2/requests.:format': 'Open311 (public fields only)',
  'GET /open311/v2/requests/:service_request_id.:format': 'Open311 (public fields only)',
  'GET /open311/v2/tokens/:token.:format': 'Open311',
  'POST /open311/v2/requests.:format': 'Open311: authenticates with api_key in the body (403 without)',
  'POST /open311/v2/requests/:id/rating.:format': 'Open311: authenticates with api_key in the body (403 without)',
}

/** GET paths public as a whole: the web client's files (`/`, `/*`, the phone app under `/m/`) and the API documentation. */
export const PUBLIC_GET_PREFIXES = ['/docs', '/m/']
export const PUBLIC_GET_PATHS = ['/', '/*']

/**
 * Routes whose handler admits only some roles after validating the body;
 * checked here first so the answer does not depend on the body.
 */
const HANDLER_ROLES: Readonly<Record<string, readonly Role[]>> = {
  'POST /api/cases': ROLES.filter((r) => REPORT_CHANNELS[r].length > 0),
}

function isPublic(method: string, url: string): boolean {
  if (PUBLIC[`${method} ${url}`] !== undefined) return true
  // Preflights: @fastify/cors answers them in its own hook for configured origins; the rest are 404.
  if (method === 'OPTIONS') return true
  if (method !== 'GET') return false
  return PUBLIC_GET_PATHS.includes(url) || PUBLIC_GET_PREFIXES.some((p) => url.startsWith(p))
}

function accessOf(route: RouteOptions, method: string): Access {
  if (isPublic(method, route.url)) return 'public'
  const pre = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler]
  for (const fn of pre) {
    const roles = rolesOfGuard(fn)
    if (roles) return roles
  }
  return HANDLER_ROLES[`${method} ${route.url}`] ?? 'signed-in'
}

/**
 * Content-Security-Policy of the web client: its own scripts, workers from blob: (maplibre), its
 * own tiles; nothing remote but the base-map tile servers an operator configured
 * (WANGGE_BASEMAP_ORIGINS), for images and fetches only.
 */
export function cspFor(basemapOrigins: readonly string[] = []): string {
  const extra = basemapOrigins.length ? ` ${basemapOrigins.join(' ')}` : ''
  return CSP.replace("img-src 'self' data: blob:", `img-src 'self' data: blob:${extra}`).replace("connect-src 'self' data: blob:", `connect-src 'self' data: blob:${extra}`)
}

export const CSP = [
  "default-src 'self'",
  "script-src 'self' blob:",
  "worker-src 'self' blob:",
  "child-src 'self' blob:",
  // maplibre and deck.gl set element styles; no remote stylesheets.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self' data: blob:",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/** Headers on every answer (errors and 404s included). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(self), geolocation=(self), microphone=()',
  'x-permitted-cross-domain-policies': 'none',
}

export interface DoorsOptions {
  /** Origins allowed to call the API from another site; empty: same origin only. */
  corsOrigins: readonly string[]
  /** Base-map tile servers the web client may load from (CSP img-src, connect-src). */
  basemapOrigins?: readonly string[]
}

export default fp(async function doors(app: FastifyInstance, opts: DoorsOptions) {
  const entries: DoorEntry[] = []
  app.decorate('doors', entries)

  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const method of methods) {
      // A HEAD route (Fastify's twin of a GET) has the GET's door.
      const access = accessOf(route, method === 'HEAD' ? 'GET' : method)
      if (method !== 'HEAD' && method !== 'OPTIONS') entries.push({ method, url: route.url, access })
      if (access === 'public') continue
      const check: onRequestHookHandler = async (req: FastifyRequest) => {
        if (access === 'signed-in') requireActor(req)
        else checkRole(req, access)
      }
      const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]
      route.onRequest = [check, ...existing]
    }
  })

  const headers = { ...SECURITY_HEADERS, 'content-security-policy': cspFor(opts.basemapOrigins) }
  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-request-id', req.id)
    for (const [k, v] of Object.entries(headers)) {
      if (!reply.hasHeader(k)) reply.header(k, v)
    }
    return payload
  })

  // Without configured origins no CORS header is ever sent: browsers then keep other sites' pages from reading answers.
  await app.register(cors, {
    origin: opts.corsOrigins.length > 0 ? [...opts.corsOrigins] : false,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'if-none-match'],
    exposedHeaders: ['retry-after', 'etag', 'x-request-id'],
    maxAge: 600,
  })
}, { name: 'doors', dependencies: ['auth'] })
