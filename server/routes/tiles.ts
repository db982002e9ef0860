/**
 * Mapbox Vector Tiles: `GET /tiles/{layer}/{z}/{x}/{y}.mvt`, a TileJSON document per
 * layer at `/tiles/{layer}.json`, and the list at `/tiles`. Also puts the tile service
 * on `app.tiles` (the analysis module registers the cells' scores there) and keeps its
 * cache honest: any write request of this process, and every grid import, makes the
 * next tile read the data versions again.
 *
 * Answers: 200 with the tile; 204 when no feature falls in it (an empty tile, as
 * MapLibre expects); 304 when If-None-Match holds its ETag; 400 for a zoom outside
 * the layer's (TileJSON minzoom/maxzoom) or x/y outside the zoom; 404 for an
 * unknown layer; 401/403 for case tiles without a role that sees every case.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ErrorSchema } from '../schemas.ts'
import { AppError } from '../errors.ts'
import { requireActor } from './../plugins/auth.ts'
import { SEES_ALL } from '../cases/roles.ts'
import { LAYERS, LAYER_NAMES, type LayerDef } from '../tiles/layers.ts'
import { layerOf, tileCoord } from '../tiles/params.ts'
import { TileService, type TileServiceOptions } from '../tiles/service.ts'

declare module 'fastify' {
  interface FastifyInstance {
    tiles: TileService
  }
}

export type TileRoutesOptions = Omit<TileServiceOptions, 'db' | 'now'>

export const MVT_MEDIA_TYPE = 'application/vnd.mapbox-vector-tile'
/** Grid and facility tiles: anyone may keep them, but must ask again (a 304 costs no body) so an import shows at once. */
export const PUBLIC_CACHE_CONTROL = 'public, no-cache'
/** Case tiles: only the signed-in user's own cache, and always revalidated. */
export const PRIVATE_CACHE_CONTROL = 'private, no-cache'

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

const TileParams = Type.Object({
  layer: Type.String({ description: `one of ${LAYER_NAMES.join(', ')}` }),
  z: Type.String({ description: 'zoom, within the layer\'s minzoom–maxzoom' }),
  x: Type.String({ description: 'column, 0 … 2^z − 1' }),
  y: Type.String({ description: 'row from the north, 0 … 2^z − 1' }),
})

const TileJSONSchema = Type.Object({
  tilejson: Type.String(),
  name: Type.String(),
  description: Type.String(),
  version: Type.String(),
  scheme: Type.String(),
  tiles: Type.Array(Type.String()),
  minzoom: Type.Integer(),
  maxzoom: Type.Integer(),
  bounds: Type.Array(Type.Number(), { minItems: 4, maxItems: 4 }),
  center: Type.Array(Type.Number(), { minItems: 3, maxItems: 3 }),
  vector_layers: Type.Array(Type.Object({
    id: Type.String(), description: Type.String(), minzoom: Type.Integer(), maxzoom: Type.Integer(),
    fields: Type.Record(Type.String(), Type.String()), field_descriptions: Type.Record(Type.String(), Type.String()),
  })),
})

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema }

/** Case tiles show every open case: for the roles that may list every case. */
function checkAccess(layer: LayerDef, req: FastifyRequest): void {
  if (layer.access === 'public') return
  const actor = requireActor(req)
  if (actor.role === 'system' || !SEES_ALL.includes(actor.role)) {
    throw new AppError(403, 'forbidden_role', `case tiles are for ${SEES_ALL.join(', ')}; you are ${actor.role}`, { role: actor.role, allowed_roles: SEES_ALL })
  }
}

/** If-None-Match holds this ETag (or *). */
function fresh(header: string | undefined, etag: string): boolean {
  if (!header) return false
  if (header.trim() === '*') return true
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)
}

