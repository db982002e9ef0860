/**
 * Heatmaps: counts per grid cell agree with SQL, per H3 cell with h3-js on the
 * inserted points, parents add up, filters (window, matter, status, overdue
 * weight, bbox) do what they say, the in-memory columns follow the database
 * (new cases, closed cases), and bad parameters get 4xx.
 */
import t from 'tap'
import { cellToParent, latLngToCell } from 'h3-js'
import { testApp } from './helpers/app.ts'
import { after, bearer, buildDistrict, cellCentre, cellCode, closedCase, insertCases, MATTERS, type CaseInput } from './helpers/analysis.ts'
import { CaseStore } from '../server/analysis/case-store.ts'
import { SqlCaseSource, type CaseFact, type CaseSource } from '../server/analysis/case-source.ts'
import { resolutionForZoom } from '../server/analysis/heatmap.ts'

const { app, db, close } = await testApp('empty')
t.teardown(close)
const users = await buildDistrict(db)
const leader = bearer(users.leader)

const FROM = new Date('2025-05-01T00:00:00+08:00')
const TO = new Date('2025-06-01T00:00:00+08:00')
const day = (d: number): Date => new Date(FROM.getTime() + (d * 24 + 9) * 3_600_000)
const window = `from=${encodeURIComponent(FROM.toISOString())}&to=${encodeURIComponent(TO.toISOString())}`

// 50 closed cases around cell (2, 3), 10 open and overdue street cases in cell (8, 8), 5 outside the window.
const points: { lon: number; lat: number }[] = []
const cases: CaseInput[] = []
for (let i = 0; i < 50; i++) cases.push(closedCase(day(i % 28), { col: 2, row: 3, dx: ((i * 37) % 100) - 50, dy: ((i * 53) % 100) - 50 }))
for (let i = 0; i < 10; i++) {
  const r = day(i)
  cases.push({ col: 8, row: 8, dx: i * 10, matter: MATTERS.stalls, status: 'in_progress', reported_at: r, accepted_at: after(r, 1), accept_on_time: true,
    dispatched_at: after(r, 1), dispatch_on_time: true, handle_due_at: after(r, 5), due_at: after(r, 5) })
}
for (let i = 0; i < 5; i++) cases.push(closedCase(new Date(TO.getTime() + 86_400_000), { col: 5, row: 5 }))
for (const c of cases.slice(0, 60)) {
  const p = cellCentre(c.col ?? 0, c.row ?? 0)
  points.push({ lon: p.lon + (c.dx ?? 0) / 85456.1, lat: p.lat + (c.dy ?? 0) / 111033.7 })
}
const ids = await insertCases(db, cases)

interface Heat { target: string; resolution: number | null; total: number; max: number; keys: string[]; counts: number[] }
async function heat(query: string): Promise<Heat> {
  const r = await app.inject({ method: 'GET', url: `/api/analysis/heatmap?${query}`, headers: leader })
  if (r.statusCode !== 200) throw new Error(`${r.statusCode} ${r.body}`)
  return r.json()
}
const asMap = (h: Heat): Map<string, number> => new Map(h.keys.map((k, i) => [k, h.counts[i]]))

t.test('grid cells: the counts SQL gives', async (t) => {
  const h = await heat(`target=cell&${window}`)
  const sql = (await db.query<{ cell: string; n: number }>('SELECT cell_code AS cell, count(*)::int AS n FROM cases WHERE reported_at >= $1 AND reported_at < $2 GROUP BY 1', [FROM, TO])).rows
  t.same(asMap(h), new Map(sql.map((r) => [r.cell, r.n])))
  t.same(asMap(h), new Map([[cellCode(2, 3), 50], [cellCode(8, 8), 10]]))
  t.equal(h.total, 60)
  t.equal(h.max, 50)
})

t.test('H3: every resolution matches h3-js on the points, and parents add up', async (t) => {
  for (const res of [6, 7, 8, 9, 10]) {
    const h = await heat(`resolution=${res}&${window}`)
    t.equal(h.resolution, res)
    const expected = new Map<string, number>()
    for (const p of points) {
      const k = latLngToCell(p.lat, p.lon, res)
      expected.set(k, (expected.get(k) ?? 0) + 1)
    }
    t.same(asMap(h), expected, `resolution ${res}`)
  }
  const fine = await heat(`resolution=10&${window}`)
  const coarse = await heat(`resolution=7&${window}`)
  const summed = new Map<string, number>()
  fine.keys.forEach((k, i) => summed.set(cellToParent(k, 7), (summed.get(cellToParent(k, 7)) ?? 0) + fine.counts[i]))
  t.same(asMap(coarse), summed)
  t.equal((await heat(`zoom=12&${window}`)).resolution, 8, 'zoom 12 → resolution 8')
  t.same([9, 10, 11, 12, 13, 14, 18].map(resolutionForZoom), [6, 7, 7, 8, 9, 10, 10])
})

