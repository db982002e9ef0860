/**
 * The one small interface every part of the code uses to reach the database,
 * whether it is the embedded PGlite or a real PostgreSQL + PostGIS through pg.
 */

/** A row as returned by a query: column name to value. */
export type Row = Record<string, unknown>

export interface QueryResult<R extends object = Row> {
  rows: R[]
  /** Rows inserted, updated or deleted, where the backend reports it. */
  affectedRows: number
}

export interface QueryOptions {
  /**
   * PostgreSQL: keep the statement prepared on each connection (named by a hash of
   * its text), so it is planned once per connection instead of at every call —
   * for hot statements whose text takes few forms (intake's lookup and insert
   * plan in 0.1–0.3 ms, about what they take to run). Never for text built from
   * unbounded variety. The embedded database ignores it.
   */
  prepare?: boolean
}

/** Anything that can run a parameterised statement: the database or a transaction. */
export interface Queryable {
  query<R extends object = Row>(sql: string, params?: readonly unknown[], opts?: QueryOptions): Promise<QueryResult<R>>
}

export type BackendKind = 'pglite' | 'postgres'

export interface TransactionOptions {
  /**
   * Transaction-scoped advisory locks (64-bit integer keys as decimal strings), taken
   * in the order given before `fn` runs. PostgreSQL sends them with BEGIN in one
   * round trip; the embedded database, which runs one transaction at a time, has
   * nothing to lock against and ignores them. Callers sort the keys.
   */
  advisoryLocks?: readonly string[]
}

export interface Database extends Queryable {
  readonly kind: BackendKind
  /** PostgreSQL: where it is, for a dedicated connection outside the pool (LISTEN, server/plugins/cluster.ts). */
  readonly connectionString?: string
  /** PostgreSQL: the application_name of the pool's connections, which change notices carry as their sender. */
  readonly applicationName?: string
  /**
   * Runs `fn` inside BEGIN … COMMIT on one connection; any throw rolls back and
   * is rethrown. Nested calls are not supported: pass the transaction down.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, opts?: TransactionOptions): Promise<T>
  /** Runs several statements separated by semicolons, with no parameters (migrations). */
  exec(sql: string): Promise<void>
  close(): Promise<void>
}
