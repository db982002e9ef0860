/**
 * Draft change sets of grid redraws: their operations, the draft's view of
 * the grid, validation and preview. The geometry is done by grids/redraw/
 * (pure); this module reads the cells an operation needs from the active
 * grid, overlays the draft, and stores each operation with what it did.
 * Committing is server/repositories/grid-commit.ts.
 */
import type { Database, Queryable } from '../db/types.ts'
import { AppError } from '../errors.ts'
import { ArrayContext } from '../../grids/redraw/context.ts'
import { applyOperation } from '../../grids/redraw/operations.ts'
import { emptyDraft, fold, summarise, type BaseCell, type DraftState, type DraftSummary } from '../../grids/redraw/changeset.ts'
import { DEFAULT_AREA_BOUNDS, validateDraft, type ChangeProblem } from '../../grids/redraw/validate.ts'
import { areaM2, latticeBBox } from '../../grids/redraw/geometry.ts'
import { RedrawError, type CellGeometry, type OpResult, type RedrawCell, type RedrawOp } from '../../grids/redraw/types.ts'

export type ChangesetStatus = 'draft' | 'committed' | 'discarded'

export interface ChangesetRow {
  id: number
  title: string
  status: ChangesetStatus
  author_id: number | null
  base_version: number | null
  min_area_m2: number
  max_area_m2: number
  committed_version: number | null
  created_at: string
  updated_at: string
  committed_at: string | null
  operations: number
}

/** What one stored operation did (changeset_operations.result). */
export interface StoredResult extends OpResult {
  base: BaseCell[]
}

export interface OperationRow { seq: number; op: RedrawOp; result: StoredResult }

interface CellRow { code: string; community_code: string; responsible_unit: string; version: number; geojson: string }

const CELL_COLUMNS = 'c.code, c.community_code, c.responsible_unit, c.version, ST_AsGeoJSON(c.geom, 7) AS geojson'

const toBase = (r: CellRow): BaseCell => ({
  code: r.code, community: r.community_code, responsibleUnit: r.responsible_unit, version: r.version, geometry: JSON.parse(r.geojson) as CellGeometry,
})

const CHANGESET_SELECT = `SELECT s.id, s.title, s.status, s.author_id, s.base_version, s.min_area_m2, s.max_area_m2, s.committed_version,
  s.created_at, s.updated_at, s.committed_at,
  (SELECT count(*) FROM changeset_operations o WHERE o.changeset_id = s.id)::int AS operations
FROM changesets s`

type RawChangeset = Omit<ChangesetRow, 'created_at' | 'updated_at' | 'committed_at'> & { created_at: Date; updated_at: Date; committed_at: Date | null }

const iso = (r: RawChangeset): ChangesetRow => ({
  ...r, created_at: r.created_at.toISOString(), updated_at: r.updated_at.toISOString(), committed_at: r.committed_at?.toISOString() ?? null,
})

export const notDraft = (c: ChangesetRow): AppError =>
  new AppError(409, 'changeset_not_draft', `change set ${c.id} is ${c.status}; only drafts change`, { changeset: c.id, status: c.status })

/** Envelopes (lon/lat) of geometries, grown by about 1 m, for && queries. */
export function envelopes(geoms: CellGeometry[]): [number[], number[], number[], number[]] {
  const out: [number[], number[], number[], number[]] = [[], [], [], []]
  for (const g of geoms) {
    const b = latticeBBox(g)
    out[0].push((b[0] - 100) / 1e7)
    out[1].push((b[1] - 100) / 1e7)
    out[2].push((b[2] + 100) / 1e7)
    out[3].push((b[3] + 100) / 1e7)
  }
  return out
}

