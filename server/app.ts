/**
 * The Fastify application, built as a plugin so tests can start it on any
 * database without a listening socket. server/main.ts runs it as a process.
 */
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config.ts'
import type { Database } from './db/types.ts'
import errors from './plugins/errors.ts'
import database from './plugins/database.ts'
import repositories from './plugins/repositories.ts'
import docs from './plugins/swagger.ts'
import healthRoutes from './routes/health.ts'
import gridRoutes from './routes/grid.ts'
import cellRoutes from './routes/cells.ts'
import gridsRoutes from './routes/grids.ts'
import facilities from './plugins/facilities.ts'
import geocoderPlugin from './plugins/geocoder.ts'
import geocodeRoutes from './routes/geocode.ts'
import auth from './plugins/auth.ts'
import doors from './plugins/doors.ts'
import audit from './plugins/audit.ts'
import auditRoutes from './routes/audit.ts'
import rateLimit from '@fastify/rate-limit'
import { AppError } from './errors.ts'
import publicRoutes, { mobileAppRoutes } from './routes/public.ts'
import casesPlugin from './plugins/cases.ts'
import caseRoutes from './routes/cases.ts'
import caseConfigRoutes from './routes/case-config.ts'
import photoRoutes, { publishRoutes } from './routes/photos.ts'
import userRoutes from './routes/users.ts'
import open311Routes from './routes/open311.ts'
import changesetRoutes from './routes/changesets.ts'
import tileRoutes from './routes/tiles.ts'
import analysisRoutes from './routes/analysis.ts'
import baseRoutes from './routes/base.ts'
import frontageRoutes from './routes/frontage.ts'
import indicatorRoutes from './routes/indicators.ts'
import evaluationRoutes from './routes/evaluation.ts'
import cluster from './plugins/cluster.ts'
import { databaseRateLimitStore } from './db/rate-limit-store.ts'

/** What a grid-change listener is told. */
export interface GridChange {
  /**
   * Another process made the change and has done its follow-up writes (server/plugins/cluster.ts):
   * refresh what this process holds, write nothing that the writer's own listeners write.
   */
  remote: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Called after the grid changed: refreshes what is derived from it (geocoder index, caches). */
    gridChanged(change?: Partial<GridChange>): Promise<void>
  }
}

export interface AppOptions {
  config: Config
  /** An open database to use instead of opening one from config (tests). */
  db?: Database
  /** Build the facility index after start instead of before it (npm start; tests want it built). */
  backgroundIndexes?: boolean
}

const gridHooks = fp(async function gridHooks(app: FastifyInstance) {
  const listeners: ((change: GridChange) => Promise<void>)[] = []
  app.decorate('gridChanged', async (change: Partial<GridChange> = {}) => {
    const c: GridChange = { remote: change.remote ?? false }
    for (const l of listeners) await l(c)
  })
  app.decorate('onGridChanged', (fn: (change: GridChange) => Promise<void>) => { listeners.push(fn) })
}, { name: 'grid-hooks' })

declare module 'fastify' {
  interface FastifyInstance {
    onGridChanged(fn: (change: GridChange) => Promise<void>): void
  }
}

/**
 * Registers everything: external plugins, services, then routes. Wrapped with
 * fastify-plugin so what it decorates (db, grid, geocoder…) is visible to the caller.
 */
