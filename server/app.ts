/**
 * The Fastify application, built as a plugin so tests can start it on any
 * database without a listening socket. server/main.ts runs it as a process.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
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

declare module 'fastify' {
  interface FastifyInstance {
    /** Called after the grid changed: refreshes what is derived from it (geocoder index, caches). */
    gridChanged(): Promise<void>
  }
}

export interface AppOptions {
  config: Config
  /** An open database to use instead of opening one from config (tests). */
  db?: Database
}

const gridHooks = fp(async function gridHooks(app: FastifyInstance) {
  const listeners: (() => Promise<void>)[] = []
  app.decorate('gridChanged', async () => {
    for (const l of listeners) await l()
  })
  app.decorate('onGridChanged', (fn: () => Promise<void>) => { listeners.push(fn) })
}, { name: 'grid-hooks' })

declare module 'fastify' {
  interface FastifyInstance {
    onGridChanged(fn: () => Promise<void>): void
  }
}

/** Registers everything on `app`: external plugins, services, then routes. */
export async function app(instance: FastifyInstance, opts: AppOptions): Promise<void> {
  await instance.register(errors)
  await instance.register(database, { config: opts.config, db: opts.db })
  await instance.register(gridHooks)
  await instance.register(repositories)
  await instance.register(docs)
  await instance.register(healthRoutes)
  await instance.register(gridRoutes)
  await instance.register(cellRoutes)
  await instance.register(gridsRoutes, { bodyLimit: opts.config.bodyLimit })
}

/** Fastify options: logging, and JSON parsing that accepts GeoJSON's media type. */
export function serverOptions(config: Config, logger: FastifyServerOptions['logger'] = { level: config.logLevel }): FastifyServerOptions {
  return {
    logger,
    bodyLimit: 1024 * 1024,
    // Query strings are small; 4 KiB keeps a hostile URL from costing much.
    maxParamLength: 200,
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
