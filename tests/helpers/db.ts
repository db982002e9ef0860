/**
 * Test databases without paying the cold start per file.
 *
 * A template is made once per content (migrations + the fixture's generator),
 * under a lock so parallel test files wait for one builder:
 * - embedded: a PGlite data directory under .data/test-templates/, copied per test file;
 * - real PostGIS (DATABASE_URL): a template database, cloned with CREATE DATABASE … TEMPLATE.
 * Each test file gets its own copy, dropped at teardown.
 */
import { createHash, randomBytes } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { openDatabase } from '../../server/db/index.ts'
import type { Database } from '../../server/db/types.ts'
import { ensureBaseInfo, ensureFixture, ensureFrontage, ensurePlaces } from '../../fixtures/load.ts'
import { fillCaseFixtures, CASE_FIXTURE_FILES } from '../../fixtures/cases.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const TEMPLATES = join(ROOT, '.data/test-templates')

export type TemplateName = 'empty' | 'chaoyang'

export interface TestDatabase {
  db: Database
  /** Closes and deletes this copy. */
  cleanup(): Promise<void>
}

function templateKey(name: TemplateName): string {
  const h = createHash('sha1')
  const migrations = join(ROOT, 'server/migrations')
  for (const f of readdirSync(migrations).sort()) h.update(f).update(readFileSync(join(migrations, f)))
  if (name === 'chaoyang') {
    for (const f of ['grids/generate.ts', 'fixtures/gazetteer.ts', 'server/repositories/grid-import.ts', 'grids/import-validate.ts', 'server/repositories/facility-import.ts', ...CASE_FIXTURE_FILES, ...BASE_FIXTURE_FILES]) {
      if (existsSync(join(ROOT, f))) h.update(readFileSync(join(ROOT, f)))
    }
  }
  return `${name}_${h.digest('hex').slice(0, 10)}`
}

async function fill(db: Database, name: TemplateName): Promise<void> {
  if (name === 'chaoyang') await ensureFixture(db)
  if (name === 'chaoyang') await ensurePlaces(db)
  // Organisations, some components, the loop's reference data, demo users and a small case history (fixtures/cases.ts).
  if (name === 'chaoyang') await fillCaseFixtures(db)
  // Base records from the gazetteer, and frontage units along the roads (a fifth of the full fixture's) with the history's cases linked.
  if (name === 'chaoyang') await ensureBaseInfo(db)
  if (name === 'chaoyang') await ensureFrontage(db, { count: TEST_FRONTAGE_UNITS })
}

/** Frontage units in the test template (the full fixture has 40,000). */
export const TEST_FRONTAGE_UNITS = 8000
/** Files whose change must rebuild the chaoyang template (base information). */
const BASE_FIXTURE_FILES = ['fixtures/base-info.ts', 'fixtures/frontage.ts', 'server/repositories/base-records.ts', 'server/repositories/base-frontage.ts']

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Runs `build` once across processes, using a directory as the lock. */
async function withDirLock(lock: string, done: () => boolean, build: () => Promise<void>): Promise<void> {
  mkdirSync(TEMPLATES, { recursive: true })
  for (;;) {
    if (done()) return
    try {
      mkdirSync(lock)
    } catch {
      // Someone else is building; a lock older than 10 minutes is from a killed run.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 600_000) rmSync(lock, { recursive: true, force: true })
      } catch { /* gone already */ }
      await sleep(250)
      continue
    }
    try {
      if (!done()) await build()
    } finally {
      rmSync(lock, { recursive: true, force: true })
    }
  }
}

async function pgliteTemplate(name: TemplateName): Promise<string> {
  const key = templateKey(name)
  const template = join(TEMPLATES, key)
  await withDirLock(`${template}.lock`, () => existsSync(template), async () => {
    const building = `${template}.building`
    rmSync(building, { recursive: true, force: true })
    // The fixture's template starts from a copy of the migrated empty one: migrating takes ≈ 13 s on PGlite, and
    // every test file waits for this template on a fresh checkout.
    if (name !== 'empty') cpSync(await pgliteTemplate('empty'), building, { recursive: true })
    const db = await openDatabase({ dataDir: join(building, 'pg') })
    await fill(db, name)
    await db.close()
    renameSync(building, template)
  })
  return template
}

export interface DataDirCopy {
  /** A PGlite data directory, migrated (and filled for `chaoyang`), that no process has open. */
  dataDir: string
  /** Deletes the copy. */
  remove(): void
}

/**
 * A copy of a template's PGlite data directory, not opened: for tests that hand a data directory to a process they
 * spawn (the CLI, the server) without paying for the migrations.
 */
export async function pgliteDataDirCopy(name: TemplateName): Promise<DataDirCopy> {
  const root = join(tmpdir(), `wangge-test-${process.pid}-${randomBytes(4).toString('hex')}`)
  cpSync(await pgliteTemplate(name), root, { recursive: true })
  return { dataDir: join(root, 'pg'), remove: () => rmSync(root, { recursive: true, force: true }) }
}

async function pgliteCopy(name: TemplateName): Promise<TestDatabase> {
  const copy = await pgliteDataDirCopy(name)
  const db = await openDatabase({ dataDir: copy.dataDir })
  return {
    db,
    async cleanup() {
      await db.close()
      copy.remove()
    },
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/** Makes the template database unless it is there; the caller holds the builders' lock. */
async function postgresTemplate(admin: pg.Client, url: string, name: TemplateName): Promise<string> {
  const key = `wangge_tpl_${templateKey(name)}`
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [key])
  if (exists.rows.length) return key
  // The fixture's template starts from the migrated empty one, as on PGlite.
  const from = name === 'empty' ? '' : ` TEMPLATE ${await postgresTemplate(admin, url, 'empty')}`
  const building = `${key}_building`
  await admin.query(`DROP DATABASE IF EXISTS ${building}`)
  await admin.query(`CREATE DATABASE ${building}${from}`)
  const db = await openDatabase({ databaseUrl: withDatabase(url, building) })
  await fill(db, name)
  await db.close()
  await admin.query(`ALTER DATABASE ${building} RENAME TO ${key}`)
  return key
}

async function postgresCopy(url: string, name: TemplateName): Promise<TestDatabase> {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    // Session lock: one builder of templates at a time on this server.
    await admin.query('SELECT pg_advisory_lock(20051107)')
    const key = await postgresTemplate(admin, url, name)
    const copy = `wangge_t_${process.pid}_${randomBytes(4).toString('hex')}`
    await admin.query(`CREATE DATABASE ${copy} TEMPLATE ${key}`)
    await admin.query('SELECT pg_advisory_unlock(20051107)')
    const db = await openDatabase({ databaseUrl: withDatabase(url, copy) })
    return {
      db,
      async cleanup() {
        await db.close()
        const c = new pg.Client({ connectionString: url })
        await c.connect()
        await c.query(`DROP DATABASE IF EXISTS ${copy} WITH (FORCE)`)
        await c.end()
      },
    }
  } finally {
    await admin.end()
  }
}

/** The backend the suite runs on: real PostGIS when DATABASE_URL is set, else embedded. */
export const backend = process.env.DATABASE_URL ? 'postgres' : 'pglite'

/** A private, migrated database for one test file; `chaoyang` has the fixture grid loaded. */
export async function testDatabase(name: TemplateName = 'empty'): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL
  return url ? postgresCopy(url, name) : pgliteCopy(name)
}
