/** The embedded backend: PGlite (PostgreSQL in WebAssembly) with PostGIS, persisted in a directory. */
import { PGlite, type Transaction } from '@electric-sql/pglite'
import { postgis } from '@electric-sql/pglite-postgis'
import type { Extension } from '@electric-sql/pglite'
import { pathToFileURL } from 'node:url'
import { dirname } from 'node:path'
import { slimPostgisBundle } from './postgis-bundle.ts'
import type { Database, Queryable, QueryResult, Row } from './types.ts'

export interface PgliteOptions {
  /** Directory of the data files; created and initialised when missing. Omit for an in-memory database. */
  dataDir?: string
  /** Where the slimmed PostGIS bundle is cached; defaults to the data directory's parent. */
  cacheDir?: string
}

function wrap(q: Pick<Transaction, 'query'>): Queryable {
  return {
    async query<R extends object = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const res = await q.query<R>(sql, params ? [...params] : undefined)
      return { rows: res.rows, affectedRows: res.affectedRows ?? 0 }
    },
  }
}

/** Opens (creating if needed) an embedded database with PostGIS loaded. */
export async function openPglite(opts: PgliteOptions = {}): Promise<Database> {
  const cacheDir = opts.cacheDir ?? (opts.dataDir ? dirname(opts.dataDir) : '.data')
  const bundle = pathToFileURL(slimPostgisBundle(cacheDir))
  const slim: Extension = {
    name: 'postgis',
    setup: async (pg, emscriptenOpts) => {
      const base = await postgis.setup(pg, emscriptenOpts)
      return { ...base, bundlePath: bundle }
    },
  }
  const pg = await PGlite.create({ dataDir: opts.dataDir, extensions: { postgis: slim } })
  const base = wrap(pg)
  return {
    kind: 'pglite',
    query: base.query,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return pg.transaction((tx) => fn(wrap(tx)))
    },
    async exec(sql: string): Promise<void> {
      await pg.exec(sql)
    },
    async close(): Promise<void> {
      if (!pg.closed) await pg.close()
    },
  }
}
