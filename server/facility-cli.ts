/**
 * The facility commands of server/cli.ts:
 *   facilities-import <file.geojson|file.csv> [--crs wgs84|gcj02|bd09] [--skip-invalid]
 *   facilities-export [--format geojson|csv] [--out file]
 * A file is read, checked row by row, and imported in one transaction with
 * progress on stderr; a rejected file lists its problems and exits 1.
 */
import { createWriteStream, readFileSync } from 'node:fs'
import { once } from 'node:events'
import { parseArgs } from 'node:util'
import type { Database } from './db/types.ts'
import { progressBar } from './progress.ts'
import { FacilitiesRejected, importFacilities } from './repositories/facility-import.ts'
import { FacilityRepository } from './repositories/facility-repository.ts'
import { CRS_NAMES, readFacilityCsv, readFacilityGeoJSON, validateFacilities, type InputCrs } from '../geocoder/facility-validate.ts'

/** Runs one facility command on an open database; returns the exit code. */
export async function facilitiesCommand(db: Database, command: string, args: string[], usage: (why: string) => number): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: { crs: { type: 'string' }, 'skip-invalid': { type: 'boolean' }, format: { type: 'string' }, out: { type: 'string' } },
  })
  if (command === 'facilities-export') {
    const format = values.format ?? (values.out?.endsWith('.csv') ? 'csv' : 'geojson')
    if (format !== 'geojson' && format !== 'csv') return usage('--format is geojson or csv')
    const repo = new FacilityRepository(db)
    const out = values.out ? createWriteStream(values.out) : process.stdout
    let bytes = 0
    for await (const part of format === 'csv' ? repo.exportCsv() : repo.exportGeoJSON()) {
      bytes += Buffer.byteLength(part)
      if (!out.write(part)) await once(out, 'drain')
    }
    if (values.out) {
      out.end()
      await once(out, 'finish')
      console.error(`wrote ${values.out} (${(bytes / 1e6).toFixed(1)} MB)`)
    }
    return 0
  }
  const file = positionals[0]
  if (!file) return usage('facilities-import needs a file')
  const crs = (values.crs ?? 'wgs84').toLowerCase() as InputCrs
  if (!CRS_NAMES.includes(crs)) return usage(`--crs is one of ${CRS_NAMES.join(', ')}`)
  const csv = /\.csv$/i.test(file)
  const read = progressBar('read')
  const text = readFileSync(file, 'utf8')
  let parsed
  try {
    parsed = csv ? readFacilityCsv(text) : readFacilityGeoJSON(JSON.parse(text))
  } catch (err) {
    read.end()
    console.error(`${file}: not JSON: ${(err as Error).message}`)
    return 1
  }
  const subclasses = new Set((await new FacilityRepository(db).componentClasses()).map((c) => c.code))
  const checked = validateFacilities(parsed.raws, { crs, subclasses })
  read.end(`${parsed.raws.length} rows read and checked`)
  const progress = progressBar('import')
  try {
    const s = await importFacilities(db, checked.rows, [...parsed.problems, ...checked.problems], parsed.raws.length, {
      source: `cli:${file}`, format: csv ? 'csv' : 'geojson', crs, skipInvalid: values['skip-invalid'] ?? false, onProgress: progress,
    })
    progress.end()
    console.log(`imported ${file}: ${s.rows} rows, ${s.inserted} inserted, ${s.updated} updated, ${s.unchanged} unchanged, ${s.skipped} skipped in ${(s.ms / 1000).toFixed(1)} s`)
    for (const p of s.skipped_rows.slice(0, 50)) console.error(`  skipped row ${p.row ?? '-'}${p.id ? ` (${p.id})` : ''} ${p.field}: ${p.error}: ${p.reason}`)
    if (s.skipped > 50) console.error(`  … and ${s.skipped - 50} more`)
    return 0
  } catch (err) {
    progress.end()
    if (!(err instanceof FacilitiesRejected)) throw err
    console.error(`rejected: ${err.problems.length} problem(s); nothing was written (--skip-invalid imports the good rows)`)
    for (const p of err.problems.slice(0, 50)) console.error(`  row ${p.row ?? '-'}${p.id ? ` (${p.id})` : ''} ${p.field}: ${p.error}: ${p.reason}`)
    if (err.problems.length > 50) console.error(`  … and ${err.problems.length - 50} more`)
    return 1
  }
}
