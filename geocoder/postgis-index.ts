/**
 * The reference implementation of the edge rule, in SQL: slow, obviously
 * right, and what the in-memory index is tested against.
 *
 * Reads `cells(code char(15), community_code char(12), subdistrict_code
 * char(9), geom geometry(Geometry, 4326))` with a GiST index on geom: the
 * table holds the active grid only (older layouts live in cell_history).
 *
 * 1. Covered: the smallest code among the cells that ST_Covers the point (the
 *    GiST index answers the box test, PostGIS's own point-in-polygon the rest).
 * 2. Else snapped: the nearest cell within the tolerance by
 *    ST_Distance(geography) — spheroid distance — ties to the smallest code. A
 *    plain box test on geom (ST_Expand by the tolerance in degrees, rounded up)
 *    comes first so the GiST index prunes; the geography cast cannot use it.
 * 3. Else outside: the distance to the nearest cell, found by KNN (<->) for a
 *    first bound and then every cell within that bound.
 */
import { assertLonLat } from './errors.ts'
import { toleranceDegrees } from './bucket-grid.ts'
import { DEFAULT_OPTIONS } from './memory-index.ts'
import type { AsyncCellIndex, BatchOptions, LocateResult } from './types.ts'
import type { Queryable } from '../server/db/types.ts'

/** $1 lon, $2 lat. */
export const SQL_COVERING = `
SELECT code FROM cells
WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))
ORDER BY code
LIMIT 1`

/** $1 lon, $2 lat, $3 tolerance (m), $4/$5 the tolerance in degrees of lon/lat (rounded up). */
export const SQL_SNAP = `
WITH p AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326) AS pt)
SELECT c.code, ST_Distance(c.geom::geography, p.pt::geography) AS distance_m
FROM cells c, p
WHERE c.geom && ST_Expand(p.pt, $4, $5)
  AND ST_DWithin(c.geom::geography, p.pt::geography, $3)
ORDER BY distance_m, c.code
LIMIT 1`

/**
 * Metres → degrees, rounded up: 110,000 m per degree of latitude is less than
 * the ellipsoid's least (110,574) and 111,000·cos φ per degree of longitude
 * less than N(φ)·cos φ·π/180 (≥ 111,319·cos φ), with φ taken the farthest from
 * the equator the search can reach.
 */
const OUTSIDE_BOX = (pt: string, d: string, lat: string): string =>
  `ST_Expand(${pt}, ${d} / (111000 * cos(radians(least(89.0, abs(${lat}) + ${d} / 110000)))) + 1e-9, ${d} / 110000 + 1e-9)`

/** $1 lon, $2 lat. */
export const SQL_OUTSIDE = `
WITH p AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326) AS pt),
n AS (
  SELECT ST_Distance(c.geom::geography, p.pt::geography) AS d
  FROM cells c, p
  ORDER BY c.geom <-> p.pt
  LIMIT 1)
SELECT min(ST_Distance(c.geom::geography, p.pt::geography)) AS distance_m
FROM cells c, p, n
WHERE c.geom && ${OUTSIDE_BOX('p.pt', 'n.d', '$2')}`

/** $1 lons, $2 lats, $3 tolerance (m), $4/$5 tolerance in degrees; one row per point, in order. */
export const SQL_BATCH = `
WITH pts AS (
  SELECT u.i, ST_SetSRID(ST_MakePoint(u.x, u.y), 4326) AS pt
  FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS u(x, y, i))
SELECT pts.i, hit.code, snap.code AS snap_code, snap.distance_m AS snap_distance_m
FROM pts
LEFT JOIN LATERAL (
  SELECT c.code FROM cells c
  WHERE ST_Covers(c.geom, pts.pt)
  ORDER BY c.code
  LIMIT 1) hit ON true
LEFT JOIN LATERAL (
  SELECT c.code, ST_Distance(c.geom::geography, pts.pt::geography) AS distance_m
  FROM cells c
  WHERE hit.code IS NULL
    AND c.geom && ST_Expand(pts.pt, $4, $5)
    AND ST_DWithin(c.geom::geography, pts.pt::geography, $3)
  ORDER BY distance_m, c.code
  LIMIT 1) snap ON true
ORDER BY pts.i`

