/**
 * Geocoding: a point (WGS84, GCJ-02 or BD-09) or an address → its cell,
 * community, subdistrict and responsible units; and batches streamed both ways.
 */
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { PassThrough } from 'node:stream'
import type { Readable } from 'node:stream'
import { toWgs84 } from '../../geocoder/crs.ts'
import { GeocoderError } from '../../geocoder/errors.ts'
import { AppError, badRequest, ErrorCode } from '../errors.ts'
import { ErrorSchema, errorResponses } from '../schemas.ts'
import { sendStream } from '../http.ts'
import type { GridSnapshot } from '../plugins/geocoder.ts'
import { geocodeStream, type InputFormat, type OutputFormat } from '../geocode-batch.ts'
import type { Crs } from '../../geocoder/crs.ts'

const CrsSchema = Type.Union([Type.Literal('wgs84'), Type.Literal('gcj02'), Type.Literal('bd09')], { default: 'wgs84', description: 'coordinate system of lon/lat: wgs84 (GPS), gcj02 (AMap, Tencent), bd09 (Baidu)' })

const Named = Type.Object({ code: Type.String(), name: Type.String() })
export const GeocodeResult = Type.Object({
  point: Type.Object({ lon: Type.Number(), lat: Type.Number() }, { description: 'the WGS84 point that was located' }),
  input: Type.Object({ lon: Type.Number(), lat: Type.Number(), crs: Type.String() }),
  cell: Type.String({ description: '15-digit cell code' }),
  community: Named,
  subdistrict: Named,
  district: Named,
  responsible_units: Type.Array(Type.Object({ uscc: Type.String(), name: Type.Union([Type.String(), Type.Null()]), role: Type.String() })),
  snapped: Type.Boolean({ description: 'outside every cell but within the tolerance: moved to the nearest cell' }),
  distance_m: Type.Number({ description: '0 inside a cell; the distance to the snapped cell otherwise' }),
  grid_version: Type.Union([Type.Integer(), Type.Null()]),
})

const AddressMatch = Type.Object({
  query: Type.String(),
  normalised: Type.String(),
  best: Type.Object({ id: Type.String(), kind: Type.String(), name: Type.String(), address: Type.Union([Type.String(), Type.Null()]), score: Type.Number(), method: Type.String() }),
  candidates: Type.Array(Type.Object({ id: Type.String(), kind: Type.String(), name: Type.String(), address: Type.Union([Type.String(), Type.Null()]), score: Type.Number(), method: Type.String(), lon: Type.Number(), lat: Type.Number() })),
})

/** Finds an address in the gazetteer and locates the best candidate; 404 with the nearest names when nothing matches. */
export async function geocodeAddress(snapshot: GridSnapshot, text: string, limit: number) {
  const found = (await snapshot.gazetteer()).search(text, { limit })
  if (!found.candidates.length) {
    throw new AppError(404, 'address_not_found', `no place matches "${text.slice(0, 80)}"`, { field: 'querystring.address', normalised: found.normalised, nearest: found.nearest })
  }
  const candidates = found.candidates.map((c) => ({
    id: c.entry.id, kind: c.entry.kind, name: c.entry.name, address: c.entry.address ?? null,
    score: Math.round(c.score * 1000) / 1000, method: c.method, lon: c.entry.lon, lat: c.entry.lat,
  }))
  const best = found.candidates[0].entry
  const located = geocodePoint(snapshot, best.lon, best.lat, 'wgs84')
  const { lon: _lon, lat: _lat, ...bestOut } = candidates[0]
  return { ...located, address: { query: text, normalised: found.normalised, best: bestOut, candidates } }
}

function snapshotOrFail(s: GridSnapshot | null): GridSnapshot {
  if (!s) throw new AppError(503, 'index_not_ready', 'no grid is loaded yet')
  return s
}

/** Locates one point and shapes the answer; throws 422 outside_district. */
export function geocodePoint(snapshot: GridSnapshot, lon: number, lat: number, crs: Crs) {
  let point: [number, number]
  try {
    point = crs === 'wgs84' ? [lon, lat] : toWgs84(lon, lat, crs)
    const r = snapshot.index.locate(point[0], point[1])
    if (r.outside) {
      throw new AppError(422, 'outside_district', `the point is ${Math.round(r.distanceM)} m outside the district (tolerance ${snapshot.index.toleranceM} m)`,
        { distance_m: Math.round(r.distanceM * 10) / 10, point: { lon: point[0], lat: point[1] }, tolerance_m: snapshot.index.toleranceM })
    }
    const info = snapshot.info[r.ordinal]
    return {
      point: { lon: point[0], lat: point[1] },
      input: { lon, lat, crs },
      cell: info.code,
      community: info.community,
      subdistrict: info.subdistrict,
      district: info.district,
      responsible_units: info.responsibleUnits,
      snapped: r.snapped,
      distance_m: Math.round(r.distanceM * 10) / 10,
      grid_version: snapshot.version,
    }
  } catch (err) {
    if (err instanceof GeocoderError) throw badRequest(err.code, err.message, { field: err.field ? `querystring.${err.field}` : 'querystring' })
    throw err
  }
}

