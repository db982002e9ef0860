/**
 * Grid redraws: draft change sets, their operations, validation, preview and
 * commit (planners and admins write; staff read), and the grid's history —
 * cells of any version or as of a moment, diffs between versions, case
 * statistics on the grid of any version (public, like the other grid reads).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Code12, Code9, ErrorSchema, GeoJSONFeatureCollection, errorResponses } from '../schemas.ts'
import { AppError } from '../errors.ts'
import { sendText } from '../http.ts'
import { requireActor } from '../plugins/auth.ts'
import { parseBbox } from './cells.ts'
import { ChangesetRepository } from '../repositories/changesets.ts'
import { commitChangeset, previewChangeset } from '../repositories/grid-commit.ts'
import { GridHistoryRepository, type StatsLevel } from '../repositories/grid-history.ts'
import { summarise } from '../../grids/redraw/changeset.ts'
import { DEFAULT_AREA_BOUNDS } from '../../grids/redraw/validate.ts'
import type { RedrawOp } from '../../grids/redraw/types.ts'
import { OperationSchema } from './changeset-schemas.ts'

const Changeset = Type.Object({
  id: Type.Integer(), title: Type.String(), status: Type.String(), author_id: Type.Union([Type.Integer(), Type.Null()]),
  base_version: Type.Union([Type.Integer(), Type.Null()]), min_area_m2: Type.Number(), max_area_m2: Type.Number(),
  committed_version: Type.Union([Type.Integer(), Type.Null()]), created_at: Type.String(), updated_at: Type.String(),
  committed_at: Type.Union([Type.String(), Type.Null()]), operations: Type.Integer(),
})
const Summary = Type.Object({ retired: Type.Array(Type.String()), reshaped: Type.Array(Type.String()), added: Type.Array(Type.String()) })
const Problem = Type.Object({
  operation: Type.Union([Type.Integer(), Type.Null()]), cell: Type.Union([Type.String(), Type.Null()]), field: Type.String(),
  error: Type.String(), reason: Type.String(), area_m2: Type.Optional(Type.Number()), at: Type.Optional(Type.Array(Type.Number())),
})
const MoveSchema = Type.Object({ kind: Type.String(), id: Type.String(), from_cell: Type.Union([Type.String(), Type.Null()]), to_cell: Type.Union([Type.String(), Type.Null()]) })
const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) })
const VersionOrAt = {
  version: Type.Optional(Type.Integer({ minimum: 1, description: 'grid version' })),
  at: Type.Optional(Type.String({ format: 'date-time', description: 'or the version in force at this moment' })),
}

/** Staff who may look at drafts; residents may not. */
const READERS = ['planner', 'admin', 'leader', 'dispatcher', 'command_centre', 'supervisor', 'handler'] as const

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const repo = new ChangesetRepository(app.db)
  const history = new GridHistoryRepository(app.db)
  const write = app.requireRole('planner', 'admin')
  const read = app.requireRole(...READERS)

  app.get('/api/changesets', {
    preHandler: read,
    schema: {
      tags: ['redraw'], summary: 'Change sets (grid redraws), newest first',
      querystring: Type.Object({ status: Type.Optional(Type.Union([Type.Literal('draft'), Type.Literal('committed'), Type.Literal('discarded')])) }, { additionalProperties: false }),
      response: { 200: Type.Array(Changeset), ...errorResponses },
    },
  }, async (req) => repo.list(req.query.status))

  app.post('/api/changesets', {
    preHandler: write,
    schema: {
      tags: ['redraw'], summary: 'Open a draft change set',
      body: Type.Object({
        title: Type.String({ minLength: 1, maxLength: 200 }),
        min_area_m2: Type.Optional(Type.Number({ minimum: 0, description: `smallest cell allowed, m² (default ${DEFAULT_AREA_BOUNDS.minAreaM2})` })),
        max_area_m2: Type.Optional(Type.Number({ minimum: 1, description: `largest cell allowed, m² (default ${DEFAULT_AREA_BOUNDS.maxAreaM2})` })),
      }, { additionalProperties: false }),
      response: { 201: Changeset, 422: ErrorSchema, ...errorResponses },
    },
  }, async (req, reply) => {
    const actor = requireActor(req)
    const cs = await repo.create({ title: req.body.title, authorId: actor.userId, minAreaM2: req.body.min_area_m2, maxAreaM2: req.body.max_area_m2 })
    return reply.code(201).send(cs)
  })

  app.get('/api/changesets/:id', {
    preHandler: read,
    schema: {
      tags: ['redraw'], summary: 'A change set with its operations and what they change',
      params: Id,
      response: {
        200: Type.Object({
          changeset: Changeset,
          operations: Type.Array(Type.Object({ seq: Type.Integer(), op: Type.Unknown(), removed: Type.Array(Type.String()), upserted: Type.Array(Type.String()) })),
          summary: Summary,
        }),
        ...errorResponses,
      },
    },
  }, async (req) => {
    const changeset = await repo.get(req.params.id)
    const { state, ops } = await repo.state(req.params.id)
    return {
      changeset,
      operations: ops.map((o) => ({ seq: o.seq, op: o.op, removed: o.result.removed, upserted: o.result.upserted.map((c) => c.code) })),
      summary: summarise(state),
    }
  })

  app.delete('/api/changesets/:id', {
    preHandler: write,
    schema: { tags: ['redraw'], summary: 'Discard a draft', params: Id, response: { 200: Changeset, 409: ErrorSchema, ...errorResponses } },
  }, async (req) => repo.discard(req.params.id))

  app.post('/api/changesets/:id/operations', {
    preHandler: write,
    schema: {
      tags: ['redraw'], summary: 'Add an operation to a draft',
      description: 'Applied at once to the draft\'s view of the grid. A refused operation is a 422 whose code says why '
        + '(line_outside_cell, self_intersecting_line, cells_not_adjacent, cross_community_merge …) and whose details name '
        + 'the operation, field and cell; the draft stays as it was.',
      params: Id,
      body: OperationSchema,
      response: {
        201: Type.Object({ seq: Type.Integer(), removed: Type.Array(Type.String()), upserted: Type.Array(Type.String()), summary: Summary }),
        409: ErrorSchema, 422: ErrorSchema, ...errorResponses,
      },
    },
  }, async (req, reply) => {
    const r = await repo.addOperation(req.params.id, req.body as RedrawOp)
    return reply.code(201).send({ seq: r.seq, removed: r.result.removed, upserted: r.result.upserted.map((c) => c.code), summary: r.summary })
  })

  app.delete('/api/changesets/:id/operations/last', {
    preHandler: write,
    schema: { tags: ['redraw'], summary: 'Take back the last operation of a draft', params: Id, response: { 200: Type.Object({ removed_seq: Type.Union([Type.Integer(), Type.Null()]) }), 409: ErrorSchema, ...errorResponses } },
  }, async (req) => repo.undo(req.params.id))

  app.post('/api/changesets/:id/validate', {
    preHandler: read,
    schema: {
      tags: ['redraw'], summary: 'Validate a draft against the grid as it is now',
      params: Id,
      response: { 200: Type.Object({ valid: Type.Boolean(), problems: Type.Array(Problem), summary: Summary }), ...errorResponses },
    },
  }, async (req) => {
    const { problems, state } = await repo.validate(req.params.id)
    return { valid: problems.length === 0, problems, summary: summarise(state) }
  })

  app.get('/api/changesets/:id/preview', {
    preHandler: read,
    schema: {
      tags: ['redraw'], summary: 'What a draft would change: cells before and after, areas, facilities and open cases that move, problems',
      params: Id,
      response: {
        200: Type.Object({
          changeset: Type.Integer(), retired: Type.Array(Type.String()), reshaped: Type.Array(Type.String()), added: Type.Array(Type.String()),
          areas: Type.Array(Type.Object({ code: Type.String(), before_m2: Type.Union([Type.Number(), Type.Null()]), after_m2: Type.Union([Type.Number(), Type.Null()]) })),
          moves: Type.Array(MoveSchema), problems: Type.Array(Problem), cells: GeoJSONFeatureCollection,
        }),
        ...errorResponses,
      },
    },
  }, async (req) => previewChangeset(app.db, req.params.id))

  app.post('/api/changesets/:id/commit', {
    preHandler: write,
    schema: {
      tags: ['redraw'], summary: 'Commit a draft as a new grid version',
      description: 'One transaction: conflict check (409 changeset_conflict with the cells another commit changed; the draft is kept), '
        + 'validation (422 changeset_invalid with the problems), the new version, and facilities and open cases moved to their new cells.',
      params: Id,
      body: Type.Object({
        effective_at: Type.Optional(Type.String({ format: 'date-time', description: 'when the layout took effect; default now; not in the future, not before the previous version' })),
        note: Type.Optional(Type.String({ maxLength: 500 })),
      }, { additionalProperties: false }),
      response: {
        201: Type.Object({
          changeset: Type.Integer(), version: Type.Integer(), effective_at: Type.String(),
          retired: Type.Array(Type.String()), reshaped: Type.Array(Type.String()), added: Type.Array(Type.String()),
          renumbered: Type.Record(Type.String(), Type.String()), facilities_moved: Type.Integer(), cases_moved: Type.Integer(),
          moves: Type.Array(MoveSchema), ms: Type.Integer(),
        }),
        409: ErrorSchema, 422: ErrorSchema, ...errorResponses,
      },
    },
  }, async (req, reply) => {
    const effectiveAt = req.body?.effective_at === undefined ? undefined : new Date(req.body.effective_at)
    const summary = await commitChangeset(app.db, req.params.id, { effectiveAt, note: req.body?.note })
    await app.gridChanged()
    return reply.code(201).send(summary)
  })

  async function resolveVersion(q: { version?: number; at?: string }): Promise<number> {
    if (q.version !== undefined && q.at !== undefined) throw new AppError(400, 'bad_request', 'give version or at, not both', { field: 'querystring' })
    if (q.version !== undefined) {
      if (!(await history.versionExists(q.version))) throw new AppError(404, 'not_found', `grid version ${q.version} not found`)
      return q.version
    }
    const at = q.at === undefined ? new Date() : new Date(q.at)
    const v = await history.versionAt(at)
    if (v === null) throw new AppError(404, 'not_found', `no grid version was in force at ${at.toISOString()}`)
    return v
  }

  app.get('/api/grids/history/cells', {
    schema: {
      tags: ['grid'], summary: 'Cells of a grid version, or of the version in force at a moment, as GeoJSON',
      querystring: Type.Object({
        ...VersionOrAt, community: Type.Optional(Code12), subdistrict: Type.Optional(Code9),
        bbox: Type.Optional(Type.String({ maxLength: 200, description: 'minLon,minLat,maxLon,maxLat' })),
      }, { additionalProperties: false }),
      response: { 200: GeoJSONFeatureCollection, ...errorResponses },
    },
  }, async (req, reply) => {
    const version = await resolveVersion(req.query)
    const bbox = req.query.bbox === undefined ? undefined : parseBbox(req.query.bbox)
    return sendText(reply, 'application/geo+json', await history.cellsAt(version, { community: req.query.community, subdistrict: req.query.subdistrict, bbox }))
  })

  app.get('/api/grids/diff', {
    schema: {
      tags: ['grid'], summary: 'Cells that differ between two grid versions (removed, added, reshaped and reshaped_before) as GeoJSON',
      querystring: Type.Object({ from: Type.Integer({ minimum: 1 }), to: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
      response: { 200: GeoJSONFeatureCollection, ...errorResponses },
    },
  }, async (req, reply) => {
    return sendText(reply, 'application/geo+json', await history.diffOf(req.query.from, req.query.to))
  })

  app.get('/api/grids/stats', {
    schema: {
      tags: ['grid'], summary: 'Cases per cell, community or subdistrict of any grid version (each case located in that version\'s cells)',
      querystring: Type.Object({
        ...VersionOrAt,
        level: Type.Optional(Type.Union([Type.Literal('cell'), Type.Literal('community'), Type.Literal('subdistrict')], { default: 'subdistrict' })),
        from: Type.Optional(Type.String({ format: 'date-time', description: 'cases reported from' })),
        to: Type.Optional(Type.String({ format: 'date-time', description: 'cases reported before' })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          version: Type.Integer(), level: Type.String(),
          rows: Type.Array(Type.Object({ code: Type.String(), cases: Type.Integer(), open: Type.Integer(), reported_here: Type.Integer() })),
        }),
        ...errorResponses,
      },
    },
  }, async (req) => {
    const version = await resolveVersion(req.query)
    const level: StatsLevel = req.query.level ?? 'subdistrict'
    const rows = await history.caseStats(version, level, req.query.from ? new Date(req.query.from) : undefined, req.query.to ? new Date(req.query.to) : undefined)
    return { version, level, rows }
  })
}

export default routes