function origin(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`
}

export default fp(async function tiles(instance: FastifyInstance, opts: TileRoutesOptions) {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>()
  const service = new TileService({
    ...opts,
    db: app.db,
    now: app.hasDecorator('cases') ? () => app.cases.now() : undefined,
  })
  app.decorate('tiles', service)
  app.onGridChanged(async () => { service.markStale() })
  // After the handler, before the client hears back: its write has committed, so the next tile sees it.
  app.addHook('onSend', (req, _reply, payload, done) => {
    if (WRITE_METHODS.has(req.method)) service.markStale()
    done(null, payload)
  })

  app.get('/tiles', {
    schema: {
      tags: ['tiles'],
      summary: 'The tile layers, their zooms, access and TileJSON documents',
      response: {
        200: Type.Object({
          layers: Type.Array(Type.Object({
            name: Type.String(), description: Type.String(), minzoom: Type.Integer(), maxzoom: Type.Integer(),
            access: Type.String({ description: 'public, or cases: a bearer token of a role that sees every case' }),
            tilejson: Type.String(), tiles: Type.String(),
          })),
          renderer: Type.String({ description: 'postgis (ST_AsMVT) or js' }),
        }),
      },
    },
  }, async (req) => ({
    layers: LAYER_NAMES.map((n) => {
      const l = LAYERS[n]
      return {
        name: n, description: l.description, minzoom: l.minzoom, maxzoom: l.maxzoom, access: l.access,
        tilejson: `${origin(req)}/tiles/${n}.json`, tiles: `${origin(req)}/tiles/${n}/{z}/{x}/{y}.mvt`,
      }
    }),
    renderer: service.renderer.kind,
  }))

  app.get('/tiles/:layer.json', {
    schema: {
      tags: ['tiles'],
      summary: 'TileJSON 3.0.0 of a layer: tile URL, zooms, bounds of its data, attributes',
      params: Type.Object({ layer: TileParams.properties.layer }),
      response: { 200: TileJSONSchema, ...errors },
    },
  }, async (req) => {
    const layer = layerOf(req.params.layer)
    checkAccess(layer, req)
    return service.tileJSON(layer, `${origin(req)}/tiles/${layer.name}/{z}/{x}/{y}.mvt`)
  })

  app.get('/tiles/:layer/:z/:x/:y.mvt', {
    schema: {
      tags: ['tiles'],
      summary: 'A Mapbox Vector Tile (one layer named as the path says), cached by data version, with ETag',
      description: 'Layers: cells (code, community, subdistrict, and score, grade once the analysis provides them), facilities (id, subclass, owner, status; from z14), '
        + 'cases (open cases: id, matter, status, light; roles that see every case), subdistricts and communities (outlines). '
        + '204: no feature in the tile. 304: If-None-Match holds the current ETag. A zoom outside the layer\'s minzoom–maxzoom is a 400 (zoom_out_of_range).',
      params: TileParams,
      response: {
        200: { description: 'the tile', content: { [MVT_MEDIA_TYPE]: { schema: { type: 'string', format: 'binary' } } } },
        204: { description: 'no feature falls in this tile', type: 'null' },
        304: { description: 'not modified: the ETag in If-None-Match is current', type: 'null' },
        ...errors,
      },
    },
  }, async (req, typedReply) => {
    // The 200 is binary (the schema documents its media type); the type provider only knows JSON replies.
    const reply = typedReply as FastifyReply
    const layer = layerOf(req.params.layer)
    checkAccess(layer, req)
    const t = await service.tile(layer, tileCoord(layer, req.params))
    reply.header('etag', t.etag)
    reply.header('cache-control', layer.access === 'public' ? PUBLIC_CACHE_CONTROL : PRIVATE_CACHE_CONTROL)
    if (layer.access !== 'public') reply.header('vary', 'Authorization')
    if (fresh(req.headers['if-none-match'], t.etag)) return reply.code(304).send()
    if (!t.bytes.byteLength) return reply.code(204).send()
    return reply.type(MVT_MEDIA_TYPE).send(t.bytes)
  })
}, { name: 'tiles', dependencies: ['database', 'auth', 'grid-hooks'] })
