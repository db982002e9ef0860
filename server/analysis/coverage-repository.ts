/**
 * Service coverage: for each cell, the outlets of each kind within walking
 * distance of the cell's inner point, and the nearest one's distance. Outlets
 * are the service_outlets layer plus, for kinds that name a component subclass,
 * the components of that subclass (public toilets).
 *
 * Distance is straight-line in the metric plane of migration 002 (within 0.3 %
 * of true metres over the district). No road network is held, so "walking
 * distance" is the radius a plan draws, not a route: a river or a rail line in
 * between is not seen.
 */
import type { Queryable } from '../db/types.ts'

/** $1 default distance m, $2 kinds or null, $3 subdistrict or null, $4 community or null, $5 cell or null. */
const COVERAGE = `WITH k AS (
  SELECT code, coalesce(walk_m, $1)::float8 AS d, component_subclass AS sub, required, sort
  FROM service_kinds WHERE ($2::text[] IS NULL OR code = ANY($2::text[]))
), c AS (
  SELECT code, facility_plane(ST_PointOnSurface(geom)) AS p FROM cells
  WHERE ($3::text IS NULL OR subdistrict_code = $3) AND ($4::text IS NULL OR community_code = $4) AND ($5::text IS NULL OR code = $5)
)
SELECT c.code AS cell, k.code AS kind,
  ((SELECT count(*) FROM service_outlets o WHERE o.kind = k.code AND ST_DWithin(o.geom_m, c.p, k.d))
   + CASE WHEN k.sub IS NULL THEN 0 ELSE (SELECT count(*) FROM facilities f WHERE f.subclass = k.sub AND ST_DWithin(f.geom_m, c.p, k.d)) END)::int AS n,
  least(
    (SELECT o.geom_m <-> c.p FROM service_outlets o WHERE o.kind = k.code ORDER BY o.geom_m <-> c.p LIMIT 1),
    CASE WHEN k.sub IS NULL THEN NULL ELSE (SELECT f.geom_m <-> c.p FROM facilities f WHERE f.subclass = k.sub ORDER BY f.geom_m <-> c.p LIMIT 1) END
  )::float8 AS nearest_m
FROM c CROSS JOIN k
ORDER BY c.code, k.sort, k.code`

const KINDS = 'SELECT code, name, walk_m, component_subclass, required FROM service_kinds ORDER BY sort, code'

const INSERT = `INSERT INTO service_outlets (kind, name, geom, address, source)
SELECT k, n, ST_SetSRID(ST_MakePoint(x, y), 4326), a, s
FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[], $5::text[], $6::text[]) AS r(k, n, x, y, a, s)
RETURNING id::int AS id`

/** $1 kind or null, $2–$5 bbox or nulls, $6 limit. */
const LIST = `SELECT coalesce(json_agg(json_build_object('type', 'Feature', 'id', id::text,
  'geometry', ST_AsGeoJSON(geom, 7)::json,
  'properties', json_build_object('kind', kind, 'name', name, 'address', address, 'source', source)) ORDER BY id), '[]'::json)::text AS features
FROM (SELECT * FROM service_outlets
  WHERE ($1::text IS NULL OR kind = $1) AND ($2::float8 IS NULL OR geom && ST_MakeEnvelope($2, $3, $4, $5, 4326))
  ORDER BY id LIMIT $6) o`

export interface ServiceKind {
  code: string
  name: string
  walk_m: number | null
  component_subclass: string | null
  required: boolean
}

export interface CoverageRow {
  cell: string
  kind: string
  n: number
  nearest_m: number | null
}

export interface CoverageQuery {
  distanceM: number
  kinds: string[] | null
  subdistrict: string | null
  community: string | null
  cell: string | null
}

export interface NewOutlet {
  kind: string
  name: string
  lon: number
  lat: number
  address?: string | null
  source?: string | null
}

export class CoverageRepository {
  constructor(private readonly db: Queryable) {}

  async kinds(): Promise<ServiceKind[]> {
    return (await this.db.query<ServiceKind>(KINDS)).rows.map((k) => ({ ...k, component_subclass: k.component_subclass?.trim() ?? null }))
  }

  async coverage(q: CoverageQuery): Promise<CoverageRow[]> {
    return (await this.db.query<CoverageRow>(COVERAGE, [q.distanceM, q.kinds, q.subdistrict, q.community, q.cell])).rows
      .map((r) => ({ ...r, cell: r.cell.trim() }))
  }

  /** Inserts outlets (kinds checked by the caller); returns their ids. */
  async insert(outlets: readonly NewOutlet[]): Promise<number[]> {
    if (!outlets.length) return []
    return (await this.db.query<{ id: number }>(INSERT, [
      outlets.map((o) => o.kind), outlets.map((o) => o.name), outlets.map((o) => o.lon), outlets.map((o) => o.lat),
      outlets.map((o) => o.address ?? null), outlets.map((o) => o.source ?? null),
    ])).rows.map((r) => r.id)
  }

  /** Outlets as a GeoJSON FeatureCollection (text built in SQL). */
  async geojson(kind: string | null, bbox: [number, number, number, number] | null, limit: number): Promise<string> {
    const b = bbox ?? [null, null, null, null]
    const features = (await this.db.query<{ features: string }>(LIST, [kind, ...b, limit])).rows[0].features
    return `{"type":"FeatureCollection","features":${features}}`
  }
}