export const app = fp(async function wangge(instance: FastifyInstance, opts: AppOptions): Promise<void> {
  await instance.register(errors)
  await instance.register(database, { config: opts.config, db: opts.db })
  await instance.register(gridHooks)
  await instance.register(repositories)
  await instance.register(auth)
  // Before any route: closes every non-public route, adds security headers and CORS, audits writes.
  await instance.register(doors, { corsOrigins: opts.config.corsOrigins, basemapOrigins: opts.config.basemapOrigins })
  await instance.register(audit)
  // Limits only where a route asks (config.rateLimit): public reporting and guests' intake. The counters
  // are in the database, so every process on it counts against the same limits (migration 014); if the
  // database cannot count, the request goes on and meets the database's own error where it writes.
  await instance.register(rateLimit, {
    global: false,
    store: databaseRateLimitStore(instance.db),
    skipOnError: true,
    errorResponseBuilder: (_req, ctx) => new AppError(429, 'rate_limited', `too many requests: try again in ${ctx.after}`, { retry_after_s: Math.ceil(ctx.ttl / 1000), limit: ctx.max }),
  })
  await instance.register(geocoderPlugin, { toleranceM: opts.config.snapToleranceM, warmLater: opts.backgroundIndexes })
  await instance.register(docs)
  await instance.register(healthRoutes)
  await instance.register(gridRoutes)
  await instance.register(cellRoutes)
  await instance.register(gridsRoutes, { bodyLimit: opts.config.bodyLimit })
  await instance.register(facilities, { bodyLimit: opts.config.bodyLimit, buildInBackground: opts.backgroundIndexes })
  await instance.register(geocodeRoutes)
  await instance.register(casesPlugin)
  await instance.register(caseRoutes, { residentReportsPerHour: opts.config.residentReportsPerHour })
  await instance.register(publicRoutes, { guestsPerHour: opts.config.guestsPerHour, secret: opts.config.secret })
  await instance.register(mobileAppRoutes)
  await instance.register(caseConfigRoutes)
  await instance.register(photoRoutes)
  await instance.register(publishRoutes)
  await instance.register(userRoutes)
  await instance.register(open311Routes)
  await instance.register(changesetRoutes)
  await instance.register(tileRoutes)
  await instance.register(analysisRoutes)
  await instance.register(baseRoutes, { bodyLimit: opts.config.bodyLimit })
  await instance.register(frontageRoutes)
  await instance.register(indicatorRoutes)
  await instance.register(evaluationRoutes, { bodyLimit: opts.config.bodyLimit })
  await instance.register(auditRoutes)
  // Last: refreshes what the plugins above hold when another process changes the data (LISTEN/NOTIFY on PostgreSQL).
  await instance.register(cluster, { pollSeconds: opts.config.changesPollSeconds, retryMs: opts.config.listenRetryMs })
  // The web client at /; API routes keep precedence (server/plugins/static.ts).
  await instance.register(import('./plugins/static.ts'))
}, { name: 'wangge' })

/** Fastify options: logging, and JSON parsing that accepts GeoJSON's media type. */
export function serverOptions(config: Config, logger: FastifyServerOptions['logger'] = { level: config.logLevel }): FastifyServerOptions {
  return {
    logger,
    bodyLimit: 1024 * 1024,
    // Slow clients: the whole request must arrive within requestTimeout; a silent socket closes after connectionTimeout.
    requestTimeout: config.requestTimeoutMs,
    // Request ids unique across processes and restarts (the audit log and the log refer to them); a client's own is not trusted.
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    connectionTimeout: config.connectionTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    // Our own server so node checks those timeouts every 5 s (30 s by default: a slow client would hold a socket that much past its limit).
    serverFactory: (handler) => {
      const server = createServer({
        requestTimeout: config.requestTimeoutMs,
        // Headers must be in well before the body (node requires headersTimeout ≤ requestTimeout).
        headersTimeout: Math.min(60_000, config.requestTimeoutMs),
        keepAliveTimeout: config.keepAliveTimeoutMs,
        connectionsCheckingInterval: 5_000,
      }, handler)
      server.setTimeout(config.connectionTimeoutMs)
      return server
    },
    // Path parameters are codes; a long one is an attack or a mistake.
    routerOptions: { maxParamLength: 200 },
    // The router's own refusals (a parameter past maxParamLength, a URL that does not decode) in the API's error shape.
    frameworkErrors: (err, _req, res) => {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400
      const reply = res as unknown as FastifyReply
      return reply.code(status).send({ error: { code: err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'param_too_long' : 'bad_request', message: err.message.slice(0, 300) } })
    },
    // The first start of the embedded database creates PostGIS (≈ 10 s); later ones take ≈ 1.5 s.
    pluginTimeout: 120_000,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
  }
}

/** Builds a ready-to-use app (no socket): what the tests and main.ts call. */
export async function buildApp(opts: AppOptions & { logger?: FastifyServerOptions['logger'] }): Promise<FastifyInstance> {
  const instance = Fastify(serverOptions(opts.config, opts.logger ?? false)).withTypeProvider<TypeBoxTypeProvider>()
  instance.addContentTypeParser('application/geo+json', { parseAs: 'string', bodyLimit: opts.config.bodyLimit }, instance.getDefaultJsonParser('error', 'error'))
  await instance.register(app, opts)
  await instance.ready()
  return instance
}
