/**
 * A progress line for long work (imports, fixture generation, batch geocoding):
 * redrawn in place on a terminal, one line per stage change when piped, so CI
 * logs stay readable. Writes to stderr; stdout is left for data.
 */
export interface Progress {
  (stage: string, done: number, total: number): void
  /** Ends the current line. */
  end(summary?: string): void
}

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = stream.isTTY === true
  const t0 = performance.now()
  let lastStage = ''
  let lastDraw = 0
  let open = false
  const fn = ((stage: string, done: number, total: number) => {
    const now = performance.now()
    const finished = done >= total
    if (!tty) {
      if (stage !== lastStage || finished) {
        if (stage !== lastStage || done === total) stream.write(`${label}: ${stage} ${done}/${total} (${((now - t0) / 1000).toFixed(1)} s)\n`)
        lastStage = finished ? '' : stage
      }
      return
    }
    if (now - lastDraw < 80 && !finished && stage === lastStage) return
    lastDraw = now
    lastStage = stage
    const width = 24
    const frac = total > 0 ? Math.min(1, done / total) : 1
    const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░')
    stream.write(`\r${label}: ${stage.padEnd(18)} ${bar} ${String(Math.round(frac * 100)).padStart(3)}% ${done}/${total} ${((now - t0) / 1000).toFixed(1)} s\x1b[K`)
    open = true
  }) as Progress
  fn.end = (summary?: string) => {
    if (tty && open) stream.write('\n')
    open = false
    if (summary) stream.write(`${label}: ${summary}\n`)
  }
  return fn
}
