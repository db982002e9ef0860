/**
 * Command line for planners and operators:
 *   npm run cli -- import <grid.geojson>     import a grid as a new version (all or nothing)
 *   npm run cli -- export [--out file]       write the active grid as GeoJSON (stdout by default)
 *   npm run cli -- generate [--cells N] [--seed N] [--out file]   make a fixture grid file
 *   npm run cli -- changeset-create | changeset-add | changeset-validate | changeset-preview | changeset-commit | changesets | grid-versions | grid-diff
 *                                            grid redraws (server/changeset-cli.ts)
 * The database is the one the server would use: DATABASE_URL, else the embedded one.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { loadConfig } from './config.ts'
import { openDatabase } from './db/index.ts'
import { validateAndImport, GridRejected } from './repositories/grid-import.ts'
import { GridRepository } from './repositories/grid-repository.ts'
import { progressBar } from './progress.ts'

const USAGE = `usage:
  npm run cli -- import <grid.geojson>
  npm run cli -- export [--out grid.geojson]
  npm run cli -- geocode <points.csv|points.ndjson|points.json> [--crs wgs84|gcj02|bd09] [--out results.csv|results.ndjson]
  npm run cli -- generate [--cells 8423] [--seed 20050101] [--out fixtures/data/grid.geojson]
  npm run cli -- facilities-import <file.geojson|file.csv> [--crs wgs84|gcj02|bd09] [--skip-invalid]
  npm run cli -- facilities-export [--format geojson|csv] [--out file]
  npm run cli -- cases [--count 500000] [--days 365] [--end ISO-date] [--seed N] [--append]   the seeded year of cases
  npm run cli -- base-import <file.geojson|file.csv> [--crs wgs84|gcj02|bd09] [--skip-invalid]   base records (人地事物组织), all or nothing
  npm run cli -- surveys-import <file.csv>   third-party survey results per subdistrict and period
  npm run cli -- indicators-snapshot [--day YYYY-MM-DD] [--days N]   the daily snapshot of the monitoring indicators
  npm run cli -- changeset-create --name N [--min-area m²] [--max-area m²]   a draft grid redraw (change set)
  npm run cli -- changeset-add <id> <op.json|->   an operation as JSON, as POST /api/changesets/:id/operations takes it
  npm run cli -- changeset-undo <id>   take back the draft's last operation
  npm run cli -- changeset-validate <id>
  npm run cli -- changeset-preview <id> [--out cells.geojson]
  npm run cli -- changeset-commit <id> [--effective ISO] [--note text]   a new grid version
  npm run cli -- changesets [--status draft|committed|discarded]
  npm run cli -- grid-versions
  npm run cli -- grid-diff <from> <to> [--out diff.geojson]`

async function withDb<T>(fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const config = loadConfig()
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, statementTimeoutMs: 600_000 })
  try {
    return await fn(db)
  } finally {
    await db.close()
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { out: { type: 'string' }, cells: { type: 'string' }, seed: { type: 'string' }, crs: { type: 'string' }, 'skip-invalid': { type: 'boolean' }, format: { type: 'string' },
      // cases (server/cases/cli.ts parses them again)
      count: { type: 'string' }, days: { type: 'string' }, end: { type: 'string' }, append: { type: 'boolean' },
      // indicators-snapshot (server/base/cli.ts parses them again)
      day: { type: 'string' },
      // change sets (server/changeset-cli.ts parses them again)
      name: { type: 'string' }, 'min-area': { type: 'string' }, 'max-area': { type: 'string' }, effective: { type: 'string' }, note: { type: 'string' }, status: { type: 'string' } },
  })
  switch (command) {
    case 'import': {
      const file = positionals[0]
      if (!file) return usage('import needs a file')
      const read = progressBar('read')
      const body: unknown = JSON.parse(readFileSync(file, 'utf8'))
      read.end()
      return withDb(async (db) => {
        const progress = progressBar('import')
        try {
          const s = await validateAndImport(db, body, `cli:${file}`, progress)
          progress.end()
          console.log(`imported grid version ${s.version}: ${s.cells} cells (${s.added} added, ${s.changed} changed, ${s.unchanged} unchanged, ${s.retired} retired), ${s.communities} communities, ${s.subdistricts} subdistricts in ${(s.ms / 1000).toFixed(1)} s`)
          return 0
        } catch (err) {
          progress.end()
          if (!(err instanceof GridRejected)) throw err
          console.error(`rejected: ${err.problemCount} problem(s); nothing was written`)
          for (const p of err.problems.slice(0, 50)) {
            console.error(`  feature ${p.index ?? '-'}${p.code ? ` (${p.code})` : ''} ${p.field}: ${p.error}: ${p.reason}`)
          }
          if (err.problemCount > 50) console.error(`  … and ${err.problemCount - 50} more`)
          return 1
        }
      })
    }
    case 'export':
      return withDb(async (db) => {
        const body = await new GridRepository(db).exportGeoJSON()
        if (values.out) {
          writeFileSync(values.out, body)
          console.error(`wrote ${values.out} (${(body.length / 1e6).toFixed(1)} MB)`)
        } else process.stdout.write(body)
        return 0
      })
    case 'facilities-import':
    case 'facilities-export':
      return withDb(async (db) => (await import('./facility-cli.ts')).facilitiesCommand(db, command, rest, usage))
    case 'base-import':
    case 'surveys-import':
    case 'indicators-snapshot':
      return withDb(async (db) => (await import('./base/cli.ts')).baseCommand(db, command, rest, usage))
    case 'cases':
      return withDb(async (db) => (await import('./cases/cli.ts')).casesCommand(db, rest))
    case 'changeset-create':
    case 'changeset-add':
    case 'changeset-undo':
    case 'changeset-validate':
    case 'changeset-preview':
    case 'changeset-commit':
    case 'changesets':
    case 'grid-versions':
    case 'grid-diff':
      return withDb(async (db) => (await import('./changeset-cli.ts')).changesetCommand(db, command, rest, usage))
    case 'geocode': {
      const file = positionals[0]
      if (!file) return usage('geocode needs a file')
      const { geocodeFile } = await import('./geocode-cli.ts')
      return withDb((db) => geocodeFile(db, file, { crs: values.crs, out: values.out, toleranceM: loadConfig().snapToleranceM }))
    }
    case 'generate': {
      const { generateGrid } = await import('../grids/generate.ts')
      const cells = values.cells ? Number(values.cells) : undefined
      const seed = values.seed ? Number(values.seed) : undefined
      if ((cells !== undefined && !(Number.isInteger(cells) && cells > 0)) || (seed !== undefined && !Number.isInteger(seed))) return usage('--cells and --seed take whole numbers')
      const out = values.out ?? `fixtures/data/grid-${cells ?? 8423}-${seed ?? 20050101}.geojson`
      const progress = progressBar('generate')
      const t0 = performance.now()
      const fc = generateGrid({ cells, seed, onProgress: progress })
      progress.end()
      writeFileSync(out, JSON.stringify(fc))
      console.log(`wrote ${out}: ${fc.features.length} cells in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
      return 0
    }
    default:
      return usage(command ? `unknown command ${command}` : 'no command')
  }
}

function usage(why: string): number {
  console.error(`${why}\n${USAGE}`)
  return 2
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
})
