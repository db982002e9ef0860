/**
 * Preloaded into a server process by load.ts (`node --import tsx --import ./tests/bench/_memlog.ts …`):
 * writes its memory to stderr every WANGGE_MEMLOG_MS as one line `memlog {"rss":…,"heapUsed":…,…}`.
 */
const every = Number(process.env.WANGGE_MEMLOG_MS ?? 5000)
setInterval(() => {
  const m = process.memoryUsage()
  process.stderr.write(`memlog ${JSON.stringify({ t: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external })}\n`)
}, every).unref()
