/**
 * Numbered SQL migrations (`server/migrations/NNN_name.sql`), applied in order,
 * each in its own transaction and recorded in `schema_migrations`. The same
 * files run on the embedded database and on a real PostGIS.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { projectPath } from '../paths.ts'
import type { Database } from './types.ts'

const MIGRATIONS_DIR = projectPath('server/migrations')

export interface Migration {
  version: number
  name: string
  sql: string
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f.slice(4, -4), sql: readFileSync(join(dir, f), 'utf8') }))
}

/** Applies pending migrations; returns the versions applied. */
export async function migrate(db: Database, dir = MIGRATIONS_DIR): Promise<number[]> {
  // Two processes starting against one server must not both migrate.
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`)
  const applied: number[] = []
  for (const m of listMigrations(dir)) {
    const done = await db.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version])
    if (done.rows.length) continue
    await db.transaction(async (tx) => {
      // Serialise concurrent migrators: the second one waits, then sees the row and skips.
      await tx.query('SELECT pg_advisory_xact_lock(20051105)')
      const again = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version])
      if (again.rows.length) return
      for (const stmt of splitStatements(m.sql)) await tx.query(stmt)
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
      applied.push(m.version)
    })
  }
  return applied
}

/**
 * Splits a migration file into statements on semicolons at line ends, keeping
 * dollar-quoted function bodies whole. Migrations are our own files, not input.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = []
  let current = ''
  let inDollar = false
  for (const line of sql.split('\n')) {
    const trimmed = line.trim()
    if (!inDollar && (trimmed.startsWith('--') || trimmed === '')) {
      if (current) current += '\n'
      continue
    }
    current += line + '\n'
    const dollars = (line.match(/\$\$/g) ?? []).length
    if (dollars % 2 === 1) inDollar = !inDollar
    if (!inDollar && trimmed.endsWith(';')) {
      out.push(current.trim())
      current = ''
    }
  }
  if (current.trim()) out.push(current.trim())
  return out
}
