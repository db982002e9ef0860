/** The administrative hierarchy: districts, subdistricts, communities. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Code9, errorResponses } from '../schemas.ts'

const Nullable = <T extends ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()])

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/districts', {
    schema: {
      tags: ['grid'],
      summary: 'Districts with their counts of subdistricts, communities and cells',
      response: {
        200: Type.Array(Type.Object({
          code: Type.String(), name: Type.String(), area_m2: Nullable(Type.Number()),
          subdistricts: Type.Integer(), communities: Type.Integer(), cells: Type.Integer(),
        })),
      },
    },
  }, async () => app.grid.districts())

  app.get('/api/subdistricts', {
    schema: {
      tags: ['grid'],
      summary: 'Subdistricts (街道/地区) with their command centre',
      querystring: Type.Object({ district: Type.Optional(Type.String({ pattern: '^[0-9]{6}$' })) }, { additionalProperties: false }),
      response: {
        200: Type.Array(Type.Object({
          code: Type.String(), district_code: Type.String(), name: Type.String(),
          pinyin: Type.Union([Type.String(), Type.Null()]),
          command_centre: Type.Union([Type.String(), Type.Null()]),
          command_centre_name: Type.Union([Type.String(), Type.Null()]),
          area_m2: Nullable(Type.Number()), communities: Type.Integer(), cells: Type.Integer(),
        })),
        ...errorResponses,
      },
    },
  }, async (req) => app.grid.subdistricts(req.query.district))

  app.get('/api/communities', {
    schema: {
      tags: ['grid'],
      summary: 'Communities (社区), optionally of one subdistrict',
      querystring: Type.Object({ subdistrict: Type.Optional(Code9) }, { additionalProperties: false }),
      response: {
        200: Type.Array(Type.Object({
          code: Type.String(), subdistrict_code: Type.String(), name: Type.String(),
          area_m2: Nullable(Type.Number()), cells: Type.Integer(),
        })),
        ...errorResponses,
      },
    },
  }, async (req) => app.grid.communities(req.query.subdistrict))
}

export default routes
