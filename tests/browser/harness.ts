/** A minimal sequential check runner: TAP-like lines, then `N passed, N failed`. */
export interface Result { name: string; ok: boolean; ms: number; error?: string }

export class Harness {
  readonly results: Result[] = []
  skipped = 0

  /** `only`: run just the checks whose name contains it (for working on one; CI runs all). */
  constructor(private readonly only?: string) {}

  /** Runs one check with a time limit; a failure is recorded and the run goes on. `always`: run even with --only (the checks the others build on). */
  async check(name: string, fn: () => Promise<void>, timeoutMs = 180_000, always = false): Promise<boolean> {
    if (this.only && !always && !name.includes(this.only)) {
      this.skipped++
      return true
    }
    const t0 = performance.now()
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        fn(),
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs) }),
      ])
      const ms = performance.now() - t0
      this.results.push({ name, ok: true, ms })
      console.log(`ok ${this.results.length} - ${name} (${Math.round(ms)} ms)`)
      return true
    } catch (err) {
      const ms = performance.now() - t0
      const error = err instanceof Error ? err.message : String(err)
      this.results.push({ name, ok: false, ms, error })
      console.log(`not ok ${this.results.length} - ${name} (${Math.round(ms)} ms)`)
      for (const line of error.split('\n').slice(0, 12)) console.log(`  # ${line}`)
      return false
    } finally {
      clearTimeout(timer)
    }
  }

  get passed(): number {
    return this.results.filter((r) => r.ok).length
  }

  get failed(): number {
    return this.results.length - this.passed
  }
}

export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message)
}

export function equal<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`)
}
