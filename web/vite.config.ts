/**
 * Builds web/ into web/dist, which the Fastify app serves at / (server/plugins/static.ts).
 * `npm run dev:web` serves the client with hot reload and proxies the API to `npm start` on :3000.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { defineConfig, type Plugin } from 'vite'

const root = fileURLToPath(new URL('.', import.meta.url))

/**
 * Writes .br and .gz beside every text asset, once at build time, so the
 * server (@fastify/static preCompressed) sends ≈ 0.65 MB instead of ≈ 2.6 MB
 * without compressing on each request.
 */
function precompress(): Plugin {
  return {
    name: 'wangge-precompress',
    apply: 'build',
    writeBundle(options) {
      const dir = options.dir ?? join(root, 'dist')
      const walk = (d: string): string[] => readdirSync(d).flatMap((f) => {
        const p = join(d, f)
        return statSync(p).isDirectory() ? walk(p) : [p]
      })
      for (const file of walk(dir)) {
        if (!/\.(js|mjs|css|html|svg|json)$/.test(file) || statSync(file).size < 1024) continue
        const data = readFileSync(file)
        // Brotli quality 9: within 10 % of the maximum (11) in a fifteenth of its time.
        writeFileSync(`${file}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } }))
        writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }))
      }
    },
  }
}

export default defineConfig({
  root,
  base: '/',
  // No public/ folder: every asset is imported, so it is hashed and bundled.
  publicDir: false,
  plugins: [precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Browsers with WebGL2 and module workers (Chrome/Edge 80+, Firefox 114+, Safari 15+).
    target: 'es2022',
    // maplibre-gl and deck.gl are large by nature; they go in their own chunks so the app's own code caches apart.
    chunkSizeWarningLimit: 1500,
    reportCompressedSize: false,
    rollupOptions: {
      // The map client at /, the phone app (城管通) at /m/, and its service worker at a fixed /m/sw.js (its scope is /m/).
      input: { main: join(root, 'index.html'), mobile: join(root, 'm/index.html'), sw: join(root, 'src/mobile/sw.ts') },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'sw' ? 'm/sw.js' : 'assets/[name]-[hash].js'),
        manualChunks(id: string): string | undefined {
          if (id.includes('node_modules/maplibre-gl')) return 'maplibre'
          if (/node_modules\/(@deck\.gl|@luma\.gl|@math\.gl|@loaders\.gl|@probe\.gl|mjolnir\.js|gl-matrix)/.test(id)) return 'deck'
          return undefined
        },
      },
    },
  },
  worker: { format: 'es' },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:3000',
      '/healthz': 'http://127.0.0.1:3000',
    },
  },
})
