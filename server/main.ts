/**
 * The process: read config, build the app, load the fixture into an empty
 * grid, listen, and shut down cleanly on SIGINT/SIGTERM.
 */
import Fastify from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { loadConfig, ConfigError } from './config.ts'
import { DataDirLockedError } from './db/pglite.ts'
import { app, serverOptions } from './app.ts'
import { demoUsage, ensureStartCases } from '../fixtures/cases.ts'
import { ensureFacilities, ensureFixture, ensurePlaces } from '../fixtures/load.ts'

async function main(): Promise<void> {
  const t0 = performance.now()
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration: ${err.message}`)
      process.exit(2)
    }
    throw err
  }
  const server = Fastify(serverOptions(config)).withTypeProvider<TypeBoxTypeProvider>()
  server.addContentTypeParser('application/geo+json', { parseAs: 'string', bodyLimit: config.bodyLimit }, server.getDefaultJsonParser('error', 'error'))
  await server.register(app, { config })
  await server.ready()
  if (config.seedFixture) {
    const loaded = await ensureFixture(server.db, { log: (m) => server.log.info(m) })
    const places = await ensurePlaces(server.db, { log: (m) => server.log.info(m) })
    if (loaded || places) await server.gridChanged()
    if (await ensureFacilities(server.db, { log: (m) => server.log.info(m) })) await server.facilities.rebuild()
    if (await ensureStartCases(server.db, { log: (m) => server.log.info(m) })) await server.caseConfig.reload()
  }

  let closing = false
  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    server.log.info(`${signal}: closing`)
    server.close().then(() => process.exit(0), (err) => {
      server.log.error({ err }, 'error while closing')
      process.exit(1)
    })
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))

  const address = await server.listen({ host: config.host, port: config.port })
  const cells = await server.grid.cellCount()
  const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite at ${config.dataDir}`
  console.log([
    '',
    `wangge is up in ${((performance.now() - t0) / 1000).toFixed(1)} s — ${cells.toLocaleString('en')} cells on ${where}`,
    `  web client:  ${address}/`,
    `  API docs:    ${address}/docs`,
    `  cells:       ${address}/api/cells`,
    ...(await demoUsage(server.db, address)),
    '',
  ].join('\n'))
}

main().catch((err: unknown) => {
  // A locked data directory is the user's situation to fix, not a crash: say so plainly.
  if (err instanceof DataDirLockedError) console.error(err.message)
  else console.error(err)
  process.exit(1)
})
