/**
 * A facility server for benchmarks, in its own process so the load generator
 * does not share its event loop: the app on the database at DATABASE_URL,
 * listening on 127.0.0.1 only, printing `listening <port>` when ready.
 */
import type { AddressInfo } from 'node:net'
import { buildApp } from '../../server/app.ts'
import { loadConfig } from '../../server/config.ts'
import { openDatabase } from '../../server/db/index.ts'

const url = process.env.DATABASE_URL
if (!url) throw new Error('DATABASE_URL is required')
const db = await openDatabase({ databaseUrl: url })
const app = await buildApp({ config: loadConfig({ DATABASE_URL: url, WANGGE_SEED_FIXTURE: 'false' }), db })
await app.listen({ host: '127.0.0.1', port: 0 })
console.log(`listening ${(app.server.address() as AddressInfo).port}`)
const stop = (): void => { app.close().then(() => db.close()).finally(() => process.exit(0)) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
