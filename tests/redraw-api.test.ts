/**
 * Change sets through the API on a small hand-made grid: roles, operations
 * applied and refused (the draft stays as it was), validation, preview,
 * commit as a new version, history, as-of queries, diffs, retired codes,
 * conflicts between two planners' drafts (409, nothing lost).
 */
import t from 'tap'
import type { FeatureCollection } from 'geojson'
import { testApp } from './helpers/app.ts'
import { cellFeature } from './helpers/grids.ts'
import { createUser } from '../fixtures/users.ts'

const ctx = await testApp('empty')
t.teardown(() => ctx.close())
const { app, db } = ctx
const planner = await createUser(db, 'planner')
const planner2 = await createUser(db, 'planner')
const leader = await createUser(db, 'leader')
const resident = await createUser(db, 'resident')

// 4 × 2 squares of ≈ 9,480 m²: community 001 on top (cells 001–004), 002 below (001–004).
const grid: FeatureCollection = {
  type: 'FeatureCollection',
  features: [0, 1].flatMap((row) => [0, 1, 2, 3].map((col) => cellFeature({ code: `11010500100${row + 1}00${col + 1}`, col, row }))),
}

type Json = Record<string, unknown> & { error?: { code: string; message: string; details?: Record<string, unknown> } }
const as = (token: string) => ({ authorization: `Bearer ${token}` })
async function call(method: 'GET' | 'POST' | 'DELETE', url: string, token: string | null, payload?: unknown): Promise<{ status: number; body: Json }> {
  const res = await app.inject({ method, url, headers: token ? as(token) : {}, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) })
  return { status: res.statusCode, body: res.body ? (res.json() as Json) : {} }
}
const line = (...coordinates: number[][]) => ({ type: 'LineString', coordinates })
const codes = async (): Promise<string[]> => ((await app.inject('/api/cells')).json() as FeatureCollection).features.map((f) => String(f.id))
const versions = async (): Promise<number> => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM grid_versions')).rows[0].n

const imported = await app.inject({ method: 'POST', url: '/api/grids/import', headers: { ...as(planner.token), 'content-type': 'application/json' }, payload: JSON.stringify(grid) })
t.equal(imported.statusCode, 201, imported.body)

// Cell 110105001001002 spans x 116.491…116.492, y 39.949…39.950.
const SPLIT_002 = { type: 'split', cell: '110105001001002', line: line([116.4915, 39.9505], [116.4915, 39.9485]) }

t.test('only planners and admins edit; staff read; residents do not', async (t) => {
  t.equal((await call('POST', '/api/changesets', null, { title: 'x' })).status, 401)
  const byLeader = await call('POST', '/api/changesets', leader.token, { title: 'x' })
  t.equal(byLeader.status, 403)
  t.equal(byLeader.body.error?.code, 'forbidden_role')
  t.equal((await call('GET', '/api/changesets', leader.token)).status, 200, 'leaders read')
  t.equal((await call('GET', '/api/changesets', resident.token)).status, 403)
  t.equal((await call('POST', '/api/changesets', planner.token, { title: 'x', min_area_m2: 5000, max_area_m2: 100 })).status, 422, 'bounds the wrong way round')
})

