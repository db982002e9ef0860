/**
 * Preview and commit of a draft change set. A commit is one transaction:
 * check that every cell the draft read is still as it was (else 409 with the
 * cells), validate again against the grid as it is now (else 422), write a
 * new grid version (cells, cell_history, cell_codes, outlines of communities
 * and subdistricts whose ground changed), then put facilities and open cases
 * of the redrawn cells into their new cells. Nothing is written on failure;
 * the draft stays a draft.
 */
import type { Database, Queryable } from '../db/types.ts'
import { AppError } from '../errors.ts'
import { nextFreeNumbers } from '../../grids/redraw/context.ts'
import { summarise, type DraftState } from '../../grids/redraw/changeset.ts'
import { areaM2 } from '../../grids/redraw/geometry.ts'
import { areaChanges, ChangesetRepository, notDraft, validateState } from './changesets.ts'

/** Same lock as the grid import: one grid writer at a time. */
const GRID_WRITE_LOCK = 'SELECT pg_advisory_xact_lock(20051106)'
/** The facility registry's write lock (server/repositories/facility-import.ts). */
const FACILITY_WRITE_LOCK = 'SELECT pg_advisory_xact_lock(20051108)'

export interface Move { kind: 'facility' | 'case'; id: string; from_cell: string | null; to_cell: string | null }

// Where each facility and open case of the redrawn cells lands, given the new
// cells ($2 codes, $3 GeoJSON) and the codes leaving or changing ($1). Points
// by cover, lines and polygons by their point on surface, smallest code first
// (the facility import's rule); cells the draft did not touch still count.
// The new cells are parsed once (MATERIALIZED: inlined, every object re-parsed every
// new cell's GeoJSON — 30 s for 2,400 objects and 350 cells of 12 regenerated communities).
const MOVES = `WITH new AS MATERIALIZED (
  SELECT code, ST_SetSRID(ST_GeomFromGeoJSON(g), 4326) AS geom FROM unnest($2::text[], $3::text[]) AS u(code, g)
), objects AS (
  SELECT 'facility' AS kind, f.id::text AS id, f.cell_code AS from_cell,
    CASE WHEN GeometryType(f.geom) = 'POINT' THEN f.geom ELSE ST_PointOnSurface(f.geom) END AS p
  FROM facilities f WHERE f.cell_code = ANY($1::text[])
  UNION ALL
  SELECT 'case', c.id::text, cc.cell_code, c.geom
  FROM case_current_cells cc JOIN cases c ON c.id = cc.case_id
  WHERE c.is_open AND cc.cell_code = ANY($1::text[])
)
SELECT o.kind, o.id, o.from_cell, coalesce(
  (SELECT n.code FROM new n WHERE n.geom && o.p AND ST_Covers(n.geom, o.p) ORDER BY n.code LIMIT 1),
  (SELECT c.code FROM cells c WHERE c.code <> ALL($1::text[]) AND ST_Covers(c.geom, o.p) ORDER BY c.code LIMIT 1)) AS to_cell
FROM objects o ORDER BY o.kind, o.id`

async function moves(q: Queryable, state: DraftState): Promise<Move[]> {
  const gone = [...state.base.keys()]
  if (!gone.length) return []
  const current = [...state.current.values()]
  const rows = (await q.query<Move>(MOVES, [gone, current.map((c) => c.code), current.map((c) => JSON.stringify(c.geometry))])).rows
  return rows.filter((m) => m.from_cell !== m.to_cell)
}

export interface Preview {
  changeset: number
  retired: string[]
  reshaped: string[]
  added: string[]
  areas: { code: string; before_m2: number | null; after_m2: number | null }[]
  moves: Move[]
  problems: Awaited<ReturnType<typeof validateState>>
  /** Cells before (properties.side = before) and after (after), as GeoJSON. */
  cells: { type: 'FeatureCollection'; features: { type: 'Feature'; id: string; geometry: unknown; properties: Record<string, unknown> }[] }
}

export async function previewChangeset(db: Database, id: number): Promise<Preview> {
  const repo = new ChangesetRepository(db)
  const { problems, state } = await repo.validate(id)
  const s = summarise(state)
  const features: Preview['cells']['features'] = []
  for (const c of state.base.values()) {
    features.push({ type: 'Feature', id: `before:${c.code}`, geometry: c.geometry, properties: { side: 'before', code: c.code, community_code: c.community, change: s.retired.includes(c.code) ? 'retired' : 'reshaped', area_m2: Math.round(areaM2(c.geometry) * 10) / 10 } })
  }
  for (const c of state.current.values()) {
    features.push({ type: 'Feature', id: `after:${c.code}`, geometry: c.geometry, properties: { side: 'after', code: c.code, community_code: c.community, change: s.added.includes(c.code) ? 'added' : 'reshaped', operation: state.origin.get(c.code) ?? null, area_m2: Math.round(areaM2(c.geometry) * 10) / 10 } })
  }
  const geometryOk = !problems.some((p) => p.error === 'invalid_geometry')
  return { changeset: id, ...s, areas: areaChanges(state), moves: geometryOk ? await moves(db, state) : [], problems, cells: { type: 'FeatureCollection', features } }
}

