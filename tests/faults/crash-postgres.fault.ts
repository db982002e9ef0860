/**
 * The server process killed (SIGKILL) in the middle of a grid import and of
 * a change-set commit, on PostgreSQL + PostGIS: afterwards the database holds
 * the old state or the new one, never a mix (tests/faults/_crash.ts). Each
 * trial is a fresh copy of a base database (the chaoyang test template plus a
 * draft of 40 merges); the kill moment is a seeded random
 * fraction of the operation's duration (FAULT_SEED, FAULT_KILLS). Never stops
 * PostgreSQL itself.
 */
import t from 'tap'
import pg from 'pg'
import { randomBytes } from 'node:crypto'
import { testDatabase } from '../helpers/db.ts'
import { openDatabase } from '../../server/db/index.ts'
import { buildDraft, neighbourPairs, commitOperation, crashTrials, importBody, importOperation, seeded, sleep, startServer, stopServer, type Copy, type CrashReport } from './_crash.ts'

const URL_BASE = process.env.DATABASE_URL
if (!URL_BASE) {
  t.comment('PostgreSQL only: set DATABASE_URL')
  process.exit(0)
}
const KILLS = Number(process.env.FAULT_KILLS ?? 4)
const SEED = Number(process.env.FAULT_SEED ?? 9001)
const rand = seeded(SEED)
const withDb = (name: string): string => { const u = new URL(URL_BASE); u.pathname = `/${name}`; return u.toString() }

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: URL_BASE })
  await c.connect()
  try { return await fn(c) } finally { await c.end() }
}

// The base: a copy of the chaoyang template, with a draft built through the API.
const { db: baseDb } = await testDatabase('chaoyang')
const baseName = (await baseDb.query<{ d: string }>('SELECT current_database() AS d')).rows[0].d
const s0 = await startServer({ DATABASE_URL: withDb(baseName) })
let changeset: number
try {
  changeset = await buildDraft(s0.base, await neighbourPairs(baseDb, Number(process.env.FAULT_MERGES ?? 40)))
} catch (err) {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${baseName} WITH (FORCE)`))
  throw err
} finally {
  await stopServer(s0)
  await baseDb.close()
}

const copies = new Set<string>()
async function copy(): Promise<Copy> {
  const name = `wangge_crash_${process.pid}_${randomBytes(3).toString('hex')}`
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${baseName}`))
  copies.add(name)
  return {
    env: { DATABASE_URL: withDb(name) },
    async settle() {
      // The dead server's session is rolled back when PostgreSQL notices the closed socket: wait for it to go.
      for (let i = 0; ; i++) {
        const n = await admin(async (c) => (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name])).rows[0].n)
        if (n === 0) return
        if (i > 300) throw new Error(`the killed server's session on ${name} did not end`)
        await sleep(100)
      }
    },
    async open() { return { db: await openDatabase({ databaseUrl: withDb(name) }), problems: [] } },
    async drop() { await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)); copies.delete(name) },
  }
}

function assertReport(r: CrashReport): void {
  t.equal(r.referenceStatus, 201, `${r.operation} completes when not killed (${Math.round(r.durationMs)} ms)`)
  t.same(r.referenceProblems, [], `${r.operation}: the completed state is consistent`)
  t.equal(r.trials.length, KILLS)
  for (const [i, tr] of r.trials.entries()) {
    t.not(tr.outcome, 'mix', `${r.operation}, kill ${i + 1} after ${tr.delayMs} ms: the old or the new state (${tr.outcome}) ${tr.differs.join('; ')}`)
    t.same(tr.problems, [], `${r.operation}, kill ${i + 1}: grid invariants hold`)
  }
  t.ok(r.trials.some((tr) => !tr.answeredFirst), `${r.operation}: at least one kill fell inside the operation`)
  t.comment(JSON.stringify({ backend: 'postgres', operation: r.operation, seed: SEED, ms: Math.round(r.durationMs), commit_ms: Math.round(r.commitMs), kills: r.trials.map((x) => `${x.delayMs}ms:${x.outcome}${x.answeredFirst ? '(answered)' : ''}`) }))
}

const log = (m: string): void => { t.comment(m) }
// Not t.teardown: tap may run teardowns while top-level awaits are still going, dropping a database under a running server.
try {
  assertReport(await crashTrials(importOperation(await importBody()), copy, { kills: KILLS, rand, facilitiesLive: false, log }))
  assertReport(await crashTrials(commitOperation(changeset), copy, { kills: KILLS, rand, facilitiesLive: true, log }))
} finally {
  await admin(async (c) => {
    for (const n of [...copies, baseName]) await c.query(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`)
  })
}
