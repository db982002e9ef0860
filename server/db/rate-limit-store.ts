/**
 * The @fastify/rate-limit store on the database, so every server process on one
 * PostgreSQL counts against the same limits (migration 014). The plugin's own
 * store keeps counters in each process's memory: behind a load balancer with N
 * processes a limit of 5 an hour would allow 5N.
 *
 * One statement a request: insert the counter or add one to it, starting a new
 * window when the old one has ended, and answer the count and the time left. Only
 * the public routes are limited (the human check, guest accounts, residents'
 * reports), so this costs a round trip where requests are few. Counters past their
 * window are deleted now and then by the same store.
 */
import type { FastifyRateLimitOptions, FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { Queryable } from './types.ts'

const INCR = `INSERT INTO rate_limits AS r (key, count, reset_at) VALUES ($1, 1, clock_timestamp() + $2 * interval '1 millisecond')
  ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN r.reset_at <= clock_timestamp() THEN 1 ELSE r.count + 1 END,
    reset_at = CASE WHEN r.reset_at <= clock_timestamp() THEN excluded.reset_at ELSE r.reset_at END
  RETURNING count, greatest(0, ceil(extract(epoch FROM r.reset_at - clock_timestamp()) * 1000))::float8 AS ttl`
const SWEEP = 'DELETE FROM rate_limits WHERE reset_at < clock_timestamp()'
/** Sweep ended windows at most this often, ms. */
const SWEEP_EVERY_MS = 60_000

/**
 * A store class for `@fastify/rate-limit`'s `store` option, counting in `db`.
 * Each limited route gets its own counters (`child`: the route's method and URL
 * prefix the key).
 */
export function databaseRateLimitStore(db: Queryable): FastifyRateLimitStoreCtor {
  let lastSweep = 0
  const sweep = (): void => {
    const now = Date.now()
    if (now - lastSweep < SWEEP_EVERY_MS) return
    lastSweep = now
    db.query(SWEEP).catch(() => { lastSweep = 0 })
  }
  class DatabaseStore implements FastifyRateLimitStore {
    /** The plugin passes its options; the route's prefix comes from `child`. */
    constructor(_options?: FastifyRateLimitOptions, private readonly prefix = '') {}

    incr(key: string, cb: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      db.query<{ count: number; ttl: number }>(INCR, [`${this.prefix}${key}`, timeWindow], { prepare: true }).then((res) => {
        const row = res.rows[0]
        cb(null, { current: row.count, ttl: row.ttl })
        sweep()
      }, (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))))
    }

    /**
     * Counters of one limited route. The plugin (11.x) passes the route's merged limit options
     * with the route as `routeInfo`; its types say the route itself: either gives method and URL.
     */
    child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
      const r: { method?: string | string[]; url?: string } = (routeOptions as { routeInfo?: { method?: string | string[]; url?: string } }).routeInfo ?? routeOptions
      const method = Array.isArray(r.method) ? r.method.join(',') : r.method ?? ''
      return new DatabaseStore(undefined, `${method} ${r.url ?? ''}|`)
    }
  }
  return DatabaseStore
}
