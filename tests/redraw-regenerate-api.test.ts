/**
 * Regenerate through the API on the full fixture (both backends): one draft
 * regenerates 8 fixture communities — ones the first regenerate failed
 * on, long stretches of the district's outline, irregular outlines — half in
 * squares, half in H3 hexagons; the draft validates (lattice rules and
 * PostGIS's ST_IsValid), previews and commits as one version. PostGIS then
 * sees every new cell valid, no overlap beyond 0.5 m² around the communities,
 * each community on the same ground as before (to 0.5 m²), and every old cell
 * and building of the communities under a new cell of its community. A bad
 * regenerate is a 4xx naming the operation and the reason; the draft stays.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { createUser } from '../fixtures/users.ts'
import { fixtureCells, pickCommunities } from './helpers/fixture-communities.ts'

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { app, db } = ctx
const planner = await createUser(db, 'planner')
const h = { authorization: `Bearer ${planner.token}` }
// Eight of the pure test's communities (that one loops over 18, in both shapes): a full commit moves
// every facility and case in them, so each community costs about a second here.
const all = pickCommunities(await fixtureCells())
const picks = [...all.filter((p) => p.why.startsWith('failed')).slice(0, 4), ...all.filter((p) => p.why.startsWith('longest')).slice(0, 2),
  ...all.filter((p) => p.why.startsWith('most irregular')).slice(0, 2)]

type Json = Record<string, unknown> & { error?: { code: string; message: string; details?: Record<string, unknown> } }
async function post(url: string, payload: unknown = {}): Promise<{ status: number; body: Json }> {
  const res = await app.inject({ method: 'POST', url, headers: h, payload: payload as Record<string, unknown> })
  return { status: res.statusCode, body: res.json() as Json }
}
const opCount = async (id: number): Promise<number> => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM changeset_operations WHERE changeset_id = $1', [id])).rows[0].n

const id = (await post('/api/changesets', { title: 'regenerate 8 fixture communities' })).body.id as number

t.test('bad regenerate operations are refused with the operation and the reason; the draft stays', async (t) => {
  const community = picks[0].community
  const bad: [string, Record<string, unknown>, number, string][] = [
    ['an unknown shape', { type: 'regenerate', community, target_area_m2: 20000, shape: 'hexagon' }, 400, 'validation_failed'],
    ['a target below 500 m²', { type: 'regenerate', community, target_area_m2: 100 }, 400, 'validation_failed'],
    ['no such community', { type: 'regenerate', community: '110105001777', target_area_m2: 20000, shape: 'h3' }, 422, 'unknown_community'],
  ]
  for (const [what, op, status, code] of bad) {
    const r = await post(`/api/changesets/${id}/operations`, op)
    t.equal(r.status, status, `${what}: ${r.status}`)
    t.equal(r.body.error?.code, code)
    if (status === 422) {
      t.match(r.body.error?.message, /^operation 0 \(regenerate\) refused: no community 110105001777/)
      t.same({ operation: r.body.error?.details?.operation, field: r.body.error?.details?.field }, { operation: 0, field: 'operation.community' })
    }
  }
  t.equal(await opCount(id), 0, 'nothing was added to the draft')
})

t.test('8 communities regenerated in one draft validate, preview and commit', async (t) => {
  const t0 = performance.now()
  for (const [i, { community, why }] of picks.entries()) {
    const shape = i % 2 ? 'h3' : 'square'
    const mean = (await db.query<{ a: number }>('SELECT avg(area_m2) AS a FROM cells WHERE community_code = $1', [community])).rows[0].a
    const r = await post(`/api/changesets/${id}/operations`, { type: 'regenerate', community, target_area_m2: Math.round(mean * 1.5), shape })
    t.equal(r.status, 201, `${community} (${why}) in ${shape}: ${r.status === 201 ? `${(r.body.upserted as string[]).length} cells written` : JSON.stringify(r.body)}`)
  }
  const addMs = performance.now() - t0
  const v = await post(`/api/changesets/${id}/validate`)
  t.same(v.body.problems, [], 'the change set validates: no gap, overlap, spill, invalid cell or bad code')
  const preview = (await app.inject({ url: `/api/changesets/${id}/preview`, headers: h })).json() as { problems: unknown[]; added: string[]; retired: string[] }
  t.same(preview.problems, [])
  const t1 = performance.now()
  const c = await post(`/api/changesets/${id}/commit`)
  t.equal(c.status, 201, JSON.stringify(c.body).slice(0, 500))
  t.comment(`${picks.length} regenerate operations added in ${addMs.toFixed(0)} ms; commit ${(performance.now() - t1).toFixed(0)} ms`)
  const version = c.body.version as number
  const communities = picks.map((p) => p.community)
  t.same((c.body.retired as string[]).map((s) => s.slice(0, 12)).filter((s, i, a) => a.indexOf(s) === i).sort(), [...communities].sort(), 'every old cell of the communities is retired')

  const invalid = (await db.query<{ code: string; reason: string }>(`SELECT code, ST_IsValidReason(geom) AS reason FROM cells
    WHERE community_code = ANY($1::text[]) AND NOT ST_IsValid(geom)`, [communities])).rows
  t.same(invalid, [], 'PostGIS: every new cell is valid')
  // Planar areas scaled at the district's latitude: the cells are straight-edged lon/lat polygons
  // (a geodesic measure of a sliver along a long edge is dominated by the edge's own curvature).
  const M2 = `* (111195.08 ^ 2) * cos(radians(39.95))`
  const overlaps = (await db.query<{ a: string; b: string; m2: number }>(`SELECT a.code AS a, b.code AS b, ST_Area(ST_Intersection(a.geom, b.geom)) ${M2} AS m2
    FROM cells a JOIN cells b ON a.code < b.code AND a.geom && b.geom
    WHERE (a.community_code = ANY($1::text[]) OR b.community_code = ANY($1::text[])) AND ST_Relate(a.geom, b.geom, '2********')`, [communities])).rows
  t.same(overlaps.filter((o) => o.m2 > 0.5), [], `PostGIS: no overlap beyond 0.5 m² (largest ${Math.max(0, ...overlaps.map((o) => o.m2)).toFixed(4)} m²)`)
  const ground = (await db.query<{ community: string; m2: number }>(`SELECT o.community, ST_Area(ST_SymDifference(o.geom, n.geom)) ${M2} AS m2
    FROM (SELECT community_code AS community, ST_Union(geom) AS geom FROM cell_history
      WHERE community_code = ANY($1::text[]) AND version_from <= $2 - 1 AND (version_to IS NULL OR version_to > $2 - 1) GROUP BY 1) o
    JOIN (SELECT community_code AS community, ST_Union(geom) AS geom FROM cells WHERE community_code = ANY($1::text[]) GROUP BY 1) n USING (community)
    ORDER BY 2 DESC`, [communities, version])).rows
  t.equal(ground.length, picks.length)
  t.ok(ground.every((g) => g.m2 < 0.5), `PostGIS: each community covers the same ground (largest symmetric difference ${ground[0].m2.toFixed(4)} m², ${ground[0].community})`)
  const uncovered = (await db.query<{ what: string; id: string }>(`SELECT 'old cell' AS what, h.code AS id FROM cell_history h
    WHERE h.community_code = ANY($1::text[]) AND h.version_to = $2
      AND NOT EXISTS (SELECT 1 FROM cells c WHERE c.community_code = h.community_code AND ST_Covers(c.geom, ST_PointOnSurface(h.geom)))
    UNION ALL
    SELECT 'building', b.id FROM base_records b JOIN cell_history h ON h.code = b.cell_code AND h.version_to = $2
    WHERE b.kind = 'building' AND h.community_code = ANY($1::text[])
      AND NOT EXISTS (SELECT 1 FROM cells c WHERE c.community_code = h.community_code AND ST_Covers(c.geom, b.geom))`,
  [communities, version])).rows
  t.same(uncovered, [], 'every old cell (a block of the fixture) and every building of the communities lies in a new cell of its community')
})