export interface CommitSummary {
  changeset: number
  version: number
  effective_at: string
  retired: string[]
  reshaped: string[]
  added: string[]
  /** New codes taken by another commit since the draft gave them out: old → new. */
  renumbered: Record<string, string>
  facilities_moved: number
  cases_moved: number
  moves: Move[]
  ms: number
}

export async function commitChangeset(db: Database, id: number, opts: { effectiveAt?: Date; note?: string } = {}): Promise<CommitSummary> {
  const t0 = performance.now()
  return db.transaction(async (tx) => {
    await tx.query(GRID_WRITE_LOCK)
    const repo = new ChangesetRepository(db)
    const cs = await repo.get(id, tx, true)
    if (cs.status !== 'draft') throw notDraft(cs)
    const { state } = await repo.state(id, tx)
    const s0 = summarise(state)
    if (!s0.retired.length && !s0.reshaped.length && !s0.added.length) {
      throw new AppError(422, 'empty_changeset', `change set ${id} has no operations to commit`, { changeset: id })
    }

    // Conflicts: every cell the draft read must still be active with the version it had then.
    const base = [...state.base.values()]
    const now = new Map((await tx.query<{ code: string; version: number }>('SELECT code, version FROM cells WHERE code = ANY($1::text[])',
      [base.map((b) => b.code)])).rows.map((r) => [r.code, r.version]))
    const conflicts = base.filter((b) => now.get(b.code) !== b.version)
      .map((b) => ({ code: b.code, draft_version: b.version, active_version: now.get(b.code) ?? null }))
    if (conflicts.length) {
      throw new AppError(409, 'changeset_conflict',
        `${conflicts.length} cell(s) of change set ${id} were changed or retired by another commit since the draft read them; the draft is kept`,
        { changeset: id, cells: conflicts })
    }

    const renumbered = await renumberTaken(tx, state)
    const problems = await validateState(tx, state, cs)
    if (problems.length) {
      throw new AppError(422, 'changeset_invalid', `change set ${id} does not validate: ${problems.length} problem(s); nothing was written`, { changeset: id, problems })
    }

    const latest = (await tx.query<{ effective_at: Date | null; now: Date }>('SELECT (SELECT max(effective_at) FROM grid_versions) AS effective_at, now() AS now')).rows[0]
    const effective = opts.effectiveAt ?? latest.now
    if (effective.getTime() > latest.now.getTime() + 60_000) {
      throw new AppError(422, 'effective_in_future', 'effective_at may not lie in the future: a commit takes effect at once', { field: 'body.effective_at' })
    }
    if (latest.effective_at && effective.getTime() < latest.effective_at.getTime()) {
      throw new AppError(422, 'effective_before_previous', `effective_at must not precede the latest grid version's (${latest.effective_at.toISOString()})`, { field: 'body.effective_at' })
    }
    const s = summarise(state)
    const version = (await tx.query<{ id: number }>(`INSERT INTO grid_versions (source, note, effective_at, changeset_id)
      VALUES ('changeset', $1, $2, $3) RETURNING id`, [opts.note ?? cs.title, effective, id])).rows[0].id

    const gone = [...state.base.keys()]
    await tx.query('UPDATE cell_history SET version_to = $1 WHERE code = ANY($2::text[]) AND version_to IS NULL', [version, gone])
    await tx.query('DELETE FROM cells WHERE code = ANY($1::text[])', [gone])
    const current = [...state.current.values()]
    await tx.query(`INSERT INTO cells (code, community_code, subdistrict_code, district_code, geom, area_m2, responsible_unit, version)
      SELECT u.code, substr(u.code, 1, 12), substr(u.code, 1, 9), substr(u.code, 1, 6), g.geom, ST_Area(g.geom::geography),
        coalesce(nullif(u.unit, ''), s.command_centre), $1
      FROM unnest($2::text[], $3::text[], $4::text[]) AS u(code, geojson, unit)
      CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_GeomFromGeoJSON(u.geojson), 4326) AS geom) g
      JOIN subdistricts s ON s.code = substr(u.code, 1, 9)`,
    [version, current.map((c) => c.code), current.map((c) => JSON.stringify(c.geometry)), current.map((c) => c.responsibleUnit ?? '')])
    await tx.query(`INSERT INTO cell_history (code, version_from, community_code, geom, area_m2, responsible_unit)
      SELECT code, version, community_code, geom, area_m2, responsible_unit FROM cells WHERE version = $1 AND code = ANY($2::text[])`,
    [version, current.map((c) => c.code)])
    await tx.query('UPDATE cell_codes SET retired_version = $1 WHERE code = ANY($2::text[]) AND retired_version IS NULL', [version, s.retired])
    await tx.query('INSERT INTO cell_codes (code, first_version) SELECT unnest($2::text[]), $1', [version, s.added])
    await tx.query('UPDATE grid_versions SET cell_count = (SELECT count(*) FROM cells) WHERE id = $1', [version])
    await rebuildChangedOutlines(tx, state)

    // Facilities and open cases of the redrawn cells, in the same transaction.
    await tx.query(FACILITY_WRITE_LOCK)
    const moved = await moves(tx, state)
    const fac = moved.filter((m) => m.kind === 'facility')
    if (fac.length) {
      await tx.query(`UPDATE facilities f SET cell_code = nullif(u.c, ''), updated_at = now()
        FROM unnest($1::text[], $2::text[]) AS u(i, c) WHERE f.id = u.i`, [fac.map((m) => m.id), fac.map((m) => m.to_cell ?? '')])
      await tx.query('UPDATE facility_state SET revision = revision + 1')
    }
    const cases = moved.filter((m) => m.kind === 'case')
    if (cases.length) {
      await tx.query(`INSERT INTO case_cell_moves (case_id, grid_version, from_cell, cell_code)
        SELECT u.i::bigint, $1, u.f, nullif(u.c, '') FROM unnest($2::text[], $3::text[], $4::text[]) AS u(i, f, c)`,
      [version, cases.map((m) => m.id), cases.map((m) => m.from_cell ?? ''), cases.map((m) => m.to_cell ?? '')])
    }
    await tx.query(`UPDATE changesets SET status = 'committed', committed_version = $2, committed_at = now(), updated_at = now() WHERE id = $1`, [id, version])
    return {
      changeset: id, version, effective_at: effective.toISOString(), ...s, renumbered,
      facilities_moved: fac.length, cases_moved: cases.length, moves: moved, ms: Math.round(performance.now() - t0),
    }
  })
}

