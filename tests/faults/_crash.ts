/**
 * Crash harness shared by crash-postgres.fault.ts and crash-pglite.fault.ts.
 *
 * A "base" database (the chaoyang test template: 8,423 cells, components,
 * a case history, demo users) gets a change-set draft with several
 * regenerated communities. Each trial works on a fresh copy of it: a server
 * process (server/main.ts) is spawned on the copy, the operation is sent —
 * a grid import or the draft's commit — and the server is killed with
 * SIGKILL at a seeded random moment within the operation's measured
 * duration. The copy is then reopened (a fresh process's open: PGlite must
 * recover its data directory and take over the dead process's pid lock) and
 * its state compared with the state before and the state a completed run
 * leaves: it must be one of the two, never a mix; and the grid's own
 * invariants (version ↔ cell count, cell_codes, cell_history, facilities and
 * cases in live cells) must hold whichever it is.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import type { FeatureCollection } from 'geojson'
import type { Database, Queryable } from '../../server/db/types.ts'
import { chaoyangGridText } from '../../fixtures/load.ts'
import { demoToken } from '../../fixtures/users.ts'

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export const freePort = (): Promise<number> => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
})

/** mulberry32: a small seeded generator, so a failing kill moment can be replayed with FAULT_SEED. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface Server {
  base: string
  child: ChildProcess
  log(): string
  /** Resolves with the exit code or signal once the process is gone. */
  exited: Promise<string>
}

/** Spawns the server on `env` (DATABASE_URL or WANGGE_DATA_DIR); waits for /healthz and the facility index. */
export async function startServer(env: Record<string, string>): Promise<Server> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { ...process.env, DATABASE_URL: '', WANGGE_DATA_DIR: '', ...env, PORT: String(port), HOST: '127.0.0.1', WANGGE_SEED_FIXTURE: 'false', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  child.stdout?.on('data', (d: Buffer) => { log += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { log += d.toString() })
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? String(code))))
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited before it was up: ${log.slice(-3000)}`)
    try { if ((await fetch(`${base}/healthz`)).ok) break } catch { /* not up yet */ }
    if (i > 900) throw new Error(`server did not start: ${log.slice(-3000)}`)
    await sleep(100)
  }
  // The facility index and the heatmap columns load after listen: let them finish so they do not share the operation's time.
  for (let i = 0; i < 600 && !/heatmap case columns|loading the heatmap case columns failed/.test(log); i++) await sleep(100)
  return { base, child, log: () => log, exited }
}

export async function stopServer(s: Server): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM')
  await s.exited
}

const PLANNER = demoToken('planner')

/** The import's body: the fixture grid without every 25th cell (those are retired: a new version with 337 cells fewer). */
export async function importBody(): Promise<string> {
  const fc = JSON.parse(await chaoyangGridText()) as FeatureCollection
  return JSON.stringify({ ...fc, features: fc.features.filter((_f, i) => i % 25 !== 7) })
}

async function newestVersion(base: string): Promise<number> {
  const r = await fetch(`${base}/api/grids/versions`)
  const vs = (await r.json()) as { id: number }[]
  return vs[0]?.id ?? 0
}

export interface Operation {
  name: string
  send(base: string): Promise<Response>
}

export function importOperation(body: string): Operation {
  return {
    name: 'grid import',
    send: (base) => fetch(`${base}/api/grids/import`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${PLANNER}` } }),
  }
}

