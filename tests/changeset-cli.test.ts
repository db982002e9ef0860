/**
 * The change-set commands of the CLI, spawned as `npm run cli` runs them
 * (node --import tsx server/cli.ts) against a database of their own: a
 * temporary PGlite data directory, or a scratch database on the PostGIS of
 * DATABASE_URL. A grid is imported, a draft created, a bad split refused
 * (exit 1 naming the operation and the reason; the draft unchanged), a good
 * one added, the draft validated, previewed, committed as version 2; the
 * versions listed and diffed.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import type { FeatureCollection } from 'geojson'
import { cellFeature } from './helpers/grids.ts'
import { pgliteDataDirCopy } from './helpers/db.ts'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'wangge-cli-'))
const admin = process.env.DATABASE_URL
// Embedded: a copy of the migrated empty template (the CLI would otherwise spend its first command migrating).
const dataDir = admin ? null : await pgliteDataDirCopy('empty')
const env: NodeJS.ProcessEnv = { ...process.env, WANGGE_DATA_DIR: dataDir?.dataDir ?? join(dir, 'pglite'), LOG_LEVEL: 'silent' }
let scratch: string | null = null
if (admin) {
  scratch = `wangge_t_cli_${process.pid}`
  const c = new pg.Client({ connectionString: admin })
  await c.connect()
  await c.query(`DROP DATABASE IF EXISTS ${scratch}`)
  await c.query(`CREATE DATABASE ${scratch}`)
  await c.end()
  const u = new URL(admin)
  u.pathname = `/${scratch}`
  env.DATABASE_URL = u.toString()
} else delete env.DATABASE_URL
t.teardown(async () => {
  rmSync(dir, { recursive: true, force: true })
  dataDir?.remove()
  if (admin && scratch) {
    const c = new pg.Client({ connectionString: admin })
    await c.connect()
    await c.query(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`)
    await c.end()
  }
})

function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 })
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr }
}
const file = (name: string, body: unknown): string => {
  const f = join(dir, name)
  writeFileSync(f, JSON.stringify(body))
  return f
}

// 4 × 2 squares of ≈ 9,480 m²: community 001 on top (cells 001–004), 002 below.
const grid: FeatureCollection = {
  type: 'FeatureCollection',
  features: [0, 1].flatMap((row) => [0, 1, 2, 3].map((col) => cellFeature({ code: `11010500100${row + 1}00${col + 1}`, col, row }))),
}
const line = (...coordinates: number[][]) => ({ type: 'LineString', coordinates })

t.test('draft, refused and applied operations, validate, preview, commit, versions, diff', async (t) => {
  const imported = cli('import', file('grid.geojson', grid))
  t.equal(imported.code, 0, imported.err)
  t.match(imported.out, /imported grid version 1: 8 cells/)

  const created = cli('changeset-create', '--name', '拆分 002')
  t.equal(created.code, 0, created.err)
  t.match(created.out, /^change set 1 \(draft\): 拆分 002 — on grid version 1/)

  // Cell 110105001001002 spans x 116.491…116.492; a line at x 116.4995 misses it.
  const outside = cli('changeset-add', '1', file('outside.json', { type: 'split', cell: '110105001001002', line: line([116.4995, 39.9505], [116.4995, 39.9485]) }))
  t.equal(outside.code, 1, 'a line outside the cell is refused')
  t.match(outside.err, /operation 0 \(split\) refused: the line does not reach cell 110105001001002 \[line_outside_cell\]/)
  t.match(outside.err, /field operation\.line/)
  const malformed = cli('changeset-add', '1', file('malformed.json', { type: 'split', line: line([116.4915, 39.9505], [116.4915, 39.9485]) }))
  t.equal(malformed.code, 1, 'an operation without its cell is refused')
  t.match(malformed.err, /operation refused: validation_failed/)
  t.match(malformed.err, /split: .*cell/)
  const listed = cli('changesets')
  t.match(listed.out, /^\s+1 {2}draft\s+0 op\(s\)/m, 'the draft is unchanged: no operation')

  const added = cli('changeset-add', '1', file('split.json', { type: 'split', cell: '110105001001002', line: line([116.4915, 39.9505], [116.4915, 39.9485]) }))
  t.equal(added.code, 0, added.err)
  t.match(added.out, /operation 0 \(split\) added to change set 1: removed 1 cell\(s\) \(110105001001002\)/)
  t.match(added.out, /draft now: 1 retired \(110105001001002\); 1 reshaped \(110105001002002\); 2 added \(110105001001005, 110105001001006\)/)

  const valid = cli('changeset-validate', '1')
  t.equal(valid.code, 0, valid.err)
  t.match(valid.out, /change set 1 is valid/)
  const previewFile = join(dir, 'preview.geojson')
  const preview = cli('changeset-preview', '1', '--out', previewFile)
  t.equal(preview.code, 0, preview.err)
  t.match(preview.out, /110105001001002 {2}9,4\d\d(\.\d)? m² → –/)
  t.match(preview.out, /moves: 0 facilities, 0 open cases/)
  const cells = JSON.parse(readFileSync(previewFile, 'utf8')) as FeatureCollection
  t.same(cells.features.map((f) => `${f.properties?.side}:${f.properties?.code}`).sort(),
    ['after:110105001001005', 'after:110105001001006', 'after:110105001002002', 'before:110105001001002', 'before:110105001002002'])

  const effective = new Date(Date.now() - 1000).toISOString()
  const committed = cli('changeset-commit', '1', '--effective', effective)
  t.equal(committed.code, 0, committed.err)
  t.match(committed.out, new RegExp(`committed change set 1 as grid version 2, effective ${effective.replace(/\./g, '\\.')}: 1 retired`))
  const again = cli('changeset-commit', '1')
  t.equal(again.code, 1, 'a committed change set does not commit again')
  t.match(again.err, /change set 1 is committed; only drafts change \[changeset_not_draft\]/)

  const versions = cli('grid-versions')
  t.equal(versions.code, 0, versions.err)
  t.match(versions.out, /^v2 +9 cells {2}effective .*changeset: 拆分 002$/m)
  t.match(versions.out, /^v1 +8 cells/m)
  const diffFile = join(dir, 'diff.geojson')
  const diff = cli('grid-diff', '1', '2', '--out', diffFile)
  t.equal(diff.code, 0, diff.err)
  t.match(diff.out, /v1 → v2: 1 removed, 2 added, 1 reshaped, 1 reshaped_before/)
  const d = JSON.parse(readFileSync(diffFile, 'utf8')) as FeatureCollection
  t.same(d.features.map((f) => `${f.properties?.change}:${f.properties?.code}`).sort(),
    ['added:110105001001005', 'added:110105001001006', 'removed:110105001001002', 'reshaped:110105001002002', 'reshaped_before:110105001002002'])
  const missing = cli('grid-diff', '1', '9')
  t.equal(missing.code, 1)
  t.match(missing.err, /grid version 9 not found \[not_found\]/)
})