let first = 0
t.test('a split is applied to the draft; bad operations are refused with the reason and leave it as it was', async (t) => {
  const cs = await call('POST', '/api/changesets', planner.token, { title: '拆分 002' })
  t.equal(cs.status, 201)
  first = cs.body.id as number
  const op = await call('POST', `/api/changesets/${first}/operations`, planner.token, SPLIT_002)
  t.equal(op.status, 201, JSON.stringify(op.body))
  t.same(op.body.summary, { retired: ['110105001001002'], reshaped: ['110105001002002'], added: ['110105001001005', '110105001001006'] },
    'two new cells with the next free numbers; the neighbour below gets the new vertex')

  const refused: [string, unknown, number, string, string | null][] = [
    ['line outside the cell', { type: 'split', cell: '110105001001003', line: line([116.4995, 39.9505], [116.4995, 39.9485]) }, 422, 'line_outside_cell', 'operation.line'],
    ['self-intersecting line', { type: 'split', cell: '110105001001003', line: line([116.4915, 39.9495], [116.4935, 39.9495], [116.4925, 39.9505], [116.4925, 39.9485]) }, 422, 'self_intersecting_line', 'operation.line'],
    ['line ending inside', { type: 'split', cell: '110105001001003', line: line([116.4925, 39.9505], [116.4925, 39.9495]) }, 422, 'line_ends_inside_cell', 'operation.line.coordinates[1]'],
    ['merge of non-adjacent cells', { type: 'merge', cells: ['110105001001001', '110105001001003'] }, 422, 'cells_not_adjacent', 'operation.cells'],
    ['merge across communities without saying so', { type: 'merge', cells: ['110105001001001', '110105001002001'] }, 422, 'cross_community_merge', 'operation.community'],
    ['a cell the draft already split', SPLIT_002, 422, 'cell_removed_by_earlier_operation', 'operation.cell'],
    ['an unknown cell', { type: 'split', cell: '110105001009001', line: line([0, 0], [1, 1]) }, 422, 'unknown_cell', 'operation.cell'],
    ['no such community', { type: 'reassign', cell: '110105001001003', community: '110105001777' }, 422, 'unknown_community', 'operation.community'],
    ['an operation without a type', { cell: '110105001001003' }, 400, 'validation_failed', null],
  ]
  for (const [what, body, status, code, field] of refused) {
    const r = await call('POST', `/api/changesets/${first}/operations`, planner.token, body)
    t.equal(r.status, status, what)
    t.equal(r.body.error?.code, code, what)
    if (field) t.match(r.body.error?.details, { field, operation: 1 }, `${what}: names the operation and field`)
  }
  const after = await call('GET', `/api/changesets/${first}`, leader.token)
  t.equal((after.body.changeset as Json).operations, 1, 'the draft still has its one operation')
  t.same((after.body.operations as Json[]).map((o) => o.seq), [0])
  t.same(await codes(), grid.features.map((f) => String(f.properties?.code)).sort(), 'nothing reached the active grid')
})

t.test('validate and preview', async (t) => {
  const v = await call('POST', `/api/changesets/${first}/validate`, planner.token)
  t.equal(v.status, 200)
  t.same(v.body.problems, [])
  t.equal(v.body.valid, true)
  const p = await call('GET', `/api/changesets/${first}/preview`, leader.token)
  t.equal(p.status, 200)
  const areas = p.body.areas as { code: string; before_m2: number | null; after_m2: number | null }[]
  const old = areas.find((a) => a.code === '110105001001002')
  t.ok(old && old.before_m2 !== null && old.after_m2 === null, 'the split cell has an area before and none after')
  const parts = areas.filter((a) => a.code === '110105001001005' || a.code === '110105001001006')
  t.ok(Math.abs(parts.reduce((s, a) => s + (a.after_m2 ?? 0), 0) - (old?.before_m2 ?? 0)) < 1, 'the parts add up to the old cell')
  const cells = p.body.cells as FeatureCollection
  t.same(cells.features.map((f) => `${f.properties?.side}:${f.properties?.code}:${f.properties?.change}`).sort(), [
    'after:110105001001005:added', 'after:110105001001006:added', 'after:110105001002002:reshaped',
    'before:110105001001002:retired', 'before:110105001002002:reshaped',
  ])
})

