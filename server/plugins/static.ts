/**
 * The web client (web/dist, built by `npm run build:web`) served at `/`.
 *
 * Registered after the API: the router prefers static paths (`/api/cells`) and
 * longer prefixes (`/docs/*`) over this plugin's `/*`, so API routes keep
 * precedence; a path that is neither an API route nor a file falls through to
 * the app's JSON 404. Hashed assets are cached for a year, index.html never,
 * so a rebuilt client is picked up on the next load.
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fp from 'fastify-plugin'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'

export interface StaticOptions {
  /** The built client; web/dist of this checkout by default. */
  root?: string
}

/**
 * web/dist of the checkout this module is in, found by walking up: the same
 * answer from server/plugins/ (tsx) and from the esbuild bundle in .data/build/.
 */
function findWebDist(): string {
  const start = dirname(fileURLToPath(import.meta.url))
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'web'))) return join(dir, 'web', 'dist')
    if (dirname(dir) === dir) return join(start, '..', '..', 'web', 'dist')
  }
}

export const WEB_DIST = findWebDist()

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>wangge</title>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto">
<h1>The web client is not built</h1>
<p>Run <code>npm run build:web</code> (or restart with <code>npm start</code>, which builds it when it is missing).
The API is up: <a href="/docs">/docs</a>, <a href="/healthz">/healthz</a>.</p></body></html>`

export default fp(async function webClient(app: FastifyInstance, opts: StaticOptions) {
  const root = opts.root ?? WEB_DIST
  if (!existsSync(join(root, 'index.html'))) {
    app.log.warn({ root }, 'web client not built: / answers 503 until `npm run build:web`')
    app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT))
    return
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: true,
    // An array: with preCompressed, @fastify/static 10 only resolves the index from an array (a string answers 404 at /).
    index: ['index.html'],
    // The build writes .br and .gz beside each asset; they are sent to browsers that accept them.
    preCompressed: true,
    // Another plugin (swagger-ui) may already own reply.sendFile.
    decorateReply: false,
    dotfiles: 'deny',
    cacheControl: false,
    schemaHide: true,
    setHeaders(reply, path) {
      reply.header('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache')
      reply.header('x-content-type-options', 'nosniff')
    },
  })
}, { name: 'web-client' })
