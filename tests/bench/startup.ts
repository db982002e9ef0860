/**
 * Start-up and grid import, embedded PGlite and real PostGIS side by side:
 * - cold start: empty data directory / empty database → migrate, load the fixtures, listen;
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

/** Starts the server as `npm start` does (server/start.mjs: the bundle) and returns the seconds until it printed that it is up. */
function timeStart(env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, ['server/start.mjs'], {
      cwd: ROOT, env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    const onData = (b: Buffer): void => {
      out += b.toString()
      if (out.includes('wangge is up')) {
        const s = (performance.now() - t0) / 1000
        child.kill('SIGTERM')
        child.once('exit', () => resolve(s))
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (b: Buffer) => { out += b.toString() })
    child.once('exit', (code) => { if (!out.includes('wangge is up')) reject(new Error(`server exited ${code}: ${out.slice(-2000)}`)) })
  })
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
  const warm = [await timeStart(env), await timeStart(env), await timeStart(env)].sort()[1]
  const scratch = await scratchDatabase()
  try {
    const pgCold = await timeStart({ DATABASE_URL: scratch.url })
    const pgWarm = [await timeStart({ DATABASE_URL: scratch.url }), await timeStart({ DATABASE_URL: scratch.url }), await timeStart({ DATABASE_URL: scratch.url })].sort()[1]
    rows.push(['cold start (create, migrate, load 8,423 cells, listen)', `${cold.toFixed(2)} s`, `${pgCold.toFixed(2)} s`])
    rows.push(['warm start (median of 3)', `${warm.toFixed(2)} s`, `${pgWarm.toFixed(2)} s`])
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