let committedAt = ''
t.test('commit makes a new version; history, as-of and diff show it', async (t) => {
  const before = new Date().toISOString()
  await new Promise((r) => setTimeout(r, 20))
  const c = await call('POST', `/api/changesets/${first}/commit`, planner.token, {})
  t.equal(c.status, 201, JSON.stringify(c.body))
  t.equal(c.body.version, 2)
  committedAt = c.body.effective_at as string
  t.same(await codes(), ['110105001001001', '110105001001003', '110105001001004', '110105001001005', '110105001001006',
    '110105001002001', '110105001002002', '110105001002003', '110105001002004'])
  const cc = (await db.query<{ code: string; retired_version: number | null }>("SELECT code, retired_version FROM cell_codes WHERE code IN ('110105001001002', '110105001001005') ORDER BY code")).rows
  t.same(cc, [{ code: '110105001001002', retired_version: 2 }, { code: '110105001001005', retired_version: null }])
  const vs = (await app.inject('/api/grids/versions')).json() as { id: number; source: string; note: string; cell_count: number }[]
  t.match(vs[0], { id: 2, source: 'changeset', note: '拆分 002', cell_count: 9 })
  t.equal((await call('GET', `/api/changesets/${first}`, leader.token)).body.changeset && ((await call('GET', `/api/changesets/${first}`, leader.token)).body.changeset as Json).status, 'committed')
  t.equal((await call('POST', `/api/changesets/${first}/operations`, planner.token, SPLIT_002)).body.error?.code, 'changeset_not_draft')

  const v1 = (await app.inject('/api/grids/history/cells?version=1')).json() as FeatureCollection
  t.equal(v1.features.length, 8)
  t.ok(v1.features.some((f) => f.id === '110105001001002'), 'version 1 still has the split cell')
  const asOf = (await app.inject(`/api/grids/history/cells?at=${encodeURIComponent(before)}`)).json() as FeatureCollection & { version: number }
  t.equal(asOf.version, 1, 'as of a moment before the commit: version 1')
  const now = (await app.inject('/api/grids/history/cells')).json() as FeatureCollection & { version: number }
  t.equal(now.version, 2)
  t.equal(now.features.length, 9)
  t.equal((await app.inject('/api/grids/history/cells?at=2001-01-01T00:00:00Z')).statusCode, 404)

  const diff = (await app.inject('/api/grids/diff?from=1&to=2')).json() as FeatureCollection
  t.same(diff.features.map((f) => `${f.id}:${f.properties?.change}`), [
    '110105001001002:removed', '110105001001005:added', '110105001001006:added', '110105001002002:reshaped', '110105001002002:reshaped_before',
  ])
  const back = (await app.inject('/api/grids/diff?from=2&to=1')).json() as FeatureCollection
  t.same(back.features.filter((f) => f.properties?.change === 'added').map((f) => f.id), ['110105001001002'], 'the reverse diff adds the old cell back')
  t.equal((await app.inject('/api/grids/diff?from=1&to=9')).statusCode, 404)
})

t.test('a retired code never returns; new cells take the next never-issued numbers', async (t) => {
  const cs = await call('POST', '/api/changesets', planner.token, { title: 'merge back' })
  const id = cs.body.id as number
  const m = await call('POST', `/api/changesets/${id}/operations`, planner.token, { type: 'merge', cells: ['110105001001005', '110105001001006'] })
  t.equal(m.status, 201, JSON.stringify(m.body))
  t.same((m.body.summary as Json).added, ['110105001001007'], 'not 002, which was retired')
  t.equal((await call('DELETE', `/api/changesets/${id}`, planner.token)).body.status, 'discarded')
})

t.test('two planners on the same cells: the second commit is a 409 naming them, and its draft is kept', async (t) => {
  const a = (await call('POST', '/api/changesets', planner.token, { title: 'A' })).body.id as number
  const b = (await call('POST', '/api/changesets', planner2.token, { title: 'B' })).body.id as number
  const moveA = { type: 'move_boundary', cells: ['110105001001003', '110105001001004'], line: line([116.4923, 39.95], [116.4923, 39.949]) }
  t.equal((await call('POST', `/api/changesets/${a}/operations`, planner.token, moveA)).status, 201)
  t.equal((await call('POST', `/api/changesets/${b}/operations`, planner2.token, { type: 'merge', cells: ['110105001001004', '110105001002004'], community: '110105001001' })).status, 201)
  t.equal((await call('POST', `/api/changesets/${b}/operations`, planner2.token, { type: 'split', cell: '110105001002001', line: line([116.4905, 39.9492], [116.4905, 39.9478]) })).status, 201)
  t.equal((await call('POST', `/api/changesets/${a}/commit`, planner.token, {})).status, 201)
  const v = await versions()
  const conflict = await call('POST', `/api/changesets/${b}/commit`, planner2.token, {})
  t.equal(conflict.status, 409)
  t.equal(conflict.body.error?.code, 'changeset_conflict')
  t.same((conflict.body.error?.details?.cells as Json[]).map((c) => c.code), ['110105001001004'], 'the cell A reshaped (B also read 002004, still as it was)')
  t.equal(await versions(), v, 'nothing written')
  const kept = await call('GET', `/api/changesets/${b}`, planner2.token)
  t.equal((kept.body.changeset as Json).status, 'draft')
  t.equal((kept.body.changeset as Json).operations, 2, 'both operations kept')
  // Take back the conflicting merge… then the split alone goes through.
  t.equal((await call('DELETE', `/api/changesets/${b}/operations/last`, planner2.token)).body.removed_seq, 1)
  t.equal((await call('DELETE', `/api/changesets/${b}/operations/last`, planner2.token)).body.removed_seq, 0)
  t.equal((await call('POST', `/api/changesets/${b}/operations`, planner2.token, { type: 'split', cell: '110105001002001', line: line([116.4905, 39.9492], [116.4905, 39.9478]) })).status, 201)
  const ok = await call('POST', `/api/changesets/${b}/commit`, planner2.token, {})
  t.equal(ok.status, 201, JSON.stringify(ok.body))
})

