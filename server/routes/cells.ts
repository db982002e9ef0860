/** Unit cells as GeoJSON. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { CellFeature, Code12, Code15, Code9, GeoJSONFeatureCollection, errorResponses } from '../schemas.ts'
import { badRequest, ErrorCode, notFound } from '../errors.ts'
import { sendText } from '../http.ts'

/** Parses `minLon,minLat,maxLon,maxLat`; rejects anything else with the reason. */
export function parseBbox(raw: string): [number, number, number, number] {
  const parts = raw.split(',')
  const nums = parts.map((p) => (p.trim() === '' ? NaN : Number(p)))
  if (parts.length !== 4 || nums.some((n) => !Number.isFinite(n))) {
    throw badRequest(ErrorCode.invalidBbox, 'bbox is minLon,minLat,maxLon,maxLat: four numbers', { field: 'querystring.bbox' })
  }
  const [x1, y1, x2, y2] = nums
  if (x1 < -180 || x2 > 180 || y1 < -90 || y2 > 90) throw badRequest(ErrorCode.invalidBbox, 'bbox is outside −180…180 / −90…90', { field: 'querystring.bbox' })
  if (x1 > x2 || y1 > y2) throw badRequest(ErrorCode.invalidBbox, 'bbox min is greater than max', { field: 'querystring.bbox' })
  return [x1, y1, x2, y2]
}

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/cells', {
    schema: {
      tags: ['grid'],
      summary: 'Unit cells as a GeoJSON FeatureCollection, filtered by bbox, subdistrict or community',
      querystring: Type.Object({
        bbox: Type.Optional(Type.String({ description: 'minLon,minLat,maxLon,maxLat (WGS84)', maxLength: 200 })),
        subdistrict: Type.Optional(Code9),
        community: Type.Optional(Code12),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200_000 })),
      }, { additionalProperties: false }),
      response: { 200: GeoJSONFeatureCollection, ...errorResponses },
    },
  }, async (req, reply) => {
    const bbox = req.query.bbox === undefined ? undefined : parseBbox(req.query.bbox)
    const body = await app.grid.cellsGeoJSON({ bbox, subdistrict: req.query.subdistrict, community: req.query.community, limit: req.query.limit })
    return sendText(reply, 'application/geo+json', body)
  })

  app.get('/api/cells/:code', {
    schema: {
      tags: ['grid'],
      summary: 'One cell with its community, subdistrict and responsible unit',
      params: Type.Object({ code: Code15 }),
      response: { 200: CellFeature, ...errorResponses },
    },
  }, async (req, reply) => {
    const body = await app.grid.cell(req.params.code)
    if (!body) throw notFound(`cell ${req.params.code}`)
    return sendText(reply, 'application/geo+json', body)
  })
}

export default routes
