/** Helpers for benchmarks that compare with a real PostGIS: a scratch database per run. */
import pg from 'pg'
import { randomBytes } from 'node:crypto'

export const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/** Creates an empty database on the server; returns its URL and a dropper. */
export async function scratchDatabase(prefix = 'wangge_bench'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  return {
    url: withDatabase(PG_URL, name),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    },
  }
}

/** Median and p99 of a list of numbers. */
export function stats(xs: number[]): { median: number; p99: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b)
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]
  return { median: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length }
}

/** Milliseconds as the tables print them: two decimals under 10 ms. */
export const ms = (x: number): string => `${x < 10 ? x.toFixed(2) : x.toFixed(0)} ms`

/** Runs `fn` once: [milliseconds, its value]. */
export async function time<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
  const t0 = performance.now()
  const v = await fn()
  return [performance.now() - t0, v]
}
