/**
 * In-memory geocoder benchmark: build time, memory and lookups per second for
 * 1,000,000 seeded random points over the district's bounding box, on the
 * Chaoyang-sized grid (8,423 cells) and on 100,000 cells, both from
 * grids/generate.ts.
 *
 *   npx tsx tests/bench/geocode-inmem.ts [--points 1000000] [--cells 8423,100000] [--seed 1]
 *
 * Targets: ≥ 1,000,000 points/s at 8,423 cells, ≥ 500,000/s at 100,000 cells,
 * build < 200 ms at 8,423 cells. Wall and CPU time are both printed: on a shared
 * machine CPU time is the steadier figure. Exits 1 if a target is missed.
 */
import v8 from 'node:v8'
import vm from 'node:vm'
import { parseArgs } from 'node:util'
import os from 'node:os'
import { generateGrid } from '../../grids/generate.ts'
import { MemoryCellIndex } from '../../geocoder/memory-index.ts'
import { seededRandom } from '../../geocoder/synthetic-grid.ts'
import type { CellRecord } from '../../geocoder/types.ts'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

const { values } = parseArgs({
  options: {
    points: { type: 'string', default: '1000000' },
    cells: { type: 'string', default: '8423,100000' },
    seed: { type: 'string', default: '1' },
    builds: { type: 'string', default: '5' },
  },
})
const POINTS = Number(values.points)
const SEED = Number(values.seed)
const BUILDS = Math.max(2, Number(values.builds))
const TARGETS: Record<number, { perSecond: number; buildMs?: number }> = { 8423: { perSecond: 1_000_000, buildMs: 200 }, 100000: { perSecond: 500_000 } }

const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
/** Runs fn, returning wall and CPU milliseconds. */
function timed<T>(fn: () => T): { value: T; wall: number; cpu: number } {
  const c0 = cpuMs()
  const w0 = performance.now()
  const value = fn()
  return { value, wall: performance.now() - w0, cpu: cpuMs() - c0 }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
/** Heap + array buffers after two full collections (buffers are released a tick after their objects die). */
const heap = async (): Promise<number> => {
  gc()
  await new Promise((resolve) => setTimeout(resolve, 50))
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

let failed = false
console.log(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`)
for (const n of values.cells.split(',').map(Number)) {
  const g = timed(() => generateGrid({ cells: n, seed: SEED }))
  const cells: CellRecord[] = g.value.features.map((f) => ({
    code: f.properties.code,
    communityCode: f.properties.community_code,
    subdistrictCode: f.properties.subdistrict_code,
    geometry: f.geometry,
  }))
  console.log(`\n== ${fmt(n)} cells (generated in ${fmt(g.wall)} ms) ==`)

  // Build: the first one in the process is cold (JIT not warmed up), as at server start.
  const before = await heap()
  const builds = [timed(() => MemoryCellIndex.build(cells))]
  const index = builds[0].value
  const heldBytes = (await heap()) - before
  for (let i = 1; i < BUILDS; i++) builds.push(timed(() => MemoryCellIndex.build(cells)))
  const warm = builds.slice(1)
  const tm = index.timings
  const st = index.stats()
  console.log(`build   cold ${fmt(builds[0].wall)} ms wall / ${fmt(builds[0].cpu)} ms CPU; warm median ${fmt(median(warm.map((b) => b.wall)))} ms wall / ${fmt(median(warm.map((b) => b.cpu)))} ms CPU`)
  console.log(`        phases (cold): ${Object.entries(tm).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')} ms`)
  console.log(`        ${fmt(st.buckets)} buckets (${st.bucketsX} × ${st.bucketsY}), ${fmt(st.mixedBuckets)} mixed, ${fmt(st.boundaryEdges)} boundary edges`)
  console.log(`memory  estimate ${(index.memoryBytes() / 1e6).toFixed(1)} MB; measured heap + buffers held ${(heldBytes / 1e6).toFixed(1)} MB`)

  // Points: seeded, uniform over the cells' bounding box.
  let minX = Infinity
  let minY = Infinity
  let maxX = -Infinity
  let maxY = -Infinity
  for (const c of cells) {
    for (const poly of c.geometry.type === 'Polygon' ? [c.geometry.coordinates] : c.geometry.coordinates) {
      for (const [x, y] of poly[0]) {
        if (x < minX) minX = x
        if (x > maxX) maxX = x
        if (y < minY) minY = y
        if (y > maxY) maxY = y
      }
    }
  }
  const rnd = seededRandom(SEED * 7919 + n)
  const coords = new Float64Array(2 * POINTS)
  for (let i = 0; i < POINTS; i++) {
    coords[2 * i] = minX + rnd() * (maxX - minX)
    coords[2 * i + 1] = minY + rnd() * (maxY - minY)
  }

  const runs = Array.from({ length: 5 }, () => timed(() => index.locateMany(coords)))
  const res = runs[0].value
  let inside = 0
  let snapped = 0
  let outside = 0
  for (let i = 0; i < POINTS; i++) {
    if (res.cells[i] < 0) outside++
    else if (res.snapped[i]) snapped++
    else inside++
  }
  const best = (k: 'wall' | 'cpu', rs: { wall: number; cpu: number }[]): number => Math.min(...rs.map((r) => r[k]))
  const rate = (ms: number): string => `${fmt((POINTS / ms) * 1000)}/s`
  console.log(`points  ${fmt(POINTS)}: ${fmt(inside)} inside, ${fmt(snapped)} snapped, ${fmt(outside)} outside the district`)
  console.log(`batch   locateMany: first run (fills outside tiles) ${fmt(runs[0].wall)} ms (${rate(runs[0].wall)}); best of 5 ${fmt(best('wall', runs))} ms wall = ${rate(best('wall', runs))}, ${fmt(best('cpu', runs))} ms CPU = ${rate(best('cpu', runs))}`)
  const noDist = Array.from({ length: 3 }, () => timed(() => index.locateMany(coords, { outsideDistance: false })))
  console.log(`        without outside distances: best ${fmt(best('wall', noDist))} ms wall = ${rate(best('wall', noDist))}`)
  const single = Array.from({ length: 3 }, () =>
    timed(() => {
      let k = 0
      for (let i = 0; i < POINTS; i++) if (!index.locate(coords[2 * i], coords[2 * i + 1]).outside) k++
      return k
    }),
  )
  console.log(`single  locate() per point: best ${fmt(best('wall', single))} ms wall = ${rate(best('wall', single))}`)

  const st2 = index.stats()
  const fresh = MemoryCellIndex.build(cells)
  console.log(`outside ${st2.outsideTiles} distance tiles were filled during the first run; filling them up front (prepareOutside) takes ${fmt(fresh.prepareOutside())} ms`)

  const target = TARGETS[n]
  if (target) {
    const perSecond = (POINTS / best('cpu', runs)) * 1000
    const ok = perSecond >= target.perSecond && (target.buildMs === undefined || median(warm.map((b) => b.cpu)) < target.buildMs)
    console.log(`target  ≥ ${fmt(target.perSecond)}/s${target.buildMs ? `, build < ${target.buildMs} ms` : ''}: ${ok ? 'met' : 'MISSED'} (CPU-time figures)`)
    if (!ok) failed = true
  }
}
process.exitCode = failed ? 1 : 0
