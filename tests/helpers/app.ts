/** An app on a private test database, with no socket: requests go through app.inject. */
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../server/app.ts'
import { loadConfig, type Config } from '../../server/config.ts'
import { testDatabase, type TemplateName } from './db.ts'
import type { Database } from '../../server/db/types.ts'

export interface TestApp {
  app: FastifyInstance
  db: Database
  config: Config
  close(): Promise<void>
}

export async function testApp(template: TemplateName = 'empty', env: NodeJS.ProcessEnv = {}, opts: { backgroundIndexes?: boolean } = {}): Promise<TestApp> {
  const { db, cleanup } = await testDatabase(template)
  const config = loadConfig({ ...env, WANGGE_SEED_FIXTURE: 'false' })
  const app = await buildApp({ config, db, backgroundIndexes: opts.backgroundIndexes })
  return {
    app,
    db,
    config,
    async close() {
      await app.close()
      await cleanup()
    },
  }
}
