/**
 * Start-up and grid import, embedded PGlite and real PostGIS side by side:
 * - cold start: empty data directory / empty database → migrate, load the fixtures, listen;
 * - the time until the facility index, built after listen, is in memory;
 * - warm start: the same again with the data already there;
 * - import of the 8,423-cell grid file into an empty database, in process.
 * The fixture file is generated once beforehand so cold starts measure the database, not the generator.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chaoyangGridText } from '../../fixtures/load.ts'
import { openDatabase } from '../../server/db/index.ts'
import { validateAndImport } from '../../server/repositories/grid-import.ts'
import { scratchDatabase } from './_pg.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

interface StartTimes {
  /** Seconds from spawn to the "wangge is up" line (listening, banner printed). */
  up: number
  /** Seconds from spawn to the facility index being in memory (built after listen). */
  indexReady: number
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Starts the server as `npm start` does (server/start.mjs: the bundle); times "up" and "facility index ready". */
function timeStart(env: NodeJS.ProcessEnv): Promise<StartTimes> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, ['server/start.mjs'], {
      cwd: ROOT, env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let up: number | null = null
    const onData = (b: Buffer): void => {
      out += b.toString()
      if (up === null && out.includes('wangge is up')) up = (performance.now() - t0) / 1000
      if (up !== null && out.includes('facility index ready')) {
        const indexReady = (performance.now() - t0) / 1000
        const upAt = up
        child.kill('SIGTERM')
        child.once('exit', () => resolve({ up: upAt, indexReady }))
        child.stdout.off('data', onData)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (b: Buffer) => { out += b.toString() })
    child.once('exit', (code) => { if (up === null) reject(new Error(`server exited ${code}: ${out.slice(-2000)}`)) })
  })
}

async function warmStarts(env: NodeJS.ProcessEnv): Promise<StartTimes> {
  const runs: StartTimes[] = []
  for (let i = 0; i < 5; i++) runs.push(await timeStart(env))
  return { up: median(runs.map((r) => r.up)), indexReady: median(runs.map((r) => r.indexReady)) }
}

async function importTime(open: () => Promise<Awaited<ReturnType<typeof openDatabase>>>, text: string): Promise<number> {
  const db = await open()
  try {
    const t0 = performance.now()
    const s = await validateAndImport(db, JSON.parse(text), 'bench')
    if (s.cells !== 8423) throw new Error(`imported ${s.cells}`)
    return (performance.now() - t0) / 1000
  } finally {
    await db.close()
  }
}

const text = await chaoyangGridText()
const rows: [string, string, string][] = []

const dir = mkdtempSync(join(tmpdir(), 'wangge-bench-'))
try {
  const env = { WANGGE_DATA_DIR: join(dir, 'pg') }
  const cold = await timeStart(env)
  const warm = await warmStarts(env)
  const scratch = await scratchDatabase()
  try {
    const pgCold = await timeStart({ DATABASE_URL: scratch.url })
    const pgWarm = await warmStarts({ DATABASE_URL: scratch.url })
    rows.push(['cold start: create, migrate, load every fixture (grid, places, 250,007 facilities, 19,000 cases), listen', `${cold.up.toFixed(2)} s`, `${pgCold.up.toFixed(2)} s`])
    rows.push(['warm start: spawn → listening with 8,423 cells (median of 5)', `**${warm.up.toFixed(2)} s**`, `**${pgWarm.up.toFixed(2)} s**`])
    rows.push(['warm start: spawn → 250,007-component facility index in memory (PostGIS answers until then)', `${warm.indexReady.toFixed(2)} s`, `${pgWarm.indexReady.toFixed(2)} s`])
  } finally {
    await scratch.drop()
  }
  const imp = await importTime(() => openDatabase({ dataDir: join(dir, 'imp') }), text)
  const scratch2 = await scratchDatabase()
  try {
    const pgImp = await importTime(() => openDatabase({ databaseUrl: scratch2.url }), text)
    rows.push(['import 8,423-cell grid (validate, PostGIS checks, write, outlines)', `${imp.toFixed(2)} s`, `${pgImp.toFixed(2)} s`])
  } finally {
    await scratch2.drop()
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}

console.log('\n| measure | embedded PGlite | PostgreSQL + PostGIS |\n|---|---|---|')
for (const r of rows) console.log(`| ${r.join(' | ')} |`)
