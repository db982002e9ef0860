/** Helpers for benchmarks that compare with a real PostGIS: a scratch database per run. */
import pg from 'pg'
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'

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

/**
 * CPU seconds used so far by the local PostgreSQL server's processes (from /proc),
 * or null where that cannot be read (not Linux, or the server is elsewhere). With
 * `database`, only the backends connected to it (their process title names it), so
 * other work on the same server is not counted; the shared WAL writer and
 * checkpointer are left out then. With the process's own cpuUsage it shows what one
 * operation costs on each side, which a shared machine's wall-clock throughput does not.
 */
export function postgresCpuSeconds(database?: string): number | null {
  let dirs: string[]
  try { dirs = readdirSync('/proc').filter((d) => /^\d+$/.test(d)) } catch { return null }
  let ticks = 0
  let seen = false
  for (const d of dirs) {
    let stat: string
    let title: string
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      title = database === undefined ? '' : readFileSync(`/proc/${d}/cmdline`, 'utf8')
    } catch { continue }
    const close = stat.lastIndexOf(')')
    if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue
    // A backend's title: "postgres: [cluster: ]<user> <database> <client> <state>".
    if (database !== undefined && !title.replaceAll('\0', ' ').includes(` ${database} `)) continue
    const f = stat.slice(close + 2).split(' ')
    // Fields 14 and 15 of /proc/PID/stat (utime, stime), counted from after the name.
    ticks += Number(f[11]) + Number(f[12])
    seen = true
  }
  // Clock ticks are 1/100 s on Linux (sysconf(_SC_CLK_TCK)).
  return seen ? ticks / 100 : null
}
