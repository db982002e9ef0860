/**
 * Runs the benchmarks one after another, each in its own process so one's
 * memory and JIT state do not colour the next. `npm run bench` runs them all;
 * `npm run bench -- startup geocode` runs those named.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { cpus, totalmem } from 'node:os'

const dir = fileURLToPath(new URL('.', import.meta.url))
const all = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_')).sort()
const wanted = process.argv.slice(2)
const chosen = wanted.length ? all.filter((f) => wanted.some((w) => f.startsWith(w))) : all
if (!chosen.length) {
  console.error(`no benchmark matches ${wanted.join(' ')}; there are: ${all.join(', ')}`)
  process.exit(2)
}
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`)
console.log(`PostGIS side: ${process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test (default)'}`)
let failed = 0
for (const f of chosen) {
  console.log(`\n## ${f}`)
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', `${dir}/${f}`], { stdio: 'inherit' })
  if (r.status !== 0) {
    failed++
    console.error(`${f} exited with ${r.status ?? r.signal}`)
  }
}
process.exit(failed ? 1 : 0)