export function commitOperation(changeset: number): Operation {
  return {
    name: 'change-set commit',
    send: (base) => fetch(`${base}/api/changesets/${changeset}/commit`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', authorization: `Bearer ${PLANNER}` } }),
  }
}

/**
 * `merges` disjoint pairs of neighbouring cells of one community, in the
 * communities with the most components and cases: merged by buildDraft's
 * draft, so its commit retires, adds and moves a lot.
 */
export async function neighbourPairs(db: Queryable, merges: number): Promise<[string, string][]> {
  const pairs = (await db.query<{ a: string; b: string }>(`
    WITH busy AS (
      SELECT c.community_code FROM cells c GROUP BY c.community_code
      ORDER BY (SELECT count(*) FROM facilities f WHERE f.cell_code LIKE c.community_code || '%')
             + (SELECT count(*) FROM cases k WHERE k.cell_code LIKE c.community_code || '%') DESC, c.community_code
      LIMIT 30)
    SELECT a.code AS a, b.code AS b FROM cells a JOIN busy USING (community_code)
    JOIN cells b ON b.community_code = a.community_code AND b.code > a.code AND ST_Intersects(a.geom, b.geom)
    WHERE ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))) > 0.0005
    ORDER BY a.code, b.code`)).rows
  const used = new Set<string>()
  const picked: [string, string][] = []
  for (const p of pairs) {
    if (picked.length >= merges) break
    if (used.has(p.a) || used.has(p.b)) continue
    used.add(p.a); used.add(p.b)
    picked.push([p.a, p.b])
  }
  if (picked.length < merges) throw new Error(`only ${picked.length} disjoint neighbouring pairs`)
  return picked
}

export async function buildDraft(base: string, picked: [string, string][]): Promise<number> {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${PLANNER}` }
  const cs = await fetch(`${base}/api/changesets`, { method: 'POST', headers, body: JSON.stringify({ title: 'crash test: merges' }) })
  if (cs.status !== 201) throw new Error(`changeset: ${cs.status} ${await cs.text()}`)
  const id = ((await cs.json()) as { id: number }).id
  for (const cells of picked) {
    const op = await fetch(`${base}/api/changesets/${id}/operations`, { method: 'POST', headers, body: JSON.stringify({ type: 'merge', cells }) })
    if (op.status !== 201) throw new Error(`merge ${cells.join('+')}: ${op.status} ${await op.text()}`)
  }
  const v = await fetch(`${base}/api/changesets/${id}/validate`, { method: 'POST', headers: { authorization: `Bearer ${PLANNER}` } })
  const vb = (await v.json()) as { valid: boolean; problems: unknown[] }
  if (!vb.valid) throw new Error(`the draft does not validate: ${JSON.stringify(vb.problems).slice(0, 2000)}`)
  return id
}

/** The grid's state as digests: two states are equal when every part is. Times (created_at) are left out. */
export interface GridState {
  versions: string
  cells: number
  cellsDigest: string
  history: string
  codes: string
  outlines: string
  facilities: string
  cases: string
  changesets: string
}

const md5agg = (expr: string, table: string, order: string): string => `SELECT coalesce(md5(string_agg(${expr}, ',' ORDER BY ${order})), '-') AS d FROM ${table}`

export async function gridState(db: Queryable): Promise<GridState> {
  const one = async (sql: string): Promise<string> => (await db.query<{ d: string }>(sql)).rows[0].d
  return {
    versions: await one(md5agg(`id || ':' || source || ':' || cell_count`, 'grid_versions', 'id')),
    cells: (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cells')).rows[0].n,
    cellsDigest: await one(md5agg(`code || community_code || responsible_unit || version || md5(ST_AsEWKB(geom)::text)`, 'cells', 'code')),
    history: await one(md5agg(`code || ':' || version_from || ':' || coalesce(version_to::text, '-') || md5(ST_AsEWKB(geom)::text)`, 'cell_history', 'code, version_from')),
    codes: await one(md5agg(`code || ':' || first_version || ':' || coalesce(retired_version::text, '-')`, 'cell_codes', 'code')),
    outlines: await one(md5agg(`code || ':' || coalesce(md5(ST_AsEWKB(geom)::text), '-')`, 'communities', 'code')),
    facilities: await one(md5agg(`id || ':' || coalesce(cell_code, '-')`, 'facilities', 'id')),
    cases: await one(md5agg(`id || ':' || cell_code`, 'cases', 'id')),
    changesets: await one(md5agg(`id || ':' || status || ':' || coalesce(committed_version::text, '-')`, 'changesets', 'id')),
  }
}

/**
 * Invariants that hold in any consistent state, whatever it is: the newest
 * version's cell count is the number of cells, no cell is newer than it,
 * the open rows of cell_history and the live cell_codes are exactly the
 * cells, and every component with a cell points at a live one. Returns the
 * violations (empty when consistent).
 */
export async function gridInvariants(db: Queryable, opts: { facilitiesLive: boolean }): Promise<string[]> {
  const bad: string[] = []
  const n = async (sql: string): Promise<number> => (await db.query<{ n: number }>(sql)).rows[0].n
  const v = (await db.query<{ id: number; cell_count: number }>('SELECT id, cell_count FROM grid_versions ORDER BY id DESC LIMIT 1')).rows[0]
  const cells = await n('SELECT count(*)::int AS n FROM cells')
  if (!v || v.cell_count !== cells) bad.push(`newest version ${v?.id} says ${v?.cell_count} cells, there are ${cells}`)
  if (v) {
    const newer = await n(`SELECT count(*)::int AS n FROM cells WHERE version > ${v.id}`)
    if (newer) bad.push(`${newer} cells newer than the newest version`)
  }
  const openHistory = await n(`SELECT count(*)::int AS n FROM (
      (SELECT code FROM cell_history WHERE version_to IS NULL EXCEPT SELECT code FROM cells)
      UNION ALL (SELECT code FROM cells EXCEPT SELECT code FROM cell_history WHERE version_to IS NULL)) x`)
  if (openHistory) bad.push(`${openHistory} codes differ between cells and the open rows of cell_history`)
  const dupOpen = await n('SELECT count(*)::int AS n FROM (SELECT code FROM cell_history WHERE version_to IS NULL GROUP BY code HAVING count(*) > 1) x')
  if (dupOpen) bad.push(`${dupOpen} codes with two open cell_history rows`)
  const liveCodes = await n(`SELECT count(*)::int AS n FROM (
      (SELECT code FROM cell_codes WHERE retired_version IS NULL EXCEPT SELECT code FROM cells)
      UNION ALL (SELECT code FROM cells EXCEPT SELECT code FROM cell_codes WHERE retired_version IS NULL)) x`)
  if (liveCodes) bad.push(`${liveCodes} codes differ between cells and the live cell_codes`)
  const facilities = !opts.facilitiesLive ? 0 : await n('SELECT count(*)::int AS n FROM facilities f WHERE f.cell_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM cells c WHERE c.code = f.cell_code)')
  if (facilities) bad.push(`${facilities} components in a cell that is not live`)
  const openCases = await n(`SELECT count(*)::int AS n FROM cases k WHERE k.is_open AND NOT EXISTS (SELECT 1 FROM cell_codes c WHERE c.code = k.cell_code)`)
  if (openCases) bad.push(`${openCases} open cases in a cell code never issued`)
  return bad
}

export function sameState(a: GridState, b: GridState): boolean {
  return (Object.keys(a) as (keyof GridState)[]).every((k) => a[k] === b[k])
}

export function differences(a: GridState, b: GridState): string[] {
  return (Object.keys(a) as (keyof GridState)[]).filter((k) => a[k] !== b[k])
}

/** One fresh copy of the base database for a trial. */
export interface Copy {
  /** Environment for the server: DATABASE_URL or WANGGE_DATA_DIR. */
  env: Record<string, string>
  /** After the server died: wait until the database let go of its session (PostgreSQL) — nothing for PGlite. */
  settle(): Promise<void>
  /** Opens the copy as a new process would (PGlite: recovery and taking over the dead pid's lock); `check` sees extra problems. */
  open(): Promise<{ db: Database; problems: string[] }>
  drop(): Promise<void>
}

export interface Trial {
  delayMs: number
  /** 'old' or 'new': which state the database held; 'mix' when neither. */
  outcome: 'old' | 'new' | 'mix'
  /** The answer came before the kill: the kill was not inside the operation. */
  answeredFirst: boolean
  differs: string[]
  problems: string[]
}

export interface CrashReport {
  operation: string
  durationMs: number
  /** When the reference's new version became visible to another request. */
  commitMs: number
  before: GridState
  after: GridState
  referenceStatus: number
  referenceProblems: string[]
  trials: Trial[]
}

/**
 * The state before; a completed run (the reference: its duration and the new
 * state); then `kills` trials, each killed after a seeded random fraction of
 * the reference duration.
 */
export async function crashTrials(op: Operation, copy: () => Promise<Copy>, opts: { kills: number; rand: () => number; facilitiesLive: boolean; log?: (m: string) => void }): Promise<CrashReport> {
  const inspect = async (c: Copy): Promise<{ state: GridState; problems: string[] }> => {
    const { db, problems } = await c.open()
    try {
      return { state: await gridState(db), problems: [...problems, ...await gridInvariants(db, opts)] }
    } finally {
      await db.close()
    }
  }
  const c0 = await copy()
  let before: GridState
  try {
    const b = await inspect(c0)
    if (b.problems.length) throw new Error(`the base is inconsistent already: ${b.problems.join('; ')}`)
    before = b.state
  } finally {
    await c0.drop()
  }

  const ref = await copy()
  let durationMs!: number
  let commitMs = 0
  let after: GridState
  let referenceStatus!: number
  let referenceProblems!: string[]
  try {
    const s = await startServer(ref.env)
    try {
      const t0 = performance.now()
      // When the new version becomes visible (its transaction committed): the server answers later, after refreshing its caches.
      const v0 = await newestVersion(s.base)
      let polling = true
      const poll = (async () => {
        while (polling) {
          const v = await newestVersion(s.base).catch(() => v0)
          if (v !== v0) { commitMs = performance.now() - t0; return }
          await sleep(20)
        }
      })()
      const r = await op.send(s.base).catch((err: unknown) => { throw new Error(`${op.name} on the reference copy failed: ${String(err)}; server log: ${s.log().slice(-3000)}`) })
      durationMs = performance.now() - t0
      polling = false
      await poll
      referenceStatus = r.status
      if (r.status !== 201) throw new Error(`${op.name} on the reference copy: ${r.status} ${await r.text()}`)
      await r.text()
    } finally {
      await stopServer(s)
    }
    const a = await inspect(ref)
    after = a.state
    referenceProblems = a.problems
  } finally {
    await ref.drop()
  }
  if (!commitMs) commitMs = durationMs
  opts.log?.(`${op.name}: committed after ${Math.round(commitMs)} ms, answered after ${Math.round(durationMs)} ms; old ${before.cells} cells, new ${after.cells}`)
  if (sameState(before, after)) throw new Error(`${op.name} changed nothing: the test could not tell old from new`)

  const trials: Trial[] = []
  for (let i = 0; i < opts.kills; i++) {
    // Anywhere from just after the request is sent to a little after the reference's commit became visible, one kill
    // in each of `kills` equal stretches of that span (stratified): with three kills one lands in the first third, so a
    // run whose operation is quicker than the reference's (another process shared the cores then) still kills one
    // inside it.
    const delayMs = Math.round(commitMs * (0.02 + 1.08 * (i + opts.rand()) / opts.kills))
    const c = await copy()
    try {
      const s = await startServer(c.env)
      let answeredFirst = false
      const pending = op.send(s.base).then(async (r) => { answeredFirst = true; await r.text() }, () => { /* the connection died with the server */ })
      await sleep(delayMs)
      s.child.kill('SIGKILL')
      await s.exited
      await pending
      await c.settle()
      const { state, problems } = await inspect(c)
      const outcome = sameState(state, before) ? 'old' : sameState(state, after) ? 'new' : 'mix'
      const differs = outcome === 'mix' ? [`from old: ${differences(state, before).join(',')}`, `from new: ${differences(state, after).join(',')}`] : []
      trials.push({ delayMs, outcome, answeredFirst, differs, problems })
      opts.log?.(`${op.name}: killed after ${delayMs} ms → ${outcome}${answeredFirst ? ' (answered before the kill)' : ''}${problems.length ? ` problems: ${problems.join('; ')}` : ''}${differs.length ? ` differs ${differs.join('; ')}` : ''}`)
    } finally {
      await c.drop()
    }
  }
  return { operation: op.name, durationMs, commitMs, before, after, referenceStatus, referenceProblems, trials }
}
