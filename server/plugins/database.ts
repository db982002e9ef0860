/** Opens the database (or takes one handed in by a test) and closes it with the app. */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { openDatabase, type Database } from '../db/index.ts'
import type { Config } from '../config.ts'

declare module 'fastify' {
  interface FastifyInstance {
    db: Database
  }
}

export interface DatabasePluginOptions {
  config: Config
  /** A database already open (tests); the app then leaves closing it to the caller. */
  db?: Database
}

export default fp(async function database(app: FastifyInstance, opts: DatabasePluginOptions) {
  const db = opts.db ?? await openDatabase({
    databaseUrl: opts.config.databaseUrl,
    dataDir: opts.config.dataDir,
    statementTimeoutMs: opts.config.statementTimeoutMs,
  })
  app.decorate('db', db)
  if (!opts.db) app.addHook('onClose', async () => db.close())
}, { name: 'database' })
