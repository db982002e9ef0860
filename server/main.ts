/**
 * The process: read config, build the app, load the fixture into an empty
 * grid, listen, and shut down cleanly on SIGINT/SIGTERM.
 */
import Fastify from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { loadConfig, ConfigError, isLoopbackHost } from './config.ts'
import { DataDirLockedError } from './db/pglite.ts'
import { app, serverOptions } from './app.ts'
import { scheduleSnapshots, type SnapshotSchedule } from './base/schedule.ts'
import { demoUsage, ensureStartCases } from '../fixtures/cases.ts'
import { signInDemoUsers } from '../fixtures/users.ts'
import { ensureBaseInfo, ensureFacilities, ensureFixture, ensureFrontage, ensurePlaces, ensureServiceOutlets } from '../fixtures/load.ts'

async function main(): Promise<void> {
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
  // The facility index (250,000 components: seconds) is built after listen; PostGIS answers lookups until then.
  await server.register(app, { config, backgroundIndexes: true })
  await server.ready()
  if (config.seedFixture) {
    const loaded = await ensureFixture(server.db, { log: (m) => server.log.info(m) })
    const places = await ensurePlaces(server.db, { log: (m) => server.log.info(m) })
    await ensureBaseInfo(server.db, { log: (m) => server.log.info(m) })
    if (loaded || places) await server.gridChanged()
    await ensureFacilities(server.db, { log: (m) => server.log.info(m) })
    await ensureServiceOutlets(server.db, { log: (m) => server.log.info(m) })
    if (await ensureStartCases(server.db, { log: (m) => server.log.info(m) })) await server.caseConfig.reload()
    await ensureFrontage(server.db, { log: (m) => server.log.info(m) })
  }

  // The demo users' tokens are printed below and derivable from the source: on an address other
  // machines can reach they would let anyone in as admin. Refuse, unless told it is meant.
  if (!isLoopbackHost(config.host) && !config.allowDemoTokens) {
    const demo = await signInDemoUsers(server.db)
    if (demo.length) {
      console.error(`refusing to listen on ${config.host}: ${demo.length} demo users (${demo.map((u) => u.key).join(', ')}) still sign in with their published tokens.`
        + '\n  Deactivate them (PATCH /api/users/:id {"active": false}) or start with WANGGE_SEED_FIXTURE=false on a fresh database;'
        + '\n  WANGGE_ALLOW_DEMO_TOKENS=true starts anyway (a demo on a trusted network).')
      await server.close()
      process.exit(2)
    }
  }

  let closing = false
  let snapshots: SnapshotSchedule | null = null
  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    snapshots?.stop()
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
    // performance.now() counts from the process's start: the bundle's loading is included.
    `wangge is up in ${(performance.now() / 1000).toFixed(1)} s — ${cells.toLocaleString('en')} cells on ${where}`,
    `  web client:  ${address}/`,
    `  API docs:    ${address}/docs`,
    `  cells:       ${address}/api/cells`,
    ...(await demoUsage(server.db, address)),
    '',
  ].join('\n'))
  // Now the address index (57,663 places) and the in-memory facility index (seconds for 250,000
  // components; PostGIS answered until here).
  const tPlaces = performance.now()
  await server.geocoder.current()?.gazetteer().then(
    (g) => server.log.info({ places: g.size, ms: Math.round(performance.now() - tPlaces) }, 'address index ready (built after listen)'),
    (err: unknown) => server.log.error({ err }, 'address index build failed; the first address query tries again'))
  const tIndex = performance.now()
  await server.facilities.rebuild().then(
    (s) => server.log.info({ facilities: s.index.size, ms: Math.round(performance.now() - tIndex) }, 'facility index ready (built after listen)'),
    (err: unknown) => server.log.error({ err }, 'facility index build failed; lookups stay on PostGIS'))
  // Then the heatmaps' case columns, so the leaders' first heatmap does not pay for loading them.
  const tCases = performance.now()
  await server.analysis.cases.refresh(true).then(
    () => server.log.info({ ms: Math.round(performance.now() - tCases) }, 'heatmap case columns loaded (after listen)'),
    (err: unknown) => server.log.error({ err }, 'loading the heatmap case columns failed; the first heatmap request loads them'))
  // Then the indicator snapshots: the last week's that are missing, today's, and today's again every hour.
  if (config.snapshotEveryMinutes > 0) {
    snapshots = scheduleSnapshots(server.db, server.log, { everyMinutes: config.snapshotEveryMinutes, backfillDays: 7 })
  }
}

main().catch((err: unknown) => {
  // A locked data directory is the user's situation to fix, not a crash: say so plainly.
  if (err instanceof DataDirLockedError) console.error(err.message)
  else console.error(err)
  process.exit(1)
})
