/**
 * `npm run cli -- geocode <in.csv|in.ndjson|in.json> [--crs gcj02] [--out results.csv]`:
 * locates every row of a file against the active grid, streaming, with a progress
 * line on stderr and a summary at the end. Output is CSV or NDJSON by the --out
 * name (stdout: NDJSON). The same code as POST /api/geocode/batch.
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs'
import { Transform, type Writable } from 'node:stream'
import { finished } from 'node:stream/promises'
import type { Database } from './db/types.ts'
import { loadIndexCells } from './repositories/geocoder-repository.ts'
import { buildSnapshot } from './plugins/geocoder.ts'
import { geocodeStream, type InputFormat } from './geocode-batch.ts'
import { parseCrs, toWgs84 } from '../geocoder/crs.ts'
import { progressBar } from './progress.ts'

export async function geocodeFile(db: Database, file: string, opts: { crs?: string; out?: string; toleranceM?: number }): Promise<number> {
  const snapshot = buildSnapshot(await loadIndexCells(db), [], opts.toleranceM)
  if (!snapshot) {
    console.error('no grid loaded: import one first')
    return 1
  }
  const input: InputFormat = /\.csv$/i.test(file) ? 'csv' : /\.json$/i.test(file) ? 'json' : 'ndjson'
  const output = opts.out && /\.csv$/i.test(opts.out) ? 'csv' : 'ndjson'
  const size = statSync(file).size
  const progress = progressBar('geocode')
  let read = 0
  // Counts bytes as they are read, for the progress line.
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      read += chunk.length
      progress('rows', read, size)
      cb(null, chunk)
    },
  })
  const source = createReadStream(file).pipe(counter)
  const sink: Writable = opts.out ? createWriteStream(opts.out) : process.stdout
  const t0 = performance.now()
  const summary = await geocodeStream(source, sink, snapshot, { input, output, crs: parseCrs(opts.crs ?? 'wgs84'), toWgs84 })
  progress.end()
  if (opts.out) {
    sink.end()
    await finished(sink)
  }
  const s = (performance.now() - t0) / 1000
  console.error(`geocoded ${summary.rows} rows in ${s.toFixed(1)} s (${Math.round(summary.rows / s)} rows/s): ${summary.located} located (${summary.snapped} snapped), ${summary.outside} outside the district, ${summary.errors} bad rows${opts.out ? ` → ${opts.out}` : ''}`)
  return 0
}