const BATCH_TYPES = ['application/json', 'application/x-ndjson', 'application/jsonl', 'text/csv']

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/geocode', {
    schema: {
      tags: ['geocode'],
      summary: 'Locate a point (lon, lat, crs) or an address in its cell, with the responsible units',
      description: 'Edge rule: a point covered by several cells (on a shared edge or vertex) goes to the one with the smallest code; a point on the district boundary is inside; within the snapping tolerance (30 m) outside the district it snaps to the nearest cell; farther away it is 422 outside_district.',
      querystring: Type.Object({
        lon: Type.Optional(Type.Number({ description: 'longitude' })),
        lat: Type.Optional(Type.Number({ description: 'latitude' })),
        crs: Type.Optional(CrsSchema),
        address: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'address text, e.g. 阜通东大街6号 or 望京西园三区312号楼; simplified or traditional, full-width digits accepted' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, default: 5, description: 'address candidates returned' })),
      }, { additionalProperties: false }),
      response: { ...errorResponses, 200: Type.Intersect([GeocodeResult, Type.Object({ address: Type.Optional(AddressMatch) })]), 404: ErrorSchema, 422: ErrorSchema, 503: ErrorSchema },
    },
  }, async (req) => {
    const snapshot = snapshotOrFail(app.geocoder.current())
    const q = req.query
    if (q.address !== undefined) {
      if (q.lon !== undefined || q.lat !== undefined) throw badRequest(ErrorCode.badRequest, 'give either lon/lat or address, not both', { field: 'querystring' })
      return geocodeAddress(snapshot, q.address, q.limit ?? 5)
    }
    if (q.lon === undefined || q.lat === undefined) {
      throw badRequest(ErrorCode.validation, 'lon and lat are required (or address)', { field: q.lon === undefined ? 'querystring.lon' : 'querystring.lat' })
    }
    return geocodePoint(snapshot, q.lon, q.lat, q.crs ?? 'wgs84')
  })

  // Batch bodies are streams: the parsers hand the raw request on, unread.
  const passStream = (_req: unknown, payload: Readable, done: (err: Error | null, body?: Readable) => void): void => done(null, payload)
  app.register(async (plain) => {
    const batch = plain.withTypeProvider<TypeBoxTypeProvider>()
    batch.removeContentTypeParser(['application/json'])
    batch.addContentTypeParser(BATCH_TYPES, passStream)
    batch.post('/api/geocode/batch', {
      schema: {
        tags: ['geocode'],
        summary: 'Locate many points, streamed: NDJSON, CSV or a JSON array in; NDJSON or CSV out',
        description: 'Rows: {"id", "lon", "lat", "crs"} objects or [lon, lat] arrays (NDJSON / JSON array), or CSV with a header naming lon, lat and optionally id, crs. '
          + 'Output (format=ndjson|csv, or by Accept): one line per row, in order, with the cell, community, subdistrict and responsible unit, or the row\'s error. A bad row does not fail the batch.',
        querystring: Type.Object({
          crs: Type.Optional(CrsSchema),
          format: Type.Optional(Type.Union([Type.Literal('ndjson'), Type.Literal('csv')])),
        }, { additionalProperties: false }),
        response: { 415: ErrorSchema, 503: ErrorSchema, ...errorResponses },
      },
      preValidation: async (req) => {
        const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
        if (!BATCH_TYPES.includes(type)) throw new AppError(415, ErrorCode.unsupportedMediaType, `send rows as ${BATCH_TYPES.join(', ')}`)
      },
    }, async (req, reply) => {
      const snapshot = snapshotOrFail(app.geocoder.current())
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
      const input: InputFormat = type === 'text/csv' ? 'csv' : type === 'application/json' ? 'json' : 'ndjson'
      const accept = req.headers.accept ?? ''
      const output: OutputFormat = req.query.format ?? (/text\/csv/.test(accept) ? 'csv' : input === 'csv' && !/ndjson/.test(accept) ? 'csv' : 'ndjson')
      const out = new PassThrough()
      const body = req.body as Readable
      geocodeStream(body, out, snapshot, { input, output, crs: req.query.crs ?? 'wgs84', toWgs84 })
        .then((s) => { req.log.info({ batch: s }, 'batch geocoded') })
        .catch((err: unknown) => { req.log.error({ err }, 'batch failed') })
        .finally(() => out.end())
      return sendStream(reply, output === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson', out)
    })
  })
}

export default routes