/**
 * New codes of the draft that another commit issued meanwhile get the next
 * free numbers instead (codes are only promised at commit).
 */
async function renumberTaken(tx: Queryable, state: DraftState): Promise<Record<string, string>> {
  const added = [...state.current.keys()].filter((c) => !state.base.has(c))
  if (!added.length) return {}
  const taken = new Set((await tx.query<{ code: string }>('SELECT code FROM cell_codes WHERE code = ANY($1::text[])', [added])).rows.map((r) => r.code))
  if (!taken.size) return {}
  const out: Record<string, string> = {}
  const communities = [...new Set([...taken].map((c) => c.slice(0, 12)))]
  for (const community of communities) {
    const issued = new Set((await tx.query<{ code: string }>('SELECT code FROM cell_codes WHERE substr(code, 1, 12) = $1', [community])).rows
      .map((r) => Number(r.code.slice(12))))
    for (const c of state.current.keys()) if (c.startsWith(community)) issued.add(Number(c.slice(12)))
    const mine = [...taken].filter((c) => c.startsWith(community)).sort()
    const nums = nextFreeNumbers(issued, mine.length)
    if (!nums) throw new AppError(422, 'codes_exhausted', `community ${community} has no free cell numbers left`, { community })
    mine.forEach((old, i) => {
      const code = community + String(nums[i]).padStart(3, '0')
      const cell = state.current.get(old)
      if (!cell) return
      state.current.delete(old)
      state.current.set(code, { ...cell, code })
      const op = state.origin.get(old)
      state.origin.delete(old)
      if (op !== undefined) state.origin.set(code, op)
      out[old] = code
    })
  }
  return out
}

/**
 * Community and subdistrict outlines are unions of their cells; only those
 * whose ground changed (a cell moved in or out) are rebuilt. The district's
 * never changes: a valid change set covers the same ground.
 */
async function rebuildChangedOutlines(tx: Queryable, state: DraftState): Promise<void> {
  const delta = new Map<string, number>()
  const add = (k: string, v: number): void => { delta.set(k, (delta.get(k) ?? 0) + v) }
  for (const c of state.base.values()) { const a = areaM2(c.geometry); add(c.community, -a); add(c.community.slice(0, 9), -a) }
  for (const c of state.current.values()) { const a = areaM2(c.geometry); add(c.community, a); add(c.community.slice(0, 9), a) }
  const changed = [...delta.entries()].filter(([, v]) => Math.abs(v) > 0.5).map(([k]) => k)
  const communities = changed.filter((k) => k.length === 12)
  const subdistricts = changed.filter((k) => k.length === 9)
  if (communities.length) {
    await tx.query('DELETE FROM communities m WHERE m.code = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM cells c WHERE c.community_code = m.code)', [communities])
    await tx.query(`UPDATE communities m SET geom = u.geom, area_m2 = ST_Area(u.geom::geography)
      FROM (SELECT community_code, ST_Multi(ST_CollectionExtract(ST_Union(geom), 3)) AS geom FROM cells
        WHERE community_code = ANY($1::text[]) GROUP BY community_code) u WHERE m.code = u.community_code`, [communities])
  }
  if (subdistricts.length) {
    await tx.query(`UPDATE subdistricts s SET geom = u.geom, area_m2 = ST_Area(u.geom::geography)
      FROM (SELECT subdistrict_code, ST_Multi(ST_CollectionExtract(ST_Union(geom), 3)) AS geom FROM communities
        WHERE subdistrict_code = ANY($1::text[]) GROUP BY subdistrict_code) u WHERE s.code = u.subdistrict_code`, [subdistricts])
  }
}
