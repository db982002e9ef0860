/**
 * Configuration, read once from the environment and checked at boot.
 * Every default is explained on its own line; `.env.example` lists them all.
 */
import { resolve } from 'node:path'
import { ROOT } from './paths.ts'

export interface Config {
  host: string
  port: number
  /** postgres://… for a real PostGIS; undefined for the embedded database. */
  databaseUrl: string | undefined
  /** Embedded database directory. */
  dataDir: string
  /** Load the Chaoyang fixture when the grid is empty. */
  seedFixture: boolean
  /** Start on a non-loopback HOST although the demo users' published tokens still work (WANGGE_ALLOW_DEMO_TOKENS). */
  allowDemoTokens: boolean
  /** Largest request body, bytes (imports are the big ones). */
  bodyLimit: number
  residentReportsPerHour: number
  guestsPerHour: number
  /** HMAC key of the public human check (WANGGE_SECRET); null: drawn at random by each process. */
  secret: string | null
  statementTimeoutMs: number
  /** Points this close outside the district snap to the nearest cell, metres. */
  snapToleranceM: number
  logLevel: string
  /** Origins (scheme://host[:port]) other sites may call the API from; empty: same origin only. */
  corsOrigins: string[]
  basemapOrigins: string[]
  snapshotEveryMinutes: number
  /** Longest time to receive a whole request, ms (slow clients, slow uploads). */
  requestTimeoutMs: number
  /** A socket with no traffic either way for this long is closed, ms. */
  connectionTimeoutMs: number
  /** An idle keep-alive connection is closed after this long, ms. */
  keepAliveTimeoutMs: number
  /** PostgreSQL: how often each process compares the stored grid, facility and configuration versions with its own, s (0: never). */
  changesPollSeconds: number
  /** PostgreSQL: first wait before the change listener's connection is made again after a drop, ms (doubling to 30 s). */
  listenRetryMs: number
}

export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key]
  if (raw === undefined || raw === '') return fallback
  const v = Number(raw)
  if (!Number.isInteger(v) || v < min || v > max) throw new ConfigError(`${key}=${raw}: expected an integer ${min}…${max}`)
  return v
}

function bool(env: NodeJS.ProcessEnv, key: string, fallback: boolean): boolean {
  const raw = env[key]
  if (raw === undefined || raw === '') return fallback
  if (/^(1|true|yes)$/i.test(raw)) return true
  if (/^(0|false|no)$/i.test(raw)) return false
  throw new ConfigError(`${key}=${raw}: expected true or false`)
}

function origins(env: NodeJS.ProcessEnv, key: string): string[] {
  const raw = env[key]
  if (raw === undefined || raw.trim() === '') return []
  return raw.split(',').map((o) => o.trim()).filter((o) => o !== '').map((o) => {
    // An exact origin only: a wildcard or a path would open the API wider than meant.
    if (!/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i.test(o)) throw new ConfigError(`${key}: ${o} is not an origin like https://host[:port]`)
    return o.toLowerCase()
  })
}

/** True for an address only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h)
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL || undefined
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new ConfigError('DATABASE_URL must start with postgres://')
  return {
    // Loopback by default: exposing the service is a deliberate choice.
    host: env.HOST || '127.0.0.1',
    // 3000 is free on the development machines; PORT overrides.
    port: int(env, 'PORT', 3000, 0, 65535),
    databaseUrl,
    // Under the project so a fresh clone needs no setup; WANGGE_DATA_DIR moves it.
    dataDir: resolve(env.WANGGE_DATA_DIR || resolve(ROOT, '.data/pglite')),
    // A new user should see a district, not an empty map.
    seedFixture: bool(env, 'WANGGE_SEED_FIXTURE', true),
    // The demo users' tokens are printed and derivable from the source: never on an exposed address by accident.
    allowDemoTokens: bool(env, 'WANGGE_ALLOW_DEMO_TOKENS', false),
    // 32 MiB: the 8,423-cell grid is ≈ 4 MiB; larger grids go through the CLI.
    bodyLimit: int(env, 'WANGGE_BODY_LIMIT', 32 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    // 30 s: longer than any import of a district, short enough to stop a runaway query.
    statementTimeoutMs: int(env, 'WANGGE_STATEMENT_TIMEOUT_MS', 30_000, 100, 3_600_000),
    // 30 m: a phone's GPS error in a street canyon, so a report on the kerb still finds its cell.
    snapToleranceM: int(env, 'WANGGE_SNAP_TOLERANCE_M', 30, 0, 1000),
    logLevel: env.LOG_LEVEL || 'info',
    // Reports per hour by one resident account (guests included): a phone in a hurry, not a script.
    residentReportsPerHour: int(env, 'WANGGE_RESIDENT_REPORTS_PER_HOUR', 30, 1, 100_000),
    // Guest accounts per address per hour (POST /api/public/guest).
    guestsPerHour: int(env, 'WANGGE_GUESTS_PER_HOUR', 5, 1, 100_000),
    // Several processes must share it, or a question asked at one cannot be answered at another.
    secret: env.WANGGE_SECRET || null,
    // None: the web client is served from the API's own origin, so no other site needs to call it.
    corsOrigins: origins(env, 'WANGGE_CORS_ORIGINS'),
    // None: the map has no remote base map unless an operator names the tile server's origin here
    // (the web client's ?basemap= URL must be on it; the Content-Security-Policy admits only these).
    basemapOrigins: origins(env, 'WANGGE_BASEMAP_ORIGINS'),
    // The daily indicator snapshot is retaken this often while the service runs (0: never; use the CLI from cron).
    snapshotEveryMinutes: int(env, 'WANGGE_SNAPSHOT_MINUTES', 60, 0, 24 * 60),
    // 120 s: a 32 MiB grid import at ≈ 300 KiB/s; a client slower than that is holding a socket, not sending.
    requestTimeoutMs: int(env, 'WANGGE_REQUEST_TIMEOUT_MS', 120_000, 1000, 3_600_000),
    // 300 s of silence both ways: longer than any request the server works on (statement_timeout 30 s), short enough to shed dead sockets.
    connectionTimeoutMs: int(env, 'WANGGE_CONNECTION_TIMEOUT_MS', 300_000, 1000, 3_600_000),
    // 72 s: Fastify's default, above the 60 s idle timeout of common proxies so the proxy closes first.
    keepAliveTimeoutMs: int(env, 'WANGGE_KEEPALIVE_TIMEOUT_MS', 72_000, 1000, 600_000),
    // 30 s: the safety net under the change notices (server/plugins/cluster.ts) — one tiny query per process.
    changesPollSeconds: int(env, 'WANGGE_CHANGES_POLL_S', 30, 0, 3600),
    // 0.5 s: a restarted PostgreSQL is back in seconds; the wait doubles up to 30 s while it is not.
    listenRetryMs: int(env, 'WANGGE_LISTEN_RETRY_MS', 500, 50, 60_000),
  }
}
