/**
 * Preloaded into a server process by load.ts (`node --expose-gc --import tsx --import ./tests/bench/_memlog.ts …`):
 * writes its memory to stderr every WANGGE_MEMLOG_MS as one line `memlog {"rss":…,"heapUsed":…,…}`.
 *
 * On SIGUSR2 it runs a full garbage collection first (the process must be started with --expose-gc) and
 * writes one line with `"gc":true`: the live heap, not whatever garbage V8 has not yet swept. A periodic
 * sample's heapUsed depends on when the last major collection ran, which over a short run says more about
 * V8's timing than about a leak.
 */
const every = Number(process.env.WANGGE_MEMLOG_MS ?? 5000)
const write = (gc: boolean): void => {
  const m = process.memoryUsage()
  process.stderr.write(`memlog ${JSON.stringify({ t: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, gc })}\n`)
}
setInterval(() => write(false), every).unref()
const collect = (globalThis as { gc?: () => void }).gc
process.on('SIGUSR2', () => {
  if (collect === undefined) { process.stderr.write('memlog: SIGUSR2 without --expose-gc, no collection\n'); return }
  collect()
  write(true)
})
