/** The audit log (migration 010): one row per mutating request, append-only. */
import type { Queryable } from '../db/types.ts'

export interface AuditEntry {
  /** When the answer went out. */
  at: Date
  requestId: string
  userId: number | null
  userName: string | null
  role: string | null
  method: string
  route: string
  path: string
  target: string | null
  status: number
  ip: string | null
  durationMs: number
}

export interface AuditRow {
  id: number
  at: string
  request_id: string
  user_id: number | null
  user_name: string | null
  role: string | null
  method: string
  route: string
  path: string
  target: string | null
  status: number
  ip: string | null
  duration_ms: number
}

export interface AuditFilter {
  user?: number
  role?: string
  method?: string
  /** The route pattern, e.g. `POST /api/cases/:id/:action` or only its path part. */
  route?: string
  target?: string
  status?: number
  /** 4xx or 5xx and the like: the first digit. */
  statusClass?: number
  from?: Date
  to?: Date
  /** Rows with a smaller id (the next page). */
  before?: number
  limit: number
}

/** Many rows in one statement, column by column. */
const INSERT = `INSERT INTO audit_log (at, request_id, user_id, user_name, role, method, route, path, target, status, ip, duration_ms)
  SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::smallint[], $11::text[], $12::int[])`

/** Rows are written this long after the first of a batch waits, or sooner when this many wait. */
const FLUSH_AFTER_MS = 50
const FLUSH_AT_ROWS = 500
/** While the database is down, at most this many rows wait; older ones are dropped (and logged). */
const MAX_WAITING = 20_000
const RETRY_AFTER_MS = 1_000

const SELECT = `SELECT id::int AS id, at, request_id, user_id, user_name, role, method, route, path, target, status::int AS status, ip, duration_ms
  FROM audit_log
  WHERE ($1::int IS NULL OR user_id = $1)
    AND ($2::text IS NULL OR role = $2)
    AND ($3::text IS NULL OR method = $3)
    AND ($4::text IS NULL OR route = $4)
    AND ($5::text IS NULL OR target = $5)
    AND ($6::int IS NULL OR status = $6)
    AND ($7::int IS NULL OR status / 100 = $7)
    AND ($8::timestamptz IS NULL OR at >= $8)
    AND ($9::timestamptz IS NULL OR at < $9)
    AND ($10::bigint IS NULL OR id < $10)
  ORDER BY id DESC
  LIMIT $11`

/**
 * Rows are collected and written together, one statement per batch (within 50 ms,
 * or at 500 rows): under a load of case intakes one insert per request cost
 * PostgreSQL a round trip and a commit each. Reads (`list`) write what waits first,
 * so an admin's query sees every request answered before it; `flush` on close.
 * A batch that fails (the database is down) is kept and tried again a second
 * later, up to 20,000 rows; `onError` hears about failures and drops.
 */
export class AuditRepository {
  private waiting: AuditEntry[] = []
  private timer: NodeJS.Timeout | null = null
  private writing: Promise<void> = Promise.resolve()

  constructor(private readonly db: Queryable, private readonly onError: (err: unknown, rows: number, dropped: number) => void = () => {}) {}

  /** Queues a row; it is in the table within about 50 ms. */
  write(e: AuditEntry): void {
    this.waiting.push(e)
    if (this.waiting.length > MAX_WAITING) {
      const dropped = this.waiting.splice(0, this.waiting.length - MAX_WAITING).length
      this.onError(new Error('audit rows waiting beyond the bound'), this.waiting.length, dropped)
    }
    if (this.waiting.length >= FLUSH_AT_ROWS) void this.flush()
    else this.schedule(FLUSH_AFTER_MS)
  }

  /** Writes every row queued so far; resolves when they are in (or failed and wait again). */
  flush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = null }
    const batch = this.waiting
    this.waiting = []
    // One batch at a time, in order, so ids follow the order requests were answered.
    this.writing = this.writing.then(async () => {
      if (!batch.length) return
      try {
        await this.db.query(INSERT, [
          batch.map((e) => e.at), batch.map((e) => e.requestId), batch.map((e) => e.userId), batch.map((e) => e.userName), batch.map((e) => e.role),
          batch.map((e) => e.method), batch.map((e) => e.route), batch.map((e) => e.path), batch.map((e) => e.target), batch.map((e) => e.status),
          batch.map((e) => e.ip), batch.map((e) => Math.round(e.durationMs)),
        ], { prepare: true })
      } catch (err) {
        this.waiting = [...batch, ...this.waiting]
        this.onError(err, batch.length, 0)
        this.schedule(RETRY_AFTER_MS)
      }
    })
    return this.writing
  }

  /** How many rows wait to be written. */
  get pending(): number {
    return this.waiting.length
  }

  private schedule(ms: number): void {
    if (this.timer) return
    this.timer = setTimeout(() => { this.timer = null; void this.flush() }, ms)
    this.timer.unref()
  }

  async list(f: AuditFilter): Promise<AuditRow[]> {
    await this.flush()
    const r = await this.db.query<AuditRow>(SELECT, [
      f.user ?? null, f.role ?? null, f.method ?? null, f.route ?? null, f.target ?? null, f.status ?? null, f.statusClass ?? null,
      f.from ?? null, f.to ?? null, f.before ?? null, f.limit,
    ])
    return r.rows.map((row) => ({ ...row, at: new Date(row.at).toISOString() }))
  }
}
