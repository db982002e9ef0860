/**
 * Several server processes on one PostgreSQL: each keeps state derived from the
 * database in memory (the geocoder's cell index and names, the facility index,
 * the case configuration, tile and analysis caches) and must refresh it when
 * another process — a second server, the CLI, psql — changes what it was built
 * from. Writers need not remember: triggers (migration 012) send a notice on
 * channel `wangge_changes` inside the writer's transaction for every new grid
 * version, facility revision and case-configuration revision, delivered on
 * commit. Each process LISTENs on one dedicated connection (server/db/listen.ts)
 * and, on a notice from another sender, runs the refresh its own write would
 * have run: the grid's listeners (`app.gridChanged({ remote: true })`), the
 * facility index rebuild, the configuration reload.
 *
 * A refresh compares what the database holds (one query for the three versions)
 * with what the process holds, so it is idempotent: notices arriving in a burst
 * (a change-set commit sends grid and facilities) coalesce into one refresh, and
 * the same comparison runs after the listener reconnects (notices sent while it
 * was deaf are lost) and every `pollSeconds` as a safety net. Writes to cases and
 * facilities that bump no revision reach other processes' tiles through the
 * tiles' data versions (server/tiles/versions.ts), read at most a second apart.
 *
 * On the embedded database (one process by construction) nothing runs.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { ChannelListener, type ListenerState } from '../db/listen.ts'

export const CHANGE_CHANNEL = 'wangge_changes'

export type ChangeKind = 'grid' | 'facilities' | 'config'

/** The payload of a notice (migration 012). */
export interface ChangeNotice {
  kind: ChangeKind
  version: number
  /** The writer's application_name. */
  sender: string | null
}

/** Versions of what the in-memory state is built from. */
export interface Versions {
  /** The newest grid version (null: no grid yet). */
  grid: number | null
  facilities: number
  config: number
}

export interface ClusterStatus {
  /** listen: PostgreSQL, notices between processes; single: the embedded database, one process. */
  mode: 'listen' | 'single'
  listener: ListenerState | 'off'
  /** The LISTEN connection's application_name (pg_stat_activity). */
  applicationName: string | null
  backendPid: number | null
  reconnects: number
  /** Notices of other processes' changes received, and of this process's own (skipped). */
  notices: number
  ownNotices: number
  /** Refreshes that found something changed, and the last one. */
  refreshes: number
  lastRefresh: { reason: string; at: Date; changed: ChangeKind[]; versions: Versions } | null
  /** The last comparison of stored and held versions, whatever it found. */
  lastCheckAt: Date | null
}

export interface ClusterSync {
  status(): ClusterStatus
  /** Compares the stored versions with this process's and refreshes what differs (coalesced with any running). */
  check(reason: string): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    cluster: ClusterSync
  }
}

export interface ClusterPluginOptions {
  /** Safety-net comparison every so many seconds; 0: never. */
  pollSeconds?: number
  /** First wait before a dropped listener connects again, ms. */
  retryMs?: number
}

/** Notices arriving within this long of the first one are handled by one refresh. */
const COALESCE_MS = 25

const READ_VERSIONS = `SELECT (SELECT max(id) FROM grid_versions)::float8 AS grid,
  (SELECT revision FROM facility_state)::float8 AS facilities, (SELECT revision FROM case_settings)::float8 AS config`

const KINDS: readonly string[] = ['grid', 'facilities', 'config'] satisfies ChangeKind[]

/** A notice's payload, or null when it is not one of ours. */
export function parseNotice(payload: string): ChangeNotice | null {
  try {
    const v = JSON.parse(payload) as Partial<ChangeNotice>
    if (typeof v.kind !== 'string' || !KINDS.includes(v.kind) || typeof v.version !== 'number') return null
    return { kind: v.kind, version: v.version, sender: typeof v.sender === 'string' ? v.sender : null }
  } catch {
    return null
  }
}

