/**
 * The same crash tests as crash-postgres.fault.ts on the embedded database:
 * a server process writing into a temporary WANGGE_DATA_DIR is killed with
 * SIGKILL in the middle of a grid import and of a change-set commit; the data
 * directory is then reopened by this process — PGlite recovers it, and the
 * pid lock the dead process left behind must not block the reopen — and holds
 * the old state or the new one, never a mix (tests/faults/_crash.ts).
 */
import t from 'tap'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pgliteDataDirCopy } from '../helpers/db.ts'
import { openDatabase } from '../../server/db/index.ts'
import { buildDraft, neighbourPairs, commitOperation, crashTrials, importBody, importOperation, seeded, startServer, stopServer, type Copy, type CrashReport } from './_crash.ts'

// This file is the embedded backend whatever the faults script sets.
delete process.env.DATABASE_URL
const KILLS = Number(process.env.FAULT_KILLS ?? 3)
const SEED = Number(process.env.FAULT_SEED ?? 9002)
const rand = seeded(SEED)

// The base: a copy of the chaoyang template's data directory (<root>/pg), copied again for every trial.
const base = await pgliteDataDirCopy('chaoyang')
const baseRoot = dirname(base.dataDir)
const baseDb = await openDatabase({ dataDir: base.dataDir })
const work = mkdtempSync(join(tmpdir(), 'wangge-crash-'))
try {
  const pairs = await neighbourPairs(baseDb, Number(process.env.FAULT_MERGES ?? 40))
  await baseDb.close()
  const s0 = await startServer({ WANGGE_DATA_DIR: base.dataDir })
  let changeset: number
  try {
    changeset = await buildDraft(s0.base, pairs)
  } finally {
    await stopServer(s0)
  }

  let n = 0
  const copy = async (): Promise<Copy> => {
    const root = join(work, String(n++))
    cpSync(baseRoot, root, { recursive: true })
    const dataDir = join(root, 'pg')
    let serverPid = 0
    return {
      env: { WANGGE_DATA_DIR: dataDir },
      async settle() { /* the database died with the process */ },
      async open() {
        const problems: string[] = []
        const lock = `${dataDir}.lock`
        // After a kill the dead server's lock is still there; after a clean stop (the reference) it is gone.
        if (existsSync(lock)) serverPid = Number(readFileSync(lock, 'utf8'))
        const db = await openDatabase({ dataDir })
        const owner = existsSync(lock) ? Number(readFileSync(lock, 'utf8')) : 0
        if (owner !== process.pid) problems.push(`the lock names ${owner} after reopening, not this process (${process.pid}); the dead server was ${serverPid}`)
        return { db, problems }
      },
      async drop() { rmSync(root, { recursive: true, force: true }) },
    }
  }

  const locksSeen: number[] = []
  const wrap = async (): Promise<Copy> => {
    const c = await copy()
    return { ...c, async open() { if (existsSync(`${c.env.WANGGE_DATA_DIR}.lock`)) locksSeen.push(1); return c.open() } }
  }

  const assertReport = (r: CrashReport): void => {
    t.equal(r.referenceStatus, 201, `${r.operation} completes when not killed (${Math.round(r.durationMs)} ms)`)
    t.same(r.referenceProblems, [], `${r.operation}: the completed state is consistent`)
    t.equal(r.trials.length, KILLS)
    for (const [i, tr] of r.trials.entries()) {
      t.not(tr.outcome, 'mix', `${r.operation}, kill ${i + 1} after ${tr.delayMs} ms: the old or the new state (${tr.outcome}) ${tr.differs.join('; ')}`)
      t.same(tr.problems, [], `${r.operation}, kill ${i + 1}: reopened past the dead process's lock; grid invariants hold`)
    }
    t.ok(r.trials.some((tr) => !tr.answeredFirst), `${r.operation}: at least one kill fell inside the operation`)
    t.comment(JSON.stringify({ backend: 'pglite', operation: r.operation, seed: SEED, ms: Math.round(r.durationMs), commit_ms: Math.round(r.commitMs), kills: r.trials.map((x) => `${x.delayMs}ms:${x.outcome}${x.answeredFirst ? '(answered)' : ''}`) }))
  }
  const log = (m: string): void => { t.comment(m) }
  assertReport(await crashTrials(importOperation(await importBody()), wrap, { kills: KILLS, rand, facilitiesLive: false, log }))
  assertReport(await crashTrials(commitOperation(changeset), wrap, { kills: KILLS, rand, facilitiesLive: true, log }))
  t.equal(locksSeen.length, 2 * KILLS, 'every killed server left its lock behind, and every reopen took it over')
} finally {
  rmSync(work, { recursive: true, force: true })
  base.remove()
}

