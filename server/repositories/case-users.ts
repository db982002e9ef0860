/**
 * Users and their bearer tokens. A token is shown once, when it is made; only
 * its SHA-256 is stored, so a copy of the database signs nobody in.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Queryable } from '../db/types.ts'
import type { Role } from '../cases/roles.ts'

export interface UserRow {
  id: number
  name: string
  role: Role
  org: string | null
  org_name: string | null
  active: boolean
  created_at: Date
}

/** A new random token: 'wg_' and 43 characters of base64url (256 bits). */
export function newToken(): string {
  return `wg_${randomBytes(32).toString('base64url')}`
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}

const USER_COLUMNS = `u.id, u.name, u.role, u.org, o.name AS org_name, u.active, u.created_at`

export class UserRepository {
  constructor(private readonly db: Queryable) {}

  /** The active user holding this token, or null. */
  async byTokenHash(hash: Buffer): Promise<UserRow | null> {
    const rows = (await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users u LEFT JOIN organisations o ON o.uscc = u.org
      WHERE u.token_hash = $1 AND u.active`, [hash])).rows
    return rows[0] ?? null
  }

  async get(id: number): Promise<UserRow | null> {
    return (await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users u LEFT JOIN organisations o ON o.uscc = u.org WHERE u.id = $1`, [id])).rows[0] ?? null
  }

  async list(filter: { role?: Role; org?: string } = {}): Promise<UserRow[]> {
    return (await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users u LEFT JOIN organisations o ON o.uscc = u.org
      WHERE ($1::text IS NULL OR u.role = $1) AND ($2::text IS NULL OR u.org = $2) ORDER BY u.id`, [filter.role ?? null, filter.org ?? null])).rows
  }

  /** Creates a user; with `token` it can sign in with it (the caller shows it once). */
  async create(u: { name: string; role: Role; org: string | null; token: string | null }): Promise<UserRow> {
    const id = (await this.db.query<{ id: number }>('INSERT INTO users (name, role, org, token_hash) VALUES ($1, $2, $3, $4) RETURNING id',
      [u.name, u.role, u.org, u.token ? hashToken(u.token) : null])).rows[0].id
    return (await this.get(id)) as UserRow
  }

  /** Replaces a user's token; false when there is no such user. */
  async setToken(id: number, token: string): Promise<boolean> {
    return (await this.db.query('UPDATE users SET token_hash = $2 WHERE id = $1', [id, hashToken(token)])).affectedRows > 0
  }

  async setActive(id: number, active: boolean): Promise<boolean> {
    return (await this.db.query('UPDATE users SET active = $2 WHERE id = $1', [id, active])).affectedRows > 0
  }

  async orgExists(uscc: string): Promise<boolean> {
    return (await this.db.query('SELECT 1 FROM organisations WHERE uscc = $1', [uscc])).rows.length > 0
  }

  /** Which of these token hashes belong to active users (main.ts: are the demo tokens still valid?). */
  async activeHashes(hashes: Buffer[]): Promise<Set<string>> {
    const rows = (await this.db.query<{ h: string }>(`SELECT encode(token_hash, 'hex') AS h FROM users
      WHERE encode(token_hash, 'hex') = ANY($1::text[]) AND active`, [hashes.map((h) => h.toString('hex'))])).rows
    return new Set(rows.map((r) => r.h))
  }
}
