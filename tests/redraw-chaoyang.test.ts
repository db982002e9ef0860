/**
 * Redraws on the full fixture (8,423 cells, facilities, 3,000 cases): a split
 * moves the cell's facilities and open cases to the new cells in the same
 * commit, cases keep the cell they were reported in, the geocoder answers
 * with the new cells at once, statistics agree on either version; a merge and
 * a regeneration on the fixture's Voronoi cells validate; a change set of 20
 * operations across the district validates and commits.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { createUser } from '../fixtures/users.ts'

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { app, db } = ctx
const planner = await createUser(db, 'planner')
const h = { authorization: `Bearer ${planner.token}` }

type Json = Record<string, unknown> & { error?: { code: string; message: string; details?: unknown } }
async function post(url: string, payload: unknown = {}): Promise<{ status: number; body: Json }> {
  const res = await app.inject({ method: 'POST', url, headers: h, payload: payload as Record<string, unknown> })
  return { status: res.statusCode, body: res.json() as Json }
}
async function draft(title: string): Promise<number> {
  return (await post('/api/changesets', { title })).body.id as number
}

/** A north–south line through a cell's centroid, reaching 10 m beyond it on both sides. */
async function cutThrough(code: string): Promise<{ type: 'LineString'; coordinates: number[][] }> {
  const r = (await db.query<{ x: number; y1: number; y2: number }>(`SELECT ST_X(ST_Centroid(geom)) AS x, ST_YMin(geom) - 0.0001 AS y1, ST_YMax(geom) + 0.0001 AS y2
    FROM cells WHERE code = $1`, [code])).rows[0]
  return { type: 'LineString', coordinates: [[r.x, r.y2], [r.x, r.y1]] }
}

t.test('a split moves facilities and open cases to the new cells in the same commit', async (t) => {
  const target = (await db.query<{ code: string }>(`SELECT c.code FROM cells c
    WHERE EXISTS (SELECT 1 FROM cases k WHERE k.is_open AND k.cell_code = c.code) AND c.area_m2 > 8000
    ORDER BY (SELECT count(*) FROM facilities f WHERE f.cell_code = c.code) DESC, c.code LIMIT 1`)).rows[0].code
  const facilities = (await db.query<{ id: string }>('SELECT id FROM facilities WHERE cell_code = $1 ORDER BY id', [target])).rows.map((r) => r.id)
  const open = (await db.query<{ id: string; lon: number; lat: number; grid_version: number }>(`SELECT id::text, ST_X(geom) AS lon, ST_Y(geom) AS lat, grid_version
    FROM cases WHERE is_open AND cell_code = $1 ORDER BY id`, [target])).rows
  t.ok(facilities.length > 0 && open.length > 0, `cell ${target}: ${facilities.length} facilities, ${open.length} open cases`)

  const id = await draft(`split ${target}`)
  const op = await post(`/api/changesets/${id}/operations`, { type: 'split', cell: target, line: await cutThrough(target) })
  t.equal(op.status, 201, JSON.stringify(op.body))
  const added = (op.body.summary as { added: string[] }).added
  t.equal(added.length, 2)
  const preview = (await app.inject({ url: `/api/changesets/${id}/preview`, headers: h })).json() as { moves: { kind: string; id: string; from_cell: string; to_cell: string }[]; problems: unknown[] }
  t.same(preview.problems, [])
  const previewFacilities = preview.moves.filter((m) => m.kind === 'facility')
  t.same(previewFacilities.map((m) => m.id).sort(), facilities, 'every facility of the split cell moves')
  t.ok(previewFacilities.every((m) => added.includes(m.to_cell)), 'into one of the new cells')
  t.same(preview.moves.filter((m) => m.kind === 'case').map((m) => m.id).sort(), open.map((c) => c.id).sort(), 'and every open case')

  const c = await post(`/api/changesets/${id}/commit`)
  t.equal(c.status, 201, JSON.stringify(c.body))
  t.equal(c.body.facilities_moved, facilities.length)
  t.equal(c.body.cases_moved, open.length)
  const version = c.body.version as number
  const now = (await db.query<{ cell_code: string }>('SELECT cell_code FROM facilities WHERE id = ANY($1::text[])', [facilities])).rows
  t.ok(now.every((r) => added.includes(r.cell_code)), 'facilities are in the new cells')
  const kept = (await db.query<{ cell_code: string; grid_version: number }>('SELECT cell_code, grid_version FROM cases WHERE id = ANY($1::bigint[]) ORDER BY id', [open.map((o) => o.id)])).rows
  t.same(kept, open.map((o) => ({ cell_code: target, grid_version: o.grid_version })), 'each case keeps the cell and version it was reported in')
  const current = (await db.query<{ case_id: string; cell_code: string; reported_cell: string; grid_version: number }>(
    'SELECT case_id::text, cell_code, reported_cell, grid_version FROM case_current_cells WHERE case_id = ANY($1::bigint[]) ORDER BY case_id', [open.map((o) => o.id)])).rows
  t.ok(current.every((r) => added.includes(r.cell_code) && r.reported_cell === target && r.grid_version === version), 'their current cell is a new one')

  // The geocoder index was rebuilt in the same request: the case's point is in a new cell.
  const g = (await app.inject(`/api/geocode?lon=${open[0].lon}&lat=${open[0].lat}`)).json() as { cell: string; grid_version: number }
  t.ok(added.includes(g.cell), `geocoder answers ${g.cell}`)
  t.equal(g.grid_version, version)

  // Statistics on either version: the old cell's cases are the new cells' cases.
  const stats = async (v: number): Promise<Map<string, number>> => {
    const r = (await app.inject(`/api/grids/stats?version=${v}&level=cell`)).json() as { rows: { code: string; cases: number }[] }
    return new Map(r.rows.map((x) => [x.code, x.cases]))
  }
  const before = await stats(version - 1)
  const after = await stats(version)
  t.ok((before.get(target) ?? 0) >= open.length)
  t.equal(added.reduce((s, a) => s + (after.get(a) ?? 0), 0), before.get(target), 'cases of the old cell in v1 = cases of its parts in v2')
  t.notOk(after.has(target))
  const sd = async (v: number): Promise<string> => JSON.stringify((await app.inject(`/api/grids/stats?version=${v}&level=subdistrict`)).json().rows)
  t.equal(await sd(version), await sd(version - 1), 'per subdistrict nothing changes')
})

