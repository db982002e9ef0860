// `npm start`: build what is stale, then run the server from one bundled file.
//
// Run from its TypeScript sources (tsx), the server spends over a second just
// resolving and compiling ~1,500 module files (typebox alone is 709) before it
// opens the database. Bundled with esbuild into one file it does not, which is
// what keeps a warm start under 3 s. The bundle is rebuilt when any source is
// newer than it (≈ 1 s); the web client likewise (Vite), when web/ changed.
// Plain JavaScript on purpose: this file runs before anything is compiled.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { spawnSync } from 'node:child_process'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const BUNDLE = join(ROOT, '.data', 'build', 'server.mjs')
const SOURCES = ['server', 'grids', 'geocoder', 'fixtures', 'package-lock.json']
const WEB_SOURCES = ['web/src', 'web/index.html', 'web/m', 'web/vite.config.ts']
const WEB_INDEX = join(ROOT, 'web', 'dist', 'index.html')

/** Newest modification time under a path, skipping generated data. */
function newest(path) {
  if (!existsSync(path)) return 0
  const s = statSync(path)
  if (!s.isDirectory()) return s.mtimeMs
  let m = s.mtimeMs
  for (const f of readdirSync(path)) {
    if (f === 'data' || f === 'node_modules' || f === 'dist') continue
    m = Math.max(m, newest(join(path, f)))
  }
  return m
}

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0)

if (mtime(WEB_INDEX) < Math.max(...WEB_SOURCES.map((p) => newest(join(ROOT, p))))) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'server/web-build.ts')], { cwd: ROOT, stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

if (mtime(BUNDLE) < Math.max(...SOURCES.map((p) => newest(join(ROOT, p))))) {
  const t0 = performance.now()
  const { build } = await import('esbuild')
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  // Pure-JS packages whose many small modules are the start-up cost go into the
  // bundle; the rest (WebAssembly, native, data files) stay where npm put them.
  const inline = new Set(['typebox', '@fastify/type-provider-typebox'])
  await build({
    entryPoints: [join(ROOT, 'server/main.ts')],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    external: [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})].filter((d) => !inline.has(d)),
    // Bundled CommonJS code may call require(); give the ESM bundle one.
    banner: { js: "import { createRequire as __wanggeRequire } from 'node:module'; const require = __wanggeRequire(import.meta.url);" },
  })
  console.log(`server bundled in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}

await import(pathToFileURL(BUNDLE).href)