/** Active cells whose bounding box meets any of the envelopes. */
export async function cellsNear(q: Queryable, geoms: CellGeometry[]): Promise<BaseCell[]> {
  if (!geoms.length) return []
  const [x1, y1, x2, y2] = envelopes(geoms)
  const rows = (await q.query<CellRow>(`SELECT ${CELL_COLUMNS} FROM cells c
    WHERE EXISTS (SELECT 1 FROM unnest($1::float8[], $2::float8[], $3::float8[], $4::float8[]) e(x1, y1, x2, y2)
      WHERE c.geom && ST_MakeEnvelope(e.x1, e.y1, e.x2, e.y2, 4326))`, [x1, y1, x2, y2])).rows
  return rows.map(toBase)
}

export class ChangesetRepository {
  constructor(private readonly db: Database) {}

  async list(status?: ChangesetStatus): Promise<ChangesetRow[]> {
    const rows = (await this.db.query<RawChangeset>(`${CHANGESET_SELECT} WHERE ($1::text IS NULL OR s.status = $1) ORDER BY s.id DESC`, [status ?? null])).rows
    return rows.map(iso)
  }

  async get(id: number, q: Queryable = this.db, lock = false): Promise<ChangesetRow> {
    const rows = (await q.query<RawChangeset>(`${CHANGESET_SELECT} WHERE s.id = $1${lock ? ' FOR UPDATE OF s' : ''}`, [id])).rows
    if (!rows.length) throw new AppError(404, 'not_found', `change set ${id} not found`)
    return iso(rows[0])
  }

  /** A new draft; cell-area bounds default to DEFAULT_AREA_BOUNDS. */
  async create(p: { title: string; authorId: number | null; minAreaM2?: number; maxAreaM2?: number }): Promise<ChangesetRow> {
    const minAreaM2 = p.minAreaM2 ?? DEFAULT_AREA_BOUNDS.minAreaM2
    const maxAreaM2 = p.maxAreaM2 ?? DEFAULT_AREA_BOUNDS.maxAreaM2
    if (!(maxAreaM2 > minAreaM2)) {
      throw new AppError(422, 'invalid_area_bounds', `max_area_m2 (${maxAreaM2}) must be above min_area_m2 (${minAreaM2})`, { field: 'body.max_area_m2' })
    }
    const id = (await this.db.query<{ id: number }>(`INSERT INTO changesets (title, author_id, base_version, min_area_m2, max_area_m2)
      VALUES ($1, $2, (SELECT max(id) FROM grid_versions), $3, $4) RETURNING id`, [p.title, p.authorId, minAreaM2, maxAreaM2])).rows[0].id
    return this.get(id)
  }

  async operations(id: number, q: Queryable = this.db): Promise<OperationRow[]> {
    return (await q.query<OperationRow>('SELECT seq, op, result FROM changeset_operations WHERE changeset_id = $1 ORDER BY seq', [id])).rows
  }

  /** The draft folded from its operations. */
  async state(id: number, q: Queryable = this.db): Promise<{ state: DraftState; ops: OperationRow[] }> {
    const ops = await this.operations(id, q)
    const state = emptyDraft()
    for (const o of ops) fold(state, o.seq, o.result, o.result.base)
    return { state, ops }
  }

  /**
   * Applies one operation to a draft and stores it. A refused operation
   * throws a 422 naming the operation, field and cell, and stores nothing.
   */
  async addOperation(id: number, op: RedrawOp): Promise<{ seq: number; result: StoredResult; summary: DraftSummary }> {
    return this.db.transaction(async (tx) => {
      const cs = await this.get(id, tx, true)
      if (cs.status !== 'draft') throw notDraft(cs)
      const { state, ops } = await this.state(id, tx)
      const seq = ops.length ? ops[ops.length - 1].seq + 1 : 0
      const { ctx, loaded } = await contextFor(tx, state, op)
      ctx.op = seq
      let result: OpResult
      try {
        result = applyOperation(op, ctx)
      } catch (err) {
        if (err instanceof RedrawError) {
          throw new AppError(422, err.code, `operation ${seq} (${op.type}) refused: ${err.message}`, {
            operation: seq, type: op.type, field: `operation.${err.field}`, cell: err.cell,
          })
        }
        throw err
      }
      const codes = new Set([...result.removed, ...result.upserted.map((c) => c.code)])
      const base = [...codes].filter((c) => !state.base.has(c) && !state.current.has(c) && !state.produced.has(c))
        .map((c) => loaded.get(c)).filter((b): b is BaseCell => b !== undefined)
      const stored: StoredResult = { ...result, base }
      await tx.query('INSERT INTO changeset_operations (changeset_id, seq, op, result) VALUES ($1, $2, $3, $4)', [id, seq, JSON.stringify(op), JSON.stringify(stored)])
      await tx.query('UPDATE changesets SET updated_at = now() WHERE id = $1', [id])
      fold(state, seq, result, base)
      return { seq, result: stored, summary: summarise(state) }
    })
  }