/** $1 lons, $2 lats: distance to the district per point, in order. */
export const SQL_BATCH_OUTSIDE = `
WITH pts AS (
  SELECT u.i, u.y, ST_SetSRID(ST_MakePoint(u.x, u.y), 4326) AS pt
  FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS u(x, y, i))
SELECT pts.i, (
  SELECT min(ST_Distance(c.geom::geography, pts.pt::geography))
  FROM cells c
  WHERE c.geom && ${OUTSIDE_BOX('pts.pt', 'n.d', 'pts.y')}) AS distance_m
FROM pts
CROSS JOIN LATERAL (
  SELECT ST_Distance(c.geom::geography, pts.pt::geography) AS d
  FROM cells c
  ORDER BY c.geom <-> pts.pt
  LIMIT 1) n
ORDER BY pts.i`

interface CodeRow { code: string }
interface SnapRow { code: string; distance_m: number }
interface DistanceRow { distance_m: number | null }
interface BatchRow { i: number | string; code: string | null; snap_code: string | null; snap_distance_m: number | null }
interface BatchOutsideRow { i: number | string; distance_m: number | null }

export class PostgisCellIndex implements AsyncCellIndex {
  readonly toleranceM: number
  private readonly db: Queryable

  constructor(db: Queryable, options: { toleranceM?: number } = {}) {
    this.db = db
    this.toleranceM = options.toleranceM ?? DEFAULT_OPTIONS.toleranceM
  }

  /**
   * Locates one WGS84 point with three queries at most.
   *
   * @example await new PostgisCellIndex(db).locate(116.4853, 39.9219)
   */
  async locate(lon: number, lat: number): Promise<LocateResult> {
    assertLonLat(lon, lat)
    const hit = await this.db.query<CodeRow>(SQL_COVERING, [lon, lat])
    if (hit.rows.length) return { outside: false, code: hit.rows[0].code, ordinal: -1, snapped: false, distanceM: 0 }
    const { tolLon, tolLat } = toleranceDegrees(this.toleranceM, lat, lat)
    const snap = await this.db.query<SnapRow>(SQL_SNAP, [lon, lat, this.toleranceM, tolLon, tolLat])
    if (snap.rows.length) {
      return { outside: false, code: snap.rows[0].code, ordinal: -1, snapped: true, distanceM: Number(snap.rows[0].distance_m) }
    }
    const out = await this.db.query<DistanceRow>(SQL_OUTSIDE, [lon, lat])
    return { outside: true, code: null, distanceM: Number(out.rows[0]?.distance_m ?? Infinity) }
  }

  /** Locates many WGS84 points with two set-based queries. */
  async locateMany(lons: readonly number[], lats: readonly number[], options: BatchOptions = {}): Promise<LocateResult[]> {
    if (lons.length !== lats.length) throw new RangeError('lons and lats differ in length')
    if (lons.length === 0) return []
    let minLat = Infinity
    let maxLat = -Infinity
    for (let i = 0; i < lons.length; i++) {
      assertLonLat(lons[i], lats[i])
      minLat = Math.min(minLat, lats[i])
      maxLat = Math.max(maxLat, lats[i])
    }
    const { tolLon, tolLat } = toleranceDegrees(this.toleranceM, minLat, maxLat)
    const rows = (await this.db.query<BatchRow>(SQL_BATCH, [[...lons], [...lats], this.toleranceM, tolLon, tolLat])).rows
    const out: LocateResult[] = rows.map((r) =>
      r.code !== null
        ? { outside: false, code: r.code, ordinal: -1, snapped: false, distanceM: 0 }
        : r.snap_code !== null
          ? { outside: false, code: r.snap_code, ordinal: -1, snapped: true, distanceM: Number(r.snap_distance_m) }
          : { outside: true, code: null, distanceM: NaN },
    )
    const missing = out.flatMap((r, i) => (r.outside ? [i] : []))
    if (missing.length && options.outsideDistance !== false) {
      const far = await this.db.query<BatchOutsideRow>(SQL_BATCH_OUTSIDE, [missing.map((i) => lons[i]), missing.map((i) => lats[i])])
      far.rows.forEach((r, k) => {
        out[missing[k]] = { outside: true, code: null, distanceM: Number(r.distance_m ?? Infinity) }
      })
    }
    return out
  }
}
