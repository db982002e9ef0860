/**
 * The PostGIS reference for facility lookups, the contract the in-memory index
 * (geocoder/facility-index.ts) is tested against: k nearest by the GiST index
 * (`ORDER BY geom_m <-> point LIMIT k`) in the same plane, distances in metres
 * on the spheroid (geography).
 *
 * Ties: `ORDER BY geom_m <-> p, id` would lose the index (PostgreSQL sorts the
 * whole table), so the k nearest are found by the index first, and then every
 * component within the k-th distance is read again by the index and sorted by
 * (distance, id). That is exact and costs two index scans.
 */
import type { Queryable } from '../db/types.ts'
import { planeRadius } from '../../geocoder/facility-index.ts'
import type {
  AsyncFacilityLookup, Bbox, FacilityFilter, FacilityHit, FacilityStatus, ListOptions, NearestOptions, WithinOptions,
} from '../../geocoder/facility-types.ts'

const PT = 'ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 4326)'
const PT_M = `facility_plane(${PT})`

/** $3 subclasses (null = all), $4 owner (null = any). */
const FILTER = `($3::text[] IS NULL OR f.subclass = ANY($3::text[])) AND ($4::text IS NULL OR f.owner = $4)`

const HIT_COLUMNS = `f.id, f.subclass, f.owner, f.maintainer, f.authority, f.status, f.cell_code,
  ST_X(CASE WHEN GeometryType(f.geom) = 'POINT' THEN f.geom ELSE ST_PointOnSurface(f.geom) END) AS lon,
  ST_Y(CASE WHEN GeometryType(f.geom) = 'POINT' THEN f.geom ELSE ST_PointOnSurface(f.geom) END) AS lat`

// $5 k, $6 plane radius bounding the search (null = unbounded), $7 metres (null = no limit)
const NEAREST = `SELECT ${HIT_COLUMNS}, f.geom_m <-> ${PT_M} AS d, ST_Distance(f.geom::geography, ${PT}::geography) AS metres
FROM facilities f
WHERE ${FILTER}
  AND ST_DWithin(f.geom_m, ${PT_M}, (SELECT max(d) FROM (
    SELECT f.geom_m <-> ${PT_M} AS d FROM facilities f
    WHERE ${FILTER} AND ($6::float8 IS NULL OR f.geom_m && ST_Expand(${PT_M}, $6::float8))
    ORDER BY f.geom_m <-> ${PT_M} LIMIT $5) knn))
  AND ($7::float8 IS NULL OR ST_DWithin(f.geom::geography, ${PT}::geography, $7::float8))
ORDER BY d, f.id LIMIT $5`

// Many points at once (tests, benchmarks): the same query per point through LATERAL.
// $1 lons, $2 lats, $3 subclasses, $4 owner, $5 k
const NEAREST_MANY = `SELECT q.i::int AS i, x.* FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS q(lon, lat, i)
CROSS JOIN LATERAL (
  SELECT ${HIT_COLUMNS}, f.geom_m <-> facility_plane(ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326)) AS d,
    ST_Distance(f.geom::geography, ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326)::geography) AS metres
  FROM facilities f
  WHERE ${FILTER} AND ST_DWithin(f.geom_m, facility_plane(ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326)), (SELECT max(d) FROM (
      SELECT f.geom_m <-> facility_plane(ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326)) AS d FROM facilities f WHERE ${FILTER}
      ORDER BY f.geom_m <-> facility_plane(ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326)) LIMIT $5) knn))
  ORDER BY d, f.id LIMIT $5) x
ORDER BY q.i, x.d, x.id`

// $5 metres, $6 plane radius, $7 limit
const WITHIN = `SELECT ${HIT_COLUMNS}, f.geom_m <-> ${PT_M} AS d, ST_Distance(f.geom::geography, ${PT}::geography) AS metres
FROM facilities f
WHERE ${FILTER} AND f.geom_m && ST_Expand(${PT_M}, $6::float8)
  AND ST_DWithin(f.geom::geography, ${PT}::geography, $5::float8)
ORDER BY d, f.id LIMIT $7`

const IN_CELL = `SELECT ${HIT_COLUMNS} FROM facilities f WHERE f.cell_code = $1
  AND ($2::text[] IS NULL OR f.subclass = ANY($2::text[])) AND ($3::text IS NULL OR f.owner = $3) ORDER BY f.id LIMIT $4`

const IN_BBOX = `SELECT ${HIT_COLUMNS} FROM facilities f
WHERE f.geom_m && facility_plane(ST_MakeEnvelope($1, $2, $5, $6, 4326)) AND ST_Intersects(f.geom, ST_MakeEnvelope($1, $2, $5, $6, 4326))
  AND ${FILTER} ORDER BY f.id LIMIT $7`

interface HitRow {
  id: string; subclass: string; owner: string; maintainer: string | null; authority: string | null
  status: FacilityStatus; cell_code: string | null; lon: number; lat: number; metres?: number
}

function toHit(r: HitRow): FacilityHit {
  return {
    id: r.id, subclass: r.subclass, owner: r.owner, maintainer: r.maintainer, authority: r.authority, status: r.status,
    cell: r.cell_code, lon: r.lon, lat: r.lat, distanceM: r.metres === undefined ? null : r.metres,
  }
}

const filterArgs = (f: FacilityFilter): unknown[] => [f.subclasses?.length ? f.subclasses : null, f.owner ?? null]

export class PostgisFacilityIndex implements AsyncFacilityLookup {
  constructor(private readonly db: Queryable) {}

  async nearest(lon: number, lat: number, opts: NearestOptions): Promise<FacilityHit[]> {
    const bound = opts.maxDistanceM === undefined ? null : planeRadius(lat, opts.maxDistanceM)
    const rows = (await this.db.query<HitRow>(NEAREST, [lon, lat, ...filterArgs(opts), opts.k, bound, opts.maxDistanceM ?? null])).rows
    return rows.map(toHit)
  }

  /** `nearest` for many points in one statement; results in input order. */
  async nearestMany(lons: readonly number[], lats: readonly number[], opts: NearestOptions): Promise<FacilityHit[][]> {
    const out: FacilityHit[][] = lons.map(() => [])
    const rows = (await this.db.query<HitRow & { i: number }>(NEAREST_MANY, [lons, lats, ...filterArgs(opts), opts.k])).rows
    for (const r of rows) out[r.i - 1].push(toHit(r))
    return out
  }

  async within(lon: number, lat: number, opts: WithinOptions): Promise<FacilityHit[]> {
    const rows = (await this.db.query<HitRow>(WITHIN, [lon, lat, ...filterArgs(opts), opts.radiusM, planeRadius(lat, opts.radiusM), opts.limit ?? null])).rows
    return rows.map(toHit)
  }

  async inCell(code: string, opts: ListOptions = {}): Promise<FacilityHit[]> {
    const rows = (await this.db.query<HitRow>(IN_CELL, [code, ...filterArgs(opts), opts.limit ?? null])).rows
    return rows.map(toHit)
  }

  async inBbox(bbox: Bbox, opts: ListOptions = {}): Promise<FacilityHit[]> {
    const [x0, y0, x1, y1] = bbox
    const rows = (await this.db.query<HitRow>(IN_BBOX, [x0, y0, ...filterArgs(opts), x1, y1, opts.limit ?? null])).rows
    return rows.map(toHit)
  }

  async get(id: string): Promise<FacilityHit | null> {
    const rows = (await this.db.query<HitRow>(`SELECT ${HIT_COLUMNS} FROM facilities f WHERE f.id = $1`, [id])).rows
    return rows.length ? toHit(rows[0]) : null
  }
}
