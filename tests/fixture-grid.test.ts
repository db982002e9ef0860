/**
 * The Chaoyang fixture, checked by PostGIS after loading: 8,423 cells that tile
 * the district with no gaps and no overlaps, 43 real subdistricts, valid codes.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { testDatabase } from './helpers/db.ts'

const { db, cleanup } = await testDatabase('chaoyang')
t.teardown(cleanup)

const one = async <R extends object>(sql: string, params: unknown[] = []): Promise<R> => (await db.query<R>(sql, params)).rows[0]

t.test('exactly 8,423 cells, every code 15 digits, unique and prefix-consistent', async (t) => {
  const r = await one<{ n: number; distinct_codes: number; bad: number }>(`SELECT count(*)::int AS n, count(DISTINCT code)::int AS distinct_codes,
    count(*) FILTER (WHERE code !~ '^110105[0-9]{9}$' OR substr(code, 1, 12) <> community_code OR substr(code, 1, 9) <> subdistrict_code)::int AS bad FROM cells`)
  t.same(r, { n: 8423, distinct_codes: 8423, bad: 0 })
  const numbering = await one<{ bad: number }>(`SELECT count(*)::int AS bad FROM (
    SELECT community_code, count(*) AS n, max(substr(code, 13, 3)::int) AS top, min(substr(code, 13, 3)::int) AS bottom
    FROM cells GROUP BY community_code) g WHERE bottom <> 1 OR top <> n`)
  t.equal(numbering.bad, 0, 'cells are numbered 001…n in every community, without gaps')
})

t.test('43 subdistricts with their real codes and names', async (t) => {
  const csv = readFileSync(new URL('../../shared/data/beijing-townships.csv', import.meta.url), 'utf8').trim().split('\n').slice(1)
  const expected = csv.map((l) => l.split(',').map((f) => f.replace(/^"|"$/g, '')))
    .filter((f) => f[1] === '110105').map((f) => ({ code: f[0], name: f[7] })).sort((a, b) => a.code.localeCompare(b.code))
  t.equal(expected.length, 43)
  const rows = (await db.query<{ code: string; name: string }>('SELECT code, name FROM subdistricts WHERE geom IS NOT NULL ORDER BY code')).rows
  t.same(rows, expected)
  const c = await one<{ n: number; min: number }>('SELECT count(*)::int AS n, min(k)::int AS min FROM (SELECT count(*) AS k FROM communities GROUP BY subdistrict_code) x')
  t.ok(c.n === 43 && c.min >= 1, 'every subdistrict has communities')
})

t.test('no gaps: the union of the cells is the district, within 1 m²', async (t) => {
  const r = await one<{ district: number; cells_sum: number; union_area: number; sym_diff: number; parts: number; holes: number }>(`
    WITH u AS (SELECT ST_Union(geom) AS g FROM cells)
    SELECT (SELECT ST_Area(geom::geography) FROM districts) AS district,
      (SELECT sum(ST_Area(geom::geography)) FROM cells) AS cells_sum,
      ST_Area(u.g::geography) AS union_area,
      ST_Area(ST_SymDifference(u.g, (SELECT geom FROM districts))::geography) AS sym_diff,
      ST_NumGeometries(u.g) AS parts, ST_NumInteriorRings(ST_GeometryN(u.g, 1)) AS holes FROM u`)
  t.ok(Math.abs(r.district / 1e6 - 470.8) < 470.8 * 0.005, `district ${(r.district / 1e6).toFixed(2)} km² ≈ 470.8`)
  t.ok(r.sym_diff < 1, `union of cells vs district differ by ${r.sym_diff} m²`)
  t.ok(Math.abs(r.cells_sum - r.union_area) < 1, `sum of cell areas − area of their union = ${(r.cells_sum - r.union_area).toFixed(4)} m² (overlaps would make it positive)`)
  t.equal(r.parts, 1, 'one piece')
  t.equal(r.holes, 0, 'no holes: no gap is enclosed by cells')
})

t.test('no overlaps: no two cells share interior area', async (t) => {
  const r = await one<{ n: number; area: number | null }>(`SELECT count(*)::int AS n, sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)) AS area
    FROM cells a JOIN cells b ON a.code < b.code AND a.geom && b.geom WHERE ST_Relate(a.geom, b.geom, '2********')`)
  t.equal(r.n, 0, 'no pair of cells has intersecting interiors')
  const valid = await one<{ bad: number }>('SELECT count(*)::int AS bad FROM cells WHERE NOT ST_IsValid(geom)')
  t.equal(valid.bad, 0, 'every cell is a valid polygon')
})

t.test('cells follow community and subdistrict outlines and look like a city grid', async (t) => {
  const r = await one<{ stray: number }>(`SELECT count(*)::int AS stray FROM cells c JOIN communities m ON m.code = c.community_code
    WHERE NOT ST_CoveredBy(c.geom, m.geom)`)
  t.equal(r.stray, 0, 'every cell lies within its community')
  const pieces = await one<{ multi: number }>(`SELECT (SELECT count(*) FROM communities WHERE ST_NumGeometries(geom) > 1)
    + (SELECT count(*) FROM subdistricts WHERE ST_NumGeometries(geom) > 1) AS multi`)
  t.equal(Number(pieces.multi), 0, 'every community and subdistrict is one piece')
  const size = await one<{ core: number; rural: number; distinct_areas: number }>(`SELECT
    percentile_cont(0.5) WITHIN GROUP (ORDER BY c.area_m2) FILTER (WHERE s.code <= '110105008') AS core,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY c.area_m2) FILTER (WHERE s.name LIKE '%乡' OR s.name LIKE '%地区') AS rural,
    count(DISTINCT round(c.area_m2))::int AS distinct_areas
    FROM cells c JOIN subdistricts s ON s.code = c.subdistrict_code`)
  t.ok(size.core > 7000 && size.core < 15000, `cells of the old urban core (建外 … 安贞) ≈ 10,000 m² (median ${Math.round(size.core)})`)
  t.ok(size.rural > size.core * 3, `township (乡/地区) cells are larger (median ${Math.round(size.rural)})`)
  t.ok(size.distinct_areas > 7000, `not a chessboard of identical squares (${size.distinct_areas} distinct areas)`)
  const centre = await one<{ lon: number; lat: number }>('SELECT ST_X(ST_Centroid(geom)) AS lon, ST_Y(ST_Centroid(geom)) AS lat FROM districts')
  t.ok(Math.abs(centre.lon - 116.49) < 0.05 && Math.abs(centre.lat - 39.95) < 0.05, `centred near 116.49 E 39.95 N (${centre.lon.toFixed(3)}, ${centre.lat.toFixed(3)})`)
})
