/**
 * The base-information commands of server/cli.ts:
 *   base-import <file.geojson|file.csv> [--crs wgs84|gcj02|bd09] [--skip-invalid]
 *   surveys-import <file.csv>
 *   indicators-snapshot [--day YYYY-MM-DD] [--days N]   today's (or that day's) snapshot; --days: that many days ending there
 * A file is read, checked row by row and imported in one transaction with
 * progress on stderr; a rejected file lists its problems and exits 1.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { Database } from '../db/types.ts'
import { progressBar } from '../progress.ts'
import { BaseRecordsRejected, importBaseRecords } from '../repositories/base-records.ts'
import { CRS_NAMES, isCrs, readBaseCsv, readBaseGeoJSON, validateBase } from './validate.ts'
import { SurveysRejected, importSurveys, readSurveyCsv } from './surveys.ts'
import { beijingDay, takeSnapshot } from './indicators.ts'

const SHOWN = 50

export async function baseCommand(db: Database, command: string, args: string[], usage: (why: string) => number): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: { crs: { type: 'string' }, 'skip-invalid': { type: 'boolean' }, day: { type: 'string' }, days: { type: 'string' } },
  })
  if (command === 'indicators-snapshot') {
    const day = values.day ?? beijingDay(new Date())
    const days = values.days === undefined ? 1 : Number(values.days)
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || !Number.isInteger(days) || days < 1 || days > 366) return usage('--day is YYYY-MM-DD, --days a whole number 1–366')
    const progress = progressBar('indicators')
    for (let i = days - 1; i >= 0; i--) {
      const d = new Date(Date.parse(`${day}T00:00:00Z`) - i * 86_400_000).toISOString().slice(0, 10)
      const s = await takeSnapshot(db, { day: d, onProgress: (stage, done, total) => progress(`${d} ${stage}`, done, total) })
      progress.end(`${d}: ${s.subjects.map((x) => `${x.subject} ${x.units} units × ${x.indicators}`).join(', ')} in ${(s.ms / 1000).toFixed(1)} s`)
    }
    return 0
  }
  const file = positionals[0]
  if (!file) return usage(`${command} needs a file`)
  if (command === 'surveys-import') {
    try {
      const s = await importSurveys(db, readSurveyCsv(readFileSync(file, 'utf8')), `cli:${file}`)
      console.log(`imported ${file}: ${s.written} survey rows (import ${s.import_id})`)
      return 0
    } catch (err) {
      if (!(err instanceof SurveysRejected)) throw err
      console.error(`rejected: ${err.problems.length} problem(s); nothing was written`)
      for (const p of err.problems.slice(0, SHOWN)) console.error(`  row ${p.row ?? '-'} ${p.field}: ${p.error}: ${p.reason}`)
      return 1
    }
  }
  const crs = (values.crs ?? 'wgs84').toLowerCase()
  if (!isCrs(crs)) return usage(`--crs is one of ${CRS_NAMES.join(', ')}`)
  const csv = /\.csv$/i.test(file)
  const read = progressBar('read')
  const text = readFileSync(file, 'utf8')
  let parsed
  try {
    parsed = csv ? readBaseCsv(text) : readBaseGeoJSON(JSON.parse(text))
  } catch (err) {
    read.end()
    console.error(`${file}: not JSON: ${(err as Error).message}`)
    return 1
  }
  const checked = validateBase(parsed.raws, { crs })
  read.end(`${parsed.raws.length} rows read and checked`)
  const progress = progressBar('import')
  try {
    const s = await importBaseRecords(db, checked.rows, [...parsed.problems, ...checked.problems], parsed.raws.length, {
      source: `cli:${file}`, format: csv ? 'csv' : 'geojson', crs, skipInvalid: values['skip-invalid'] ?? false, onProgress: progress,
    })
    progress.end()
    console.log(`imported ${file}: ${s.rows} rows, ${s.inserted} inserted, ${s.updated} updated, ${s.skipped} skipped in ${(s.ms / 1000).toFixed(1)} s`)
    for (const p of s.skipped_rows.slice(0, SHOWN)) console.error(`  skipped row ${p.row ?? '-'}${p.id ? ` (${p.id})` : ''} ${p.field}: ${p.error}: ${p.reason}`)
    return 0
  } catch (err) {
    progress.end()
    if (!(err instanceof BaseRecordsRejected)) throw err
    console.error(`rejected: ${err.problems.length} problem(s); nothing was written (--skip-invalid imports the good rows)`)
    for (const p of err.problems.slice(0, SHOWN)) console.error(`  row ${p.row ?? '-'}${p.id ? ` (${p.id})` : ''} ${p.field}: ${p.error}: ${p.reason}`)
    if (err.problems.length > SHOWN) console.error(`  … and ${err.problems.length - SHOWN} more`)
    return 1
  }
}