t.test('a draft that breaks the rules is not committed', async (t) => {
  const id = (await call('POST', '/api/changesets', planner.token, { title: 'too small', min_area_m2: 6000 })).body.id as number
  t.equal((await call('POST', `/api/changesets/${id}/operations`, planner.token, { type: 'split', cell: '110105001001001', line: line([116.4905, 39.9505], [116.4905, 39.9485]) })).status, 201)
  const v = await call('POST', `/api/changesets/${id}/validate`, planner.token)
  t.equal(v.body.valid, false)
  t.same((v.body.problems as Json[]).map((p) => `${p.error}:${p.operation}`).sort(), ['area_too_small:0', 'area_too_small:0'])
  const n = await versions()
  const c = await call('POST', `/api/changesets/${id}/commit`, planner.token, {})
  t.equal(c.status, 422)
  t.equal(c.body.error?.code, 'changeset_invalid')
  t.equal(((c.body.error?.details?.problems) as Json[]).length, 2)
  t.equal(await versions(), n, 'no version written')
  t.ok((await codes()).includes('110105001001001'))

  const empty = (await call('POST', '/api/changesets', planner.token, { title: 'empty' })).body.id as number
  t.equal((await call('POST', `/api/changesets/${empty}/commit`, planner.token, {})).body.error?.code, 'empty_changeset')
  const later = (await call('POST', '/api/changesets', planner.token, { title: 'future' })).body.id as number
  t.equal((await call('POST', `/api/changesets/${later}/operations`, planner.token, { type: 'reassign', cell: '110105001001001', community: '110105001002' })).status, 201)
  t.equal((await call('POST', `/api/changesets/${later}/commit`, planner.token, { effective_at: '2999-01-01T00:00:00Z' })).body.error?.code, 'effective_in_future')
  t.equal((await call('POST', `/api/changesets/${later}/commit`, planner.token, { effective_at: '2001-01-01T00:00:00Z' })).body.error?.code, 'effective_before_previous')
  t.ok(committedAt < new Date().toISOString())
  const moved = await call('POST', `/api/changesets/${later}/commit`, planner.token, {})
  t.equal(moved.status, 201, JSON.stringify(moved.body))
  const community = (await app.inject('/api/communities')).json() as { code: string; cells: number; area_m2: number }[]
  const c2 = community.find((c) => c.code === '110105001002')
  // 002 had four cells, one split in two by draft B, and now 001001: six cells covering five squares.
  t.equal(c2?.cells, 6, 'the community that received the cell counts it')
  t.ok(c2 && Math.abs(c2.area_m2 - 5 * 9488.7) < 5, `and its outline grew by one square: ${c2?.area_m2}`)
  const c1 = community.find((c) => c.code === '110105001001')
  t.ok(c1 && Math.abs(c1.area_m2 - 3 * 9488.7) < 5, `the community that gave it shrank: ${c1?.area_m2}`)
})
