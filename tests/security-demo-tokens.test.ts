/**
 * The demo users' tokens are published (printed by npm start, derivable from the
 * source): a server on an address other machines can reach refuses to start while
 * any of them still signs in, unless WANGGE_ALLOW_DEMO_TOKENS=true says it is meant.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { isLoopbackHost } from '../server/config.ts'
import { openDatabase } from '../server/db/index.ts'
import { DEMO_SUBDISTRICT, DEMO_USERS, ensureDemoUsers, signInDemoUsers } from '../fixtures/users.ts'
import { commandCentreUscc } from '../server/repositories/grid-import.ts'
import type { Database } from '../server/db/types.ts'
import { backend, pgliteDataDirCopy, testDatabase } from './helpers/db.ts'

t.test('loopback addresses', async (t) => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1', 'LOCALHOST']) t.ok(isLoopbackHost(h), h)
  for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.org', '128.0.0.1', '127.0.0.1.example.org', '']) t.notOk(isLoopbackHost(h), h || '(empty)')
})

/** The demo users, on a database without a grid: the command centre a grid import would have made first. */
async function demoUsers(db: Database): Promise<void> {
  await db.query("INSERT INTO organisations (uscc, name, kind, subdistrict_code) VALUES ($1, '建外街道网格中心', 'command_centre', $2)", [commandCentreUscc(DEMO_SUBDISTRICT), DEMO_SUBDISTRICT])
  await ensureDemoUsers(db)
}

t.test('the demo users who still sign in with their published token', async (t) => {
  const { db, cleanup } = await testDatabase('empty')
  t.teardown(cleanup)
  t.same(await signInDemoUsers(db), [], 'none before they are made')
  await demoUsers(db)
  t.equal((await signInDemoUsers(db)).length, DEMO_USERS.length, 'every demo user once made')
  await db.query("UPDATE users SET active = false WHERE name = '系统管理员'")
  const left = await signInDemoUsers(db)
  t.equal(left.length, DEMO_USERS.length - 1)
  t.notOk(left.some((u) => u.key === 'admin'), 'a deactivated one is not counted')
})

/** Runs server/main.ts on the data directory; resolves with how it ended and what it said (killed once it is up). */
function run(dataDir: string, env: Record<string, string>): Promise<{ outcome: string; log: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      env: { ...process.env, DATABASE_URL: '', WANGGE_DATA_DIR: dataDir, PORT: '0', WANGGE_SEED_FIXTURE: 'false', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let log = ''
    const hear = (d: Buffer): void => {
      log += d.toString()
      if (log.includes('wangge is up')) child.kill('SIGTERM')
    }
    child.stdout.on('data', hear)
    child.stderr.on('data', hear)
    child.once('exit', (code, signal) => resolve({ outcome: log.includes('wangge is up') ? 'up' : String(signal ?? code), log }))
  })
}

t.test('npm start on an exposed address', { skip: backend === 'pglite' ? false : 'the server process is started on an embedded data directory (the guard is the same code on PostgreSQL)' }, async (t) => {
  const { dataDir, remove } = await pgliteDataDirCopy('empty')
  t.teardown(remove)
  const db = await openDatabase({ dataDir })
  await demoUsers(db)
  await db.close()

  const refused = await run(dataDir, { HOST: '0.0.0.0' })
  t.equal(refused.outcome, '2', 'exits with 2')
  t.match(refused.log, /refusing to listen on 0\.0\.0\.0: 12 demo users .*admin/, 'says why, naming the users')
  t.match(refused.log, /WANGGE_ALLOW_DEMO_TOKENS=true/, 'and how to start anyway')

  t.equal((await run(dataDir, { HOST: '0.0.0.0', WANGGE_ALLOW_DEMO_TOKENS: 'true' })).outcome, 'up', 'starts when told it is meant')
  t.equal((await run(dataDir, { HOST: '127.0.0.1' })).outcome, 'up', 'loopback starts as always')
})
