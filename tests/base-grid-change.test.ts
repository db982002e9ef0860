/**
 * After the grid changes, what was in a closed cell moves to the cell that
 * covers it now: a cell is split in two (a new grid version, as a redraw
 * writes it) and its base records, named residents and frontage units follow,
 * so the comprehensive query of the two halves adds up to the old cell's.
 */
import t from 'tap'
import { testApp } from './helpers/app.ts'
import { auth } from './helpers/cases.ts'

const ctx = await testApp('chaoyang')
t.teardown(() => ctx.close())
const { app, db } = ctx

interface Q { counts: Record<string, number>; people: { resident: number; key_persons: { total: number } }; frontage_units: { count: number } }
const query = async (cell: string): Promise<Q> => (await app.inject({ url: `/api/base/query?cell=${cell}`, headers: auth('leader') })).json() as Q

t.test('a split cell\'s records, residents and frontages follow the new cells', async (t) => {
  // The polygonal cell with the most records, with a named resident and a frontage unit in it.
  const old = (await db.query<{ code: string; community: string }>(`SELECT b.cell_code AS code, b.community_code AS community FROM base_records b JOIN cells c ON c.code = b.cell_code
    WHERE ST_GeometryType(c.geom) = 'ST_Polygon' AND EXISTS (SELECT 1 FROM base_residents r WHERE r.cell_code = b.cell_code)
      AND EXISTS (SELECT 1 FROM frontage_units u WHERE u.cell_code = b.cell_code)
    GROUP BY 1, 2 ORDER BY count(*) DESC, 1 LIMIT 1`)).rows[0]
  t.ok(old, 'a cell to split')
  const before = await query(old.code)
  // Two new codes after the community's highest.
  const top = (await db.query<{ n: number }>(`SELECT max(right(code, 3)::int) AS n FROM cell_codes WHERE substr(code, 1, 12) = $1`, [old.community])).rows[0].n
  const [a, b] = [top + 1, top + 2].map((n) => `${old.community}${String(n).padStart(3, '0')}`)
  await db.transaction(async (tx) => {
    const v = (await tx.query<{ id: number }>(`INSERT INTO grid_versions (source, note) VALUES ('test', 'split') RETURNING id`)).rows[0].id
    await tx.query('UPDATE cell_history SET version_to = $1 WHERE code = $2 AND version_to IS NULL', [v, old.code])
    // West and east halves: the cell cut by the meridian through its centre.
    await tx.query(`INSERT INTO cells (code, community_code, subdistrict_code, district_code, geom, area_m2, responsible_unit, version)
      SELECT n.code, c.community_code, c.subdistrict_code, c.district_code, n.g, ST_Area(n.g::geography), c.responsible_unit, $1
      FROM cells c, LATERAL (SELECT ST_XMin(c.geom) AS x0, ST_XMax(c.geom) AS x1, ST_YMin(c.geom) - 1 AS y0, ST_YMax(c.geom) + 1 AS y1, ST_X(ST_Centroid(c.geom)) AS xm) e,
        LATERAL (VALUES ($3, ST_Multi(ST_CollectionExtract(ST_Intersection(c.geom, ST_MakeEnvelope(e.x0 - 1, e.y0, e.xm, e.y1, 4326)), 3))),
                        ($4, ST_Multi(ST_CollectionExtract(ST_Intersection(c.geom, ST_MakeEnvelope(e.xm, e.y0, e.x1 + 1, e.y1, 4326)), 3)))) AS n(code, g)
      WHERE c.code = $2`, [v, old.code, a, b])
    await tx.query('DELETE FROM cells WHERE code = $1', [old.code])
    await tx.query(`INSERT INTO cell_history (code, version_from, community_code, geom, area_m2, responsible_unit)
      SELECT code, version, community_code, geom, area_m2, responsible_unit FROM cells WHERE version = $1`, [v])
    await tx.query('UPDATE cell_codes SET retired_version = $1 WHERE code = $2', [v, old.code])
    await tx.query('INSERT INTO cell_codes (code, first_version) VALUES ($2, $1), ($3, $1)', [v, a, b])
  })
  await app.gridChanged()
  const left = (await db.query<{ n: number }>(`SELECT (SELECT count(*) FROM base_records WHERE cell_code = $1) + (SELECT count(*) FROM base_residents WHERE cell_code = $1)
    + (SELECT count(*) FROM frontage_units WHERE cell_code = $1) AS n`, [old.code])).rows[0].n
  t.equal(Number(left), 0, 'nothing stays in the retired cell')
  const wrong = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM base_records b JOIN cells c ON c.code = b.cell_code
    WHERE b.cell_code IN ($1, $2) AND NOT ST_Covers(c.geom, b.geom)`, [a, b])).rows[0].n
  t.equal(wrong, 0, 'each record lies in its new cell')
  const [qa, qb] = [await query(a), await query(b)]
  for (const k of Object.keys(before.counts)) t.equal(qa.counts[k] + qb.counts[k], before.counts[k], `${k}: the halves add up`)
  t.ok(qa.counts.building > 0 || qb.counts.building > 0)
  t.equal(qa.people.resident + qb.people.resident, before.people.resident, 'residents add up')
  t.equal(qa.people.key_persons.total + qb.people.key_persons.total, before.people.key_persons.total, 'named residents add up')
  t.equal(qa.frontage_units.count + qb.frontage_units.count, before.frontage_units.count, 'frontage units add up')
  t.equal((await app.inject({ url: `/api/base/query?cell=${old.code}`, headers: auth('leader') })).statusCode, 404, 'the old cell is gone')
})
