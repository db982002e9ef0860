/** The server backend: PostgreSQL + PostGIS through a pg Pool. */
import { createHash, randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Database, Queryable, QueryOptions, QueryResult, Row, TransactionOptions } from './types.ts'

export interface PostgresOptions {
  connectionString: string
  /** Longest a statement may run before PostgreSQL cancels it, in ms. */
  statementTimeoutMs?: number
  /** Pool size; two cores here, so a handful of connections keeps them busy. */
  max?: number
  /** Names this process's connections in pg_stat_activity and in its change notices (default `wangge/<pid>/<random>`). */
  applicationName?: string
}

/** A prepared statement's name: a hash of its text (pg prepares it once per connection under that name). */
const names = new Map<string, string>()
function statementName(sql: string): string {
  let name = names.get(sql)
  if (name === undefined) {
    name = `w_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`
    names.set(sql, name)
  }
  return name
}

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R extends object = Row>(sql: string, params?: readonly unknown[], opts?: QueryOptions): Promise<QueryResult<R>> {
      const values = params ? [...params] : undefined
      const res = opts?.prepare
        ? await client.query<R>({ name: statementName(sql), text: sql, values })
        : await client.query<R>(sql, values)
      return { rows: res.rows, affectedRows: res.rowCount ?? 0 }
    },
  }
}

const LOCK_KEY = /^-?\d{1,19}$/

/**
 * BEGIN, and the advisory locks in the same simple-protocol query (one round trip
 * instead of two). The keys are checked to be integers, so the text is safe to send.
 */
function beginWithLocks(keys: readonly string[] | undefined): string {
  if (!keys?.length) return 'BEGIN'
  for (const k of keys) if (!LOCK_KEY.test(k)) throw new Error(`advisory lock key ${JSON.stringify(k)} is not a 64-bit integer`)
  return `BEGIN; SELECT pg_advisory_xact_lock(k) FROM unnest('{${keys.join(',')}}'::bigint[]) AS k`
}

export async function openPostgres(opts: PostgresOptions): Promise<Database> {
  // Unique per opened database: the change-notice triggers (migration 012) send it as the
  // sender, so the process that made a change can skip the notice of its own write.
  const applicationName = opts.applicationName ?? `wangge/${process.pid}/${randomBytes(3).toString('hex')}`
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    application_name: applicationName,
    // A runaway query stops inside the database rather than holding a connection.
    statement_timeout: opts.statementTimeoutMs ?? 30_000,
    max: opts.max ?? 8,
    // Idle connections are closed after 30 s so a restarted server is not left with dead ones.
    idleTimeoutMillis: 30_000,
    // A server that does not accept (down, partitioned) fails a request in 5 s instead of holding it until the client gives up.
    connectionTimeoutMillis: 5_000,
  })
  // An idle client that loses its connection (server restart) emits here; without a
  // listener the process would crash. The pool drops it and makes a new one on demand.
  pool.on('error', () => {})
  // Fail at boot, not at the first request, when the server is unreachable.
  await pool.query('SELECT 1')
  const base = wrap(pool)
  return {
    kind: 'postgres',
    connectionString: opts.connectionString,
    applicationName,
    query: base.query,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>, opts?: TransactionOptions): Promise<T> {
      const begin = beginWithLocks(opts?.advisoryLocks)
      const client = await pool.connect()
      // A connection that cannot even roll back is dead (the server restarted under it): it
      // must be destroyed, not handed back — the pool reuses the last released client first,
      // so one dead connection would fail the same caller's every retry.
      let broken = false
      // A checked-out client whose connection drops between two statements (the server
      // restarted while our code was busy) emits 'error'; the pool only listens for idle
      // clients, and an unheard 'error' event ends the process. Mark it, and destroy it on release.
      const onError = (): void => { broken = true }
      client.on('error', onError)
      try {
        await client.query(begin)
        const result = await fn(wrap(client))
        await client.query('COMMIT')
        return result
      } catch (err) {
        await client.query('ROLLBACK').catch(() => { broken = true })
        throw err
      } finally {
        client.off('error', onError)
        client.release(broken)
      }
    },
    async exec(sql: string): Promise<void> {
      await pool.query(sql)
    },
    async close(): Promise<void> {
      await pool.end()
    },
  }
}
