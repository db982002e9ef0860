/** Opens the configured backend and brings its schema up to date. */
import { openPglite } from './pglite.ts'
import { openPostgres } from './postgres.ts'
import { migrate } from './migrate.ts'
import type { Database } from './types.ts'

export type { Database, Queryable, Row, QueryResult, BackendKind } from './types.ts'

export interface DatabaseConfig {
  /** `postgres://…` for a real PostGIS; absent for the embedded database. */
  databaseUrl?: string
  /** Embedded data directory; ignored with databaseUrl. */
  dataDir?: string
  statementTimeoutMs?: number
}

export async function openDatabase(cfg: DatabaseConfig): Promise<Database> {
  const db = cfg.databaseUrl
    ? await openPostgres({ connectionString: cfg.databaseUrl, statementTimeoutMs: cfg.statementTimeoutMs })
    : await openPglite({ dataDir: cfg.dataDir })
  try {
    await migrate(db)
  } catch (err) {
    await db.close()
    throw err
  }
  return db
}
