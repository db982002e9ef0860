/** The audit log (migration 010): one row per mutating request, append-only. */
import type { Queryable } from '../db/types.ts'

export interface AuditEntry {
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

const INSERT = `INSERT INTO audit_log (request_id, user_id, user_name, role, method, route, path, target, status, ip, duration_ms)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

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

export class AuditRepository {
  constructor(private readonly db: Queryable) {}

  async write(e: AuditEntry): Promise<void> {
    await this.db.query(INSERT, [e.requestId, e.userId, e.userName, e.role, e.method, e.route, e.path, e.target, e.status, e.ip, Math.round(e.durationMs)])
  }

  async list(f: AuditFilter): Promise<AuditRow[]> {
    const r = await this.db.query<AuditRow>(SELECT, [
      f.user ?? null, f.role ?? null, f.method ?? null, f.route ?? null, f.target ?? null, f.status ?? null, f.statusClass ?? null,
      f.from ?? null, f.to ?? null, f.before ?? null, f.limit,
    ])
    return r.rows.map((row) => ({ ...row, at: new Date(row.at).toISOString() }))
  }
}