export default fp(async function cluster(app: FastifyInstance, opts: ClusterPluginOptions) {
  const db = app.db
  const listening = db.kind === 'postgres' && db.connectionString !== undefined
  const state: ClusterStatus = {
    mode: listening ? 'listen' : 'single', listener: 'off', applicationName: null, backendPid: null, reconnects: 0,
    notices: 0, ownNotices: 0, refreshes: 0, lastRefresh: null, lastCheckAt: null,
  }

  const held = (): Versions => ({
    grid: app.geocoder.current()?.version ?? null,
    facilities: app.facilities.current().revision,
    config: app.caseConfig.current().settings.revision,
  })
  const stored = async (): Promise<Versions> => {
    const r = (await db.query<{ grid: number | null; facilities: number; config: number }>(READ_VERSIONS)).rows[0]
    return { grid: r.grid === null ? null : Number(r.grid), facilities: Number(r.facilities), config: Number(r.config) }
  }
  // Counters only move forward; what this process holds may be newer than what was read a moment ago (its own write).
  const behind = (mine: number | null, theirs: number | null): boolean => theirs !== null && (mine === null || mine < theirs)

  async function refresh(reason: string): Promise<void> {
    const now = await stored()
    state.lastCheckAt = new Date()
    const mine = held()
    const changed = (['grid', 'facilities', 'config'] as const).filter((k) => behind(mine[k], now[k]))
    if (!changed.length) return
    // What this process's own import or commit runs: the index, the configuration (command
    // centres), the facility index, analysis and tile caches (each listener knows `remote`).
    if (changed.includes('grid')) await app.gridChanged({ remote: true })
    // The grid's listeners rebuilt the facility index and reloaded the configuration: look again.
    if (behind(held().facilities, now.facilities)) await app.facilities.rebuild()
    if (behind(held().config, now.config)) await app.caseConfig.reload()
    if (app.hasDecorator('tiles')) app.tiles.markStale()
    state.refreshes++
    state.lastRefresh = { reason, at: new Date(), changed, versions: held() }
    app.log.info({ reason, changed, versions: state.lastRefresh.versions }, 'refreshed after a change by another process')
  }

  let running: Promise<void> | null = null
  let again = false
  const check = (reason: string): Promise<void> => {
    if (running) {
      again = true
      return running
    }
    running = (async () => {
      await new Promise((r) => setTimeout(r, COALESCE_MS))
      do {
        again = false
        try {
          await refresh(reason)
        } catch (err) {
          // The next notice, reconnect or poll tries again: the comparison still sees the difference.
          app.log.warn({ err, reason }, 'refresh after a change by another process failed')
        }
      } while (again)
    })().finally(() => { running = null })
    return running
  }

  let listener: ChannelListener | null = null
  const status = (): ClusterStatus => {
    if (!listener) return { ...state }
    const l = listener.state
    return { ...state, listener: l.state, backendPid: l.backendPid, reconnects: l.reconnects }
  }
  app.decorate('cluster', { status, check } satisfies ClusterSync)
  if (!listening || db.connectionString === undefined) return

  const own = db.applicationName ?? null
  // Findable next to the pool's connections (wangge/<pid>/<random>): wangge-listen/<pid>/<random>.
  state.applicationName = (own ?? 'wangge').replace(/^wangge/, 'wangge-listen').slice(0, 63)
  const l = listener = new ChannelListener({
    connectionString: db.connectionString,
    applicationName: state.applicationName,
    channel: CHANGE_CHANNEL,
    minBackoffMs: opts.retryMs,
    onNotice(payload) {
      const n = parseNotice(payload)
      if (!n) return
      if (own !== null && n.sender === own) {
        state.ownNotices++
        return
      }
      state.notices++
      void check(`notice:${n.kind}`)
    },
    onListening(reconnected) {
      if (reconnected) app.log.info({ reconnects: l.state.reconnects }, 'change listener connected again; comparing versions')
      // Also on the first connect: a change between building the indexes and LISTEN would be missed otherwise.
      void check(reconnected ? 'reconnect' : 'listen')
    },
    onDown(err, retryMs) {
      app.log.warn({ err: err instanceof Error ? err.message : String(err), retryMs }, 'change listener lost its connection; connecting again')
    },
  })
  let timer: NodeJS.Timeout | null = null
  app.addHook('onReady', async () => {
    l.start()
    const pollMs = (opts.pollSeconds ?? 30) * 1000
    if (pollMs > 0) {
      timer = setInterval(() => {
        void l.ping().then(() => check('poll'))
      }, pollMs)
      timer.unref()
    }
  })
  app.addHook('onClose', async () => {
    if (timer) clearInterval(timer)
    await l.close()
    // A refresh in flight finishes before the database closes under it.
    await running?.catch(() => {})
  })
}, { name: 'cluster', dependencies: ['database', 'grid-hooks', 'geocoder', 'facilities', 'cases'] })
