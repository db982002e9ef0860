/**
 * Builds the web client (web/ → web/dist) when it is missing or older than its
 * sources; `npm start` runs this first (the `prestart` script), and when the
 * build is current it only compares modification times (a few ms).
 *
 *   tsx server/web-build.ts            build if stale
 *   tsx server/web-build.ts --force    build regardless
 *   tsx server/web-build.ts --check    exit 1 if stale, build nothing
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const WEB = join(ROOT, 'web')
const DIST = join(WEB, 'dist')
const DIST_INDEX = join(DIST, 'index.html')
/** What the bundle is made of, besides web/src: a change to any of these is a rebuild. */
const INPUTS = [join(WEB, 'src'), join(WEB, 'index.html'), join(WEB, 'm'), join(WEB, 'vite.config.ts')]

function newest(path: string): number {
  if (!existsSync(path)) return 0
  const s = statSync(path)
  if (!s.isDirectory()) return s.mtimeMs
  let m = s.mtimeMs
  for (const f of readdirSync(path)) m = Math.max(m, newest(join(path, f)))
  return m
}

export interface BuildState { stale: boolean; reason: string }

/** Is web/dist missing, or older than the newest source file? */
export function webBuildState(): BuildState {
  if (!existsSync(DIST_INDEX)) return { stale: true, reason: 'web/dist is missing' }
  const built = statSync(DIST_INDEX).mtimeMs
  const source = Math.max(...INPUTS.map(newest))
  return source > built ? { stale: true, reason: 'web/ has changed since the last build' } : { stale: false, reason: 'web/dist is up to date' }
}

/**
 * Runs the Vite build (vite is a dev dependency: only loaded when a build is
 * needed) into a fresh folder, then swaps it in: a server already serving
 * web/dist, or a second build started at the same time, never sees it half
 * written, and an interrupted build leaves the previous one in place.
 */
export async function buildWeb(): Promise<void> {
  const { build } = await import('vite')
  // Beside node_modules' other caches: ignored by git and eslint, and on the same disk, so the rename is atomic.
  const tmp = join(ROOT, 'node_modules', '.cache', 'wangge-web', `dist-${process.pid}-${Date.now()}`)
  mkdirSync(join(tmp, '..'), { recursive: true })
  try {
    await build({ configFile: join(WEB, 'vite.config.ts'), logLevel: 'warn', build: { outDir: tmp, emptyOutDir: true } })
    const old = `${tmp}-old`
    if (existsSync(DIST)) renameSync(DIST, old)
    renameSync(tmp, DIST)
    rmSync(old, { recursive: true, force: true })
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

async function cli(argv: string[]): Promise<number> {
  const state = webBuildState()
  if (argv.includes('--check')) {
    console.log(state.reason)
    return state.stale ? 1 : 0
  }
  if (!state.stale && !argv.includes('--force')) return 0
  const t0 = performance.now()
  console.log(`building the web client (${argv.includes('--force') ? 'forced' : state.reason})…`)
  try {
    await buildWeb()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      // Installed without dev dependencies: the API still starts; / says how to build.
      console.error('web client not built: vite is not installed (npm ci without --omit=dev)')
      return argv.includes('--force') ? 1 : 0
    }
    throw err
  }
  console.log(`web client built in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  return 0
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  cli(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err: unknown) => {
    console.error(err)
    process.exitCode = 1
  })
}