t.test('filters: matter, status, overdue weight, bbox, window', async (t) => {
  t.equal((await heat(`target=cell&${window}&matter=${MATTERS.street}`)).total, 10)
  t.equal((await heat(`target=cell&${window}&matter=${MATTERS.environment}`)).total, 50)
  t.equal((await heat(`target=cell&${window}&status=open`)).total, 10)
  t.equal((await heat(`target=cell&${window}&status=closed`)).total, 50)
  t.equal((await heat(`target=cell&${window}&status=in_progress,handled`)).total, 10)
  // The ten open cases are past their deadline now: each counts 3.
  const w = await heat(`target=cell&${window}&overdue_weight=3`)
  t.same(asMap(w), new Map([[cellCode(2, 3), 50], [cellCode(8, 8), 30]]))
  const p = cellCentre(2, 3)
  const box = `${p.lon - 0.003},${p.lat - 0.003},${p.lon + 0.003},${p.lat + 0.003}`
  t.equal((await heat(`resolution=9&${window}&bbox=${box}`)).total, 50, 'bbox keeps the hexagons around (2, 3)')
  t.equal((await heat(`target=cell&from=${encodeURIComponent(TO.toISOString())}&to=${encodeURIComponent(new Date(TO.getTime() + 7 * 86_400_000).toISOString())}`)).total, 5)
})

t.test('the columns follow the database: new cases, and open cases that close', async (t) => {
  // No look-back: the open case is found again only through the open-case path.
  const store = new CaseStore(new SqlCaseSource(db), { maxStaleMs: 0, lookbackIds: 0, chunk: 7 })
  await store.refresh()
  const open = (): number => store.aggregate({ from: FROM, to: TO, statuses: ['in_progress'] }, { kind: 'cell' }).values.reduce((a, b) => a + b, 0)
  t.equal(store.n, cases.length, 'loaded in chunks of 7')
  t.equal(open(), 10)
  await db.query("UPDATE cases SET status = 'closed', closed_at = $2 WHERE id = $1", [ids[50], after(day(0), 8)])
  await store.refresh()
  t.equal(open(), 9, 'a case closed since is no longer open')
  t.equal(store.n, cases.length, 'updated in place, not added')
  await insertCases(db, [closedCase(day(3), { col: 0, row: 0 })])
  await store.refresh()
  t.equal(store.n, cases.length + 1)
  t.equal(store.aggregate({ from: FROM, to: TO }, { kind: 'cell' }).keys.includes(cellCode(0, 0)), true)

  // The app's own store (1 s staleness) sees them too after a second.
  await new Promise((r) => setTimeout(r, 1100))
  const h = await heat(`target=cell&${window}`)
  t.equal(h.total, 61)
  t.equal((await heat(`target=cell&${window}&status=open`)).total, 9)
})

t.test('a case committed late with a lower id is picked up once; an old gap is given up', async (t) => {
  const rows: CaseFact[] = []
  const fact = (id: number): CaseFact => ({ id, lon: 116.46, lat: 39.93, t: FROM.getTime() / 1000 + 3600, matter: MATTERS.rubbish, status: 'closed', cell: cellCode(0, 0), due: null, late: false })
  const source: CaseSource = {
    after: async (a, limit) => rows.filter((r) => r.id > a).sort((x, y) => x.id - y.id).slice(0, limit),
    byIds: async (list) => rows.filter((r) => list.includes(r.id)),
  }
  const store = new CaseStore(source, { maxStaleMs: 0, lookbackIds: 5 })
  rows.push(fact(1), fact(3))
  await store.refresh()
  t.equal(store.n, 2)
  rows.push(fact(2))
  await store.refresh()
  t.equal(store.n, 3, 'id 2 committed after 3 was read')
  await store.refresh()
  t.equal(store.n, 3, 'not twice')
  rows.push(fact(20))
  await store.refresh()
  rows.push(fact(4), fact(17))
  await store.refresh()
  t.equal(store.n, 5, 'id 17 (within 5 of 20) is found late; id 4 is taken for a rolled-back id')
})

t.test('bad parameters get 4xx', async (t) => {
  const get = (q: string, auth = leader) => app.inject({ method: 'GET', url: `/api/analysis/heatmap?${q}`, headers: auth })
  for (const [q, code, field] of [
    ['resolution=11', 'validation_failed', 'querystring.resolution'],
    ['resolution=5', 'validation_failed', 'querystring.resolution'],
    ['target=hex', 'validation_failed', 'querystring.target'],
    ['status=lost', 'validation_failed', 'querystring.status'],
    [`from=${encodeURIComponent(TO.toISOString())}&to=${encodeURIComponent(FROM.toISOString())}`, 'invalid_window', 'querystring.from'],
    ['matter=11010599999', 'unknown_matter', 'querystring.matter'],
    ['bbox=1,2,3', 'invalid_bbox', 'querystring.bbox'],
    ['overdue_weight=0', 'validation_failed', 'querystring.overdue_weight'],
  ] as const) {
    const r = await get(q)
    t.equal(r.statusCode, 400, q)
    t.equal(r.json().error.code, code, q)
    const d = r.json().error.details
    t.match(Array.isArray(d) ? d[0].field : d.field, field, q)
  }
  t.equal((await get('', bearer(users.handler))).statusCode, 403)
  t.equal((await get('', bearer(users.resident))).statusCode, 403)
})
