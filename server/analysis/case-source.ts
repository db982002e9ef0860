/**
 * What the in-memory case columns (case-store.ts) read from the database: the
 * few columns a heatmap or hot-spot count needs, by id range (new cases) and by
 * id list (cases that were open: their status and deadline move).
 */
import type { Queryable } from '../db/types.ts'

export interface CaseFact {
  id: number
  lon: number
  lat: number
  /** reported_at, seconds since 1970. */
  t: number
  matter: string
  status: string
  cell: string
  /** Deadline of the running stage (seconds since 1970), null when none. */
  due: number | null
  /** A stage ended late (any *_on_time false). */
  late: boolean
}

const COLUMNS = `id::float8 AS id, ST_X(geom) AS lon, ST_Y(geom) AS lat, extract(epoch FROM reported_at)::float8 AS t,
  matter_code AS matter, status, cell_code AS cell, extract(epoch FROM due_at)::float8 AS due,
  coalesce(accept_on_time IS FALSE OR dispatch_on_time IS FALSE OR handle_on_time IS FALSE OR verify_on_time IS FALSE OR close_on_time IS FALSE, false) AS late`

const AFTER = `SELECT ${COLUMNS} FROM cases WHERE id > $1 ORDER BY id LIMIT $2`
const BY_IDS = `SELECT ${COLUMNS} FROM cases WHERE id = ANY($1::bigint[])`

export interface CaseSource {
  /** Cases with id > `after`, in id order, at most `limit`. */
  after(after: number, limit: number): Promise<CaseFact[]>
  byIds(ids: readonly number[]): Promise<CaseFact[]>
}

export class SqlCaseSource implements CaseSource {
  constructor(private readonly db: Queryable) {}

  async after(after: number, limit: number): Promise<CaseFact[]> {
    return (await this.db.query<CaseFact>(AFTER, [after, limit])).rows
  }

  async byIds(ids: readonly number[]): Promise<CaseFact[]> {
    if (!ids.length) return []
    return (await this.db.query<CaseFact>(BY_IDS, [ids])).rows
  }
}