t.test('merge and regenerate on the fixture\'s own cells validate and commit', async (t) => {
  const pair = (await db.query<{ a: string; b: string }>(`SELECT a.code AS a, b.code AS b FROM cells a JOIN cells b
    ON a.community_code = b.community_code AND a.code < b.code AND a.geom && b.geom AND ST_Relate(a.geom, b.geom, 'F***1****')
    WHERE a.area_m2 + b.area_m2 < 40000 ORDER BY a.code LIMIT 1`)).rows[0]
  const community = (await db.query<{ code: string }>(`SELECT community_code AS code FROM cells GROUP BY 1
    HAVING count(*) BETWEEN 10 AND 30 AND sum(area_m2) < 400000 ORDER BY 1 DESC LIMIT 1`)).rows[0].code
  const id = await draft('merge + regenerate')
  const m = await post(`/api/changesets/${id}/operations`, { type: 'merge', cells: [pair.a, pair.b] })
  t.equal(m.status, 201, JSON.stringify(m.body))
  const area = (await db.query<{ a: number }>('SELECT sum(area_m2) / count(*) AS a FROM cells WHERE community_code = $1', [community])).rows[0].a
  const r = await post(`/api/changesets/${id}/operations`, { type: 'regenerate', community, target_area_m2: Math.round(area * 1.5) })
  t.equal(r.status, 201, JSON.stringify(r.body))
  const v = await post(`/api/changesets/${id}/validate`)
  t.same(v.body.problems, [], 'no overlap, no gap, valid on PostGIS')
  const c = await post(`/api/changesets/${id}/commit`)
  t.equal(c.status, 201, JSON.stringify(c.body))
  const overlaps = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM cells a JOIN cells b ON a.code < b.code AND a.geom && b.geom
    WHERE (a.community_code = $1 OR b.community_code = $1) AND ST_Relate(a.geom, b.geom, '2********')
      AND ST_Area(ST_Intersection(a.geom, b.geom)::geography) > 0.5`, [community])).rows[0].n
  t.equal(overlaps, 0, 'PostGIS sees no overlap around the regenerated community')
  const outline = (await db.query<{ d: number }>(`SELECT ST_Area(ST_SymDifference(m.geom, (SELECT ST_Union(geom) FROM cells WHERE community_code = $1))::geography) AS d
    FROM communities m WHERE m.code = $1`, [community])).rows[0].d
  t.ok(outline < 0.5, `the community still covers the same ground (sym. difference ${outline.toFixed(3)} m²)`)
})

t.test('20 splits across the district validate and commit as one version', async (t) => {
  const targets = (await db.query<{ code: string }>(`SELECT code FROM (SELECT code, area_m2, row_number() OVER (ORDER BY code) AS n FROM cells) x
    WHERE n % 400 = 7 AND area_m2 > 6000 ORDER BY code LIMIT 20`)).rows.map((r) => r.code)
  t.equal(targets.length, 20)
  const id = await draft('20 splits')
  for (const code of targets) {
    const r = await post(`/api/changesets/${id}/operations`, { type: 'split', cell: code, line: await cutThrough(code) })
    t.equal(r.status, 201, `${code}: ${r.status === 201 ? '' : JSON.stringify(r.body)}`)
  }
  const t0 = performance.now()
  const v = await post(`/api/changesets/${id}/validate`)
  const validateMs = performance.now() - t0
  t.same(v.body.problems, [])
  const count = async (): Promise<number> => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cells')).rows[0].n
  const before = await count()
  const t1 = performance.now()
  const c = await post(`/api/changesets/${id}/commit`)
  const commitMs = performance.now() - t1
  t.equal(c.status, 201, JSON.stringify(c.body))
  t.equal((c.body.retired as string[]).length, 20)
  t.equal((c.body.added as string[]).length, 40)
  t.comment(`validate ${validateMs.toFixed(0)} ms, commit (with geocoder rebuild) ${commitMs.toFixed(0)} ms`)
  t.equal(await count(), before + 20, 'one more cell per split')
  const versions = (await app.inject('/api/grids/versions')).json() as { id: number; cell_count: number }[]
  t.equal(versions[0].cell_count, before + 20)
})
