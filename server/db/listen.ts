/**
 * One dedicated PostgreSQL connection that LISTENs on a channel, outside the pool
 * (a pooled connection would be handed to other work and lose its LISTEN). When
 * the connection drops — the server restarted, an admin terminated it, the network
 * broke — it reconnects with exponential backoff (0.5 s doubling to 30 s, with
 * jitter) and says so through `onListening(true)`: notices sent while it was deaf
 * are lost for good (PostgreSQL keeps none for a session that is gone), so the
 * owner must compare what it holds with the database then. LISTEN is issued before
 * `onListening` runs, so a change committed after that comparison is noticed.
 */
import pg from 'pg'

export type ListenerState = 'connecting' | 'listening' | 'reconnecting' | 'closed'

export interface ChannelListenerOptions {
  connectionString: string
  /** Shown in pg_stat_activity (finding, or terminating, this connection). */
  applicationName: string
  /** A plain identifier: it is written into LISTEN as is. */
  channel: string
  onNotice(payload: string): void
  /** Listening (again); `reconnected` after a drop: anything may have changed meanwhile. */
  onListening(reconnected: boolean): void
  /** The connection dropped or could not be made; a retry is scheduled in `retryMs`. */
  onDown?(err: unknown, retryMs: number): void
  minBackoffMs?: number
  maxBackoffMs?: number
}

export interface ListenerStatus {
  state: ListenerState
  /** The backend serving the LISTEN (pg_backend_pid()), while listening. */
  backendPid: number | null
  /** Times the connection was made again after a drop. */
  reconnects: number
  /** When the current state began. */
  since: Date
}

export class ChannelListener {
  private client: pg.Client | null = null
  private timer: NodeJS.Timeout | null = null
  private failures = 0
  private everListened = false
  private status: ListenerStatus = { state: 'connecting', backendPid: null, reconnects: 0, since: new Date() }

  constructor(private readonly opts: ChannelListenerOptions) {
    if (!/^[a-z_][a-z0-9_]*$/.test(opts.channel)) throw new Error(`not a plain channel name: ${opts.channel}`)
  }

  get state(): ListenerStatus { return { ...this.status } }

  start(): void {
    void this.connect()
  }

  /**
   * A cheap round trip on the LISTEN connection: a connection that no longer answers
   * (a half-open TCP session after a network failure) is dropped and made again.
   */
  async ping(timeoutMs = 10_000): Promise<boolean> {
    const client = this.client
    if (!client || this.status.state !== 'listening') return false
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        client.query('SELECT 1'),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs) }),
      ])
      return true
    } catch (err) {
      this.lost(client, err)
      return false
    } finally {
      clearTimeout(timer)
    }
  }

  async close(): Promise<void> {
    this.set('closed')
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    const client = this.client
    this.client = null
    if (client) await client.end().catch(() => {})
  }

  private set(state: ListenerState, backendPid: number | null = null): void {
    this.status = { ...this.status, state, backendPid, since: new Date() }
  }

  private async connect(): Promise<void> {
    this.timer = null
    if (this.status.state === 'closed') return
    const client = new pg.Client({
      connectionString: this.opts.connectionString,
      application_name: this.opts.applicationName,
      // The OS notices a dead peer (no RST: a cable, a firewall) in minutes instead of hours.
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
    })
    this.client = client
    // Both fire when the server ends the session (restart, pg_terminate_backend); the
    // handlers stay attached for good, so a late 'error' from a dropped client is heard.
    client.on('error', (err) => this.lost(client, err))
    client.on('end', () => this.lost(client, new Error('connection ended')))
    client.on('notification', (m) => { if (m.channel === this.opts.channel && m.payload !== undefined) this.opts.onNotice(m.payload) })
    try {
      await client.connect()
      await client.query(`LISTEN ${this.opts.channel}`)
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid
      if (this.client !== client) return
      const reconnected = this.everListened
      if (reconnected) this.status.reconnects++
      this.everListened = true
      this.failures = 0
      this.set('listening', pid)
      this.opts.onListening(reconnected)
    } catch (err) {
      this.lost(client, err)
    }
  }

  private lost(client: pg.Client, err: unknown): void {
    if (client !== this.client || this.status.state === 'closed') return
    this.client = null
    client.end().catch(() => {})
    const base = Math.min(this.opts.maxBackoffMs ?? 30_000, (this.opts.minBackoffMs ?? 500) * 2 ** this.failures)
    const retryMs = Math.round(base * (0.75 + Math.random() * 0.5))
    this.failures++
    this.set(this.everListened ? 'reconnecting' : 'connecting')
    this.opts.onDown?.(err, retryMs)
    this.timer = setTimeout(() => { void this.connect() }, retryMs)
    this.timer.unref()
  }
}
