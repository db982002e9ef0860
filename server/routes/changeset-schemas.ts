/**
 * The shape of a redraw operation as the API and the CLI take it
 * (POST /api/changesets/:id/operations, npm run cli -- changeset-add): the
 * route validates its body with it, the CLI a JSON file with checkOperation.
 */
import { Type } from 'typebox'
import { Value } from 'typebox/value'
import { Code12 } from '../schemas.ts'
import type { RedrawOp } from '../../grids/redraw/types.ts'

const Position = Type.Array(Type.Number(), { minItems: 2, maxItems: 3 })
const LineString = Type.Object({
  type: Type.Literal('LineString'),
  coordinates: Type.Array(Position, { minItems: 2, maxItems: 10_000 }),
}, { description: 'GeoJSON LineString, WGS84 lon/lat' })
const Polygon = Type.Object({
  type: Type.Literal('Polygon'),
  coordinates: Type.Array(Type.Array(Position, { minItems: 4, maxItems: 10_000 }), { minItems: 1, maxItems: 1 }),
}, { description: 'GeoJSON Polygon (exterior ring only), WGS84 lon/lat' })
const CellCode = Type.String({ pattern: '^[0-9]{15}$' })

export const OperationSchema = Type.Union([
  Type.Object({ type: Type.Literal('split'), cell: CellCode, line: Type.Optional(LineString), polygon: Type.Optional(Polygon) },
    { additionalProperties: false, description: 'Split a cell along a line crossing it, or into the parts inside and outside a polygon' }),
  Type.Object({ type: Type.Literal('merge'), cells: Type.Array(CellCode, { minItems: 2, maxItems: 100 }), community: Type.Optional(Code12) },
    { additionalProperties: false, description: 'Merge adjacent cells; across communities only with `community`' }),
  Type.Object({ type: Type.Literal('move_boundary'), cells: Type.Array(CellCode, { minItems: 2, maxItems: 2 }), line: LineString },
    { additionalProperties: false, description: 'The line becomes the common boundary of the two cells' }),
  Type.Object({ type: Type.Literal('reassign'), cell: CellCode, community: Code12 },
    { additionalProperties: false, description: 'Move a cell to another community (same or other subdistrict)' }),
  Type.Object({
    type: Type.Literal('regenerate'), community: Code12, target_area_m2: Type.Number({ minimum: 500, maximum: 5_000_000 }),
    shape: Type.Optional(Type.Union([Type.Literal('square'), Type.Literal('h3')], { description: 'square (default): north-aligned squares of the target area; h3: the H3 hexagons of the resolution whose average area is nearest it' })),
  }, { additionalProperties: false, description: 'Replace the cells of a community by squares (or H3 hexagons) of about this area, clipped to the community' }),
])

/** The operation, or why it does not have the operation schema's shape (paths and messages, as the API's 400 has them). */
export function checkOperation(value: unknown): { op: RedrawOp } | { errors: string[] } {
  if (Value.Check(OperationSchema, value)) return { op: value as RedrawOp }
  const type = typeof value === 'object' && value !== null && 'type' in value ? (value as { type: unknown }).type : undefined
  // A union reports every branch; keep those of the branch the operation names.
  const errors = Value.Errors(OperationSchema, value)
  const own = errors.filter((e) => !/type/.test(e.instancePath) && e.keyword !== 'anyOf' && e.keyword !== 'const')
  const list = (own.length ? own : errors).map((e) => `${e.instancePath || '/'} ${e.message}`)
  return { errors: [...new Set(list)].slice(0, 8).map((e) => (typeof type === 'string' ? `${type}: ${e}` : e)) }
}
