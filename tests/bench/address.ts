/**
 * Address text → gazetteer entries on the Chaoyang fixture (≈ 57,000 entries):
 * fixture generation, OpenCC load, index build (cold and warm), memory, and queries per second with the share ranked first for
 * exact, traditional/full-width, suffix-less, misspelt and unmatched text.
 * Queries are drawn with a fixed seed, so runs compare.
 *
 *   npx tsx tests/bench/address.ts        (or npm run bench -- address)
 */
import * as OpenCC from 'opencc-js/cn2t'
import { FIXTURE_SEED, chaoyangGridText } from '../../fixtures/load.ts'
import { generateGazetteer } from '../../fixtures/gazetteer.ts'
import { Gazetteer, type GazetteerEntry } from '../../geocoder/gazetteer.ts'
import { toSimplified } from '../../geocoder/address-normalise.ts'
import { createRandom } from '../../grids/random.ts'

// queries per kind: enough for a stable rate, a few seconds in all
const QUERIES = 20_000
// the 404 path scans more; fewer of those
const MISSES = 2_000

// wall time, and the process's CPU time beside it: on a shared machine the second varies less
const cpuMs = (since: NodeJS.CpuUsage): number => {
  const c = process.cpuUsage(since)
  return (c.user + c.system) / 1000
}
const timed = (fn: () => unknown): string => {
  const c0 = process.cpuUsage()
  const w0 = performance.now()
  fn()
  return `${(performance.now() - w0).toFixed(0)} ms (CPU ${cpuMs(c0).toFixed(0)} ms)`
}
const gc = (): void => (globalThis as { gc?: () => void }).gc?.()
const heapMiB = (): number => process.memoryUsage().heapUsed / 2 ** 20

const grid = JSON.parse(await chaoyangGridText())
let entries: GazetteerEntry[] = []
const gen = timed(() => { entries = generateGazetteer(grid, { seed: FIXTURE_SEED }) })
// the OpenCC dictionaries load on first use: once per process, timed apart
const opencc = timed(() => toSimplified('臺'))
gc()
const heap0 = heapMiB()
let gaz = new Gazetteer([])
const cold = timed(() => { gaz = new Gazetteer(entries) })
gc()
const heapMiBUsed = heapMiB() - heap0
const warm = [0, 1, 2].map(() => timed(() => new Gazetteer(entries))).sort((a, b) => parseFloat(a) - parseFloat(b))[1]

const rand = createRandom(FIXTURE_SEED)
const sample = Array.from({ length: QUERIES }, () => rand.pick(entries))
const toTraditional = OpenCC.Converter({ from: 'cn', to: 'tw' })
const fullWidth = (s: string): string => s.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0))
const typo = (e: GazetteerEntry): string => {
  // one character of the name before its number replaced, never the first
  const chars = [...e.name]
  const nameLength = [...e.name.replace(/\d.*$/, '')].length
  if (nameLength > 2) chars[1 + rand.int(nameLength - 1)] = '某'
  return chars.join('')
}
const doors = sample.filter((e) => /\d+号(楼)?$/.test(e.name))

interface Row { what: string; n: number; perSecond: number; first: number | null }
function run(what: string, queries: string[], expected: (GazetteerEntry | null)[]): Row {
  for (const q of queries.slice(0, 500)) gaz.search(q) // warm the JIT on this kind
  let first = 0
  const start = performance.now()
  queries.forEach((q, i) => {
    const top = gaz.search(q).candidates[0]
    if (expected[i] === null ? top === undefined : top?.entry === expected[i]) first++
  })
  const ms = performance.now() - start
  return { what, n: queries.length, perSecond: (queries.length / ms) * 1000, first: first / queries.length }
}

const rows = [
  run('exact address or name', sample.map((e) => e.address ?? e.name), sample),
  run('traditional, full-width digits', sample.map((e) => fullWidth(toTraditional(e.address ?? e.name))), sample),
  run('号楼 / 号 left off', doors.map((e) => e.name.replace(/号楼?$/, '')), doors),
  run('one wrong character (fuzzy)', sample.map(typo), sample),
  run('matches nothing (404 + nearest names)', Array.from({ length: MISSES }, (_, i) => `火星${i}区某某基地`), Array.from({ length: MISSES }, () => null)),
]

const kinds = new Map<string, number>()
for (const e of entries) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1)
console.log(`entries: ${entries.length.toLocaleString('en')} (${[...kinds].map(([k, n]) => `${n.toLocaleString('en')} ${k}`).join(', ')})`)
console.log('\n| measure | value |\n|---|---|')
console.log(`| fixture generation (from the 8,423-cell grid) | ${gen} |`)
console.log(`| OpenCC dictionaries, loaded once per process | ${opencc} |`)
console.log(`| index build, first in process (cold JIT) | ${cold} |`)
console.log(`| index build, warm (median of 3) | ${warm} |`)
console.log(`| index heap | ${heapMiBUsed > 0 ? `${heapMiBUsed.toFixed(0)} MiB` : 'n/a (run with --expose-gc)'} |`)
console.log('\n| queries | n | per second | ranked first |\n|---|---|---|---|')
for (const r of rows) console.log(`| ${r.what} | ${r.n.toLocaleString('en')} | ${Math.round(r.perSecond).toLocaleString('en')} | ${r.first === null ? '' : `${(r.first * 100).toFixed(1)} %`} |`)
console.log('\n("ranked first" for text that matches nothing: the share answered with no candidate.)')