  /** Takes back the draft's last operation. */
  async undo(id: number): Promise<{ removed_seq: number | null }> {
    return this.db.transaction(async (tx) => {
      const cs = await this.get(id, tx, true)
      if (cs.status !== 'draft') throw notDraft(cs)
      const r = await tx.query<{ seq: number }>(`DELETE FROM changeset_operations WHERE changeset_id = $1
        AND seq = (SELECT max(seq) FROM changeset_operations WHERE changeset_id = $1) RETURNING seq`, [id])
      await tx.query('UPDATE changesets SET updated_at = now() WHERE id = $1', [id])
      return { removed_seq: r.rows[0]?.seq ?? null }
    })
  }

  async discard(id: number): Promise<ChangesetRow> {
    return this.db.transaction(async (tx) => {
      const cs = await this.get(id, tx, true)
      if (cs.status !== 'draft') throw notDraft(cs)
      await tx.query(`UPDATE changesets SET status = 'discarded', updated_at = now() WHERE id = $1`, [id])
      return this.get(id, tx)
    })
  }

  /**
   * Everything wrong with the draft against the grid as it is now: the
   * change-set rules (grids/redraw/validate.ts) and PostGIS's own verdict on
   * each new geometry.
   */
  async validate(id: number, q: Queryable = this.db): Promise<{ problems: ChangeProblem[]; state: DraftState; changeset: ChangesetRow }> {
    const changeset = await this.get(id, q)
    const { state } = await this.state(id, q)
    return { problems: await validateState(q, state, changeset), state, changeset }
  }
}

/** Validation of a folded draft against the active grid (also run inside the commit). */
export async function validateState(q: Queryable, state: DraftState, cs: Pick<ChangesetRow, 'min_area_m2' | 'max_area_m2'>): Promise<ChangeProblem[]> {
  const geoms = [...state.base.values(), ...state.current.values()].map((c) => c.geometry)
  const neighbours = (await cellsNear(q, geoms)).filter((c) => !state.base.has(c.code) && !state.current.has(c.code))
  const added = [...state.current.keys()].filter((c) => !state.base.has(c))
  const retired = new Set(added.length
    ? (await q.query<{ code: string }>('SELECT code FROM cell_codes WHERE code = ANY($1::text[]) AND retired_version IS NOT NULL', [added])).rows.map((r) => r.code)
    : [])
  const problems = validateDraft(state, neighbours, { minAreaM2: cs.min_area_m2, maxAreaM2: cs.max_area_m2, isRetired: (c) => retired.has(c) })
  const current = [...state.current.values()]
  if (current.length) {
    const invalid = await q.query<{ i: number; reason: string }>(`SELECT (t.i - 1)::int AS i, ST_IsValidReason(g) AS reason
      FROM (SELECT i, ST_SetSRID(ST_GeomFromGeoJSON(j), 4326) AS g FROM unnest($1::text[]) WITH ORDINALITY AS u(j, i)) t
      WHERE NOT ST_IsValid(g)`, [current.map((c) => JSON.stringify(c.geometry))])
    for (const r of invalid.rows) {
      const c = current[r.i]
      if (problems.some((p) => p.cell === c.code && p.error === 'invalid_geometry')) continue
      problems.push({ operation: state.origin.get(c.code) ?? null, cell: c.code, field: 'geometry', error: 'invalid_geometry', reason: `PostGIS: ${r.reason}` })
    }
  }
  return problems
}

