/** Schemas shared by several routes. */
import { Type } from 'typebox'

export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'machine-readable error code, e.g. invalid_grid, outside_district' }),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  }),
}, { $id: 'Error', description: 'Every error answer has this shape.' })

export const errorResponses = {
  400: ErrorSchema,
  404: ErrorSchema,
}

/** A GeoJSON object, described loosely: it is built in SQL and sent as text. */
export const GeoJSONFeatureCollection = Type.Object({
  type: Type.Literal('FeatureCollection'),
  features: Type.Array(Type.Object({
    type: Type.Literal('Feature'),
    id: Type.Optional(Type.String()),
    geometry: Type.Unknown(),
    properties: Type.Record(Type.String(), Type.Unknown()),
  })),
}, { description: 'GeoJSON FeatureCollection (RFC 7946), WGS84 lon/lat' })

export const CellFeature = Type.Object({
  type: Type.Literal('Feature'),
  id: Type.String(),
  geometry: Type.Unknown(),
  properties: Type.Object({
    code: Type.String({ minLength: 15, maxLength: 15 }),
    community_code: Type.String(),
    community_name: Type.String(),
    subdistrict_code: Type.String(),
    subdistrict_name: Type.String(),
    district_code: Type.String(),
    district_name: Type.String(),
    responsible_unit: Type.String(),
    responsible_unit_name: Type.Union([Type.String(), Type.Null()]),
    area_m2: Type.Number(),
    version: Type.Integer(),
  }),
})

export const Code9 = Type.String({ pattern: '^[0-9]{9}$', description: '9-digit subdistrict code' })
export const Code12 = Type.String({ pattern: '^[0-9]{12}$', description: '12-digit community code' })
export const Code15 = Type.String({ pattern: '^[0-9]{15}$', description: '15-digit cell code' })
