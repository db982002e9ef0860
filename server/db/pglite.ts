/** The embedded backend: PGlite (PostgreSQL in WebAssembly) with PostGIS, persisted in a directory. */
import { PGlite, types, type Transaction } from '@electric-sql/pglite'
import { postgis } from '@electric-sql/pglite-postgis'
import type { Extension } from '@electric-sql/pglite'
import { pathToFileURL } from 'node:url'
import { dirname } from 'node:path'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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

export class DataDirLockedError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * One process per data directory: PGlite is a single-process database, and a
 * second writer corrupts the files. The lock is a file holding the owner's pid;
 * a lock whose process is gone (a crash) is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lock = `${dataDir}.lock`
  mkdirSync(dirname(lock), { recursive: true })
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' })
      return () => rmSync(lock, { force: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const owner = Number(readFileSync(lock, 'utf8'))
      if (owner && owner !== process.pid && alive(owner)) {
        throw new DataDirLockedError(`the embedded database ${dataDir} is in use by process ${owner}; stop it first, or set WANGGE_DATA_DIR to another directory`)
      }
      rmSync(lock, { force: true })
    }
  }
  throw new DataDirLockedError(`could not lock ${dataDir}`)
}

/**
 * bytea as node-postgres returns it (a Buffer), decoded natively: PGlite's own parser builds the array one parseInt per
 * byte, ≈ 7× slower (8,423 cells' WKB, 1 MB: 185–400 ms against 28–51 ms), and the geocoder's and the facility
 * index's snapshots read megabytes of WKB at every start.
 */
function parseBytea(text: string): Buffer {
  return Buffer.from(text.slice(2), 'hex')
}

/** Opens (creating if needed) an embedded database with PostGIS loaded. */
export async function openPglite(opts: PgliteOptions = {}): Promise<Database> {
  const unlock = opts.dataDir ? lockDataDir(opts.dataDir) : () => {}
  const cacheDir = opts.cacheDir ?? (opts.dataDir ? dirname(opts.dataDir) : '.data')
  const bundle = pathToFileURL(slimPostgisBundle(cacheDir))
  const slim: Extension = {
    name: 'postgis',
    setup: async (pg, emscriptenOpts) => {
      const base = await postgis.setup(pg, emscriptenOpts)
      return { ...base, bundlePath: bundle }
    },
  }
  let pg: PGlite
  try {
    pg = await PGlite.create({ dataDir: opts.dataDir, extensions: { postgis: slim }, parsers: { [types.BYTEA]: parseBytea } })
  } catch (err) {
    unlock()
    throw err
  }
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
      try {
        if (!pg.closed) await pg.close()
      } finally {
        unlock()
      }
    },
  }
}