/**
 * The draft's view of the part of the grid an operation needs: the cells it
 * names (or its community's cells), everything near them, the communities and
 * the codes ever issued there.
 */
async function contextFor(q: Queryable, state: DraftState, op: RedrawOp): Promise<{ ctx: ArrayContext; loaded: Map<string, BaseCell> }> {
  const named = op.type === 'split' || op.type === 'reassign' ? [op.cell] : op.type === 'merge' || op.type === 'move_boundary' ? (Array.isArray(op.cells) ? op.cells : []) : []
  const codes = named.filter((c) => typeof c === 'string' && !state.base.has(c) && !state.current.has(c))
  const loaded = new Map<string, BaseCell>()
  const keep = (rows: CellRow[]): void => { for (const r of rows) if (!state.base.has(r.code) && !state.current.has(r.code)) loaded.set(r.code, toBase(r)) }
  if (codes.length) keep((await q.query<CellRow>(`SELECT ${CELL_COLUMNS} FROM cells c WHERE c.code = ANY($1::text[])`, [codes])).rows)
  const community = op.type === 'regenerate' ? op.community : null
  if (typeof community === 'string') keep((await q.query<CellRow>(`SELECT ${CELL_COLUMNS} FROM cells c WHERE c.community_code = $1`, [community])).rows)
  const targets: RedrawCell[] = [
    ...named.map((c) => state.current.get(c) ?? loaded.get(c)).filter((c): c is RedrawCell => c !== undefined),
    ...(typeof community === 'string' ? [...state.current.values()].filter((c) => c.community === community) : []),
    ...[...loaded.values()],
  ]
  if (targets.length) for (const c of await cellsNear(q, targets.map((t) => t.geometry))) if (!state.base.has(c.code) && !state.current.has(c.code)) loaded.set(c.code, c)
  const nearDraft = [...state.current.values()].filter((c) => targets.some((t) => boxesMeet(t.geometry, c.geometry)) || c.community === community)
  const cells: RedrawCell[] = [...loaded.values(), ...nearDraft]
  const communities = [...new Set([...cells.map((c) => c.community), ...(op.type === 'reassign' || op.type === 'merge' || op.type === 'regenerate' ? [String(op.community ?? '')] : [])])]
    .filter((c) => /^[0-9]{12}$/.test(c))
  const known = (await q.query<{ code: string }>('SELECT code FROM communities WHERE code = ANY($1::text[])', [communities])).rows.map((r) => r.code)
  const issued = (await q.query<{ code: string }>('SELECT code FROM cell_codes WHERE substr(code, 1, 12) = ANY($1::text[])', [communities])).rows.map((r) => r.code)
  const ctx = new ArrayContext(cells, [...issued, ...state.produced], new Set([...known, ...nearDraft.map((c) => c.community)]), state.removedAt)
  return { ctx, loaded }
}

function boxesMeet(a: CellGeometry, b: CellGeometry): boolean {
  const p = latticeBBox(a)
  const o = latticeBBox(b)
  return o[0] <= p[2] + 100 && o[2] >= p[0] - 100 && o[1] <= p[3] + 100 && o[3] >= p[1] - 100
}

/** Areas before and after, per code, for previews and the commit's answer. */
export function areaChanges(state: DraftState): { code: string; before_m2: number | null; after_m2: number | null }[] {
  const codes = [...new Set([...state.base.keys(), ...state.current.keys()])].sort()
  const r1 = (v: number): number => Math.round(v * 10) / 10
  return codes.map((code) => {
    const b = state.base.get(code)
    const a = state.current.get(code)
    return { code, before_m2: b ? r1(areaM2(b.geometry)) : null, after_m2: a ? r1(areaM2(a.geometry)) : null }
  })
}
