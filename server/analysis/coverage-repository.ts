/**
 * What service coverage reads: cells' inner points and outlets, both in the
 * metric plane of migration 002. Outlets are the service_outlets layer plus,
 * for kinds that name a component subclass, the components of that subclass
 * (public toilets). coverage.ts counts within walking distance in memory: a
 * few thousand outlets in a flat index answer 8,423 cells × 6 kinds in tens of
 * milliseconds, where one PostGIS probe per cell and kind took seconds.
 *
 * Distance is straight-line in the metric plane of migration 002 (within 0.3 %
 * of true metres over the district). No road network is held, so "walking
 * distance" is the radius a plan draws, not a route: a river or a rail line in
 * between is not seen.
 */
import type { Queryable } from '../db/types.ts'

/** Inner points of cells in the metric plane: $1 subdistrict, $2 community, $3 cell (or nulls). */
const CELL_POINTS = `SELECT code, ST_X(p) AS x, ST_Y(p) AS y
FROM (SELECT code, facility_plane(ST_PointOnSurface(geom)) AS p FROM cells
  WHERE ($1::text IS NULL OR subdistrict_code = $1) AND ($2::text IS NULL OR community_code = $2) AND ($3::text IS NULL OR code = $3)) c
ORDER BY code`

/** Outlets of the kinds $1 in the metric plane: the layer, and components of a kind's subclass (by their inner point). */
const OUTLET_POINTS = `SELECT kind, ST_X(geom_m) AS x, ST_Y(geom_m) AS y FROM service_outlets WHERE kind = ANY($1::text[])
UNION ALL
SELECT k.code, ST_X(p), ST_Y(p) FROM (SELECT f.subclass, CASE WHEN GeometryType(f.geom_m) = 'POINT' THEN f.geom_m ELSE ST_PointOnSurface(f.geom_m) END AS p
  FROM facilities f WHERE f.subclass IN (SELECT component_subclass FROM service_kinds WHERE code = ANY($1::text[]))) f
JOIN service_kinds k ON k.component_subclass = f.subclass AND k.code = ANY($1::text[])`

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

export interface PlanePoint {
  x: number
  y: number
}

export interface CellFilter {
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

  /** Cells' inner points (metric plane, metres). */
  async cellPoints(f: CellFilter): Promise<(PlanePoint & { code: string })[]> {
    return (await this.db.query<PlanePoint & { code: string }>(CELL_POINTS, [f.subdistrict, f.community, f.cell])).rows.map((r) => ({ ...r, code: r.code.trim() }))
  }

  /** Outlets of these kinds (metric plane, metres), components of a kind's subclass included. */
  async outletPoints(kinds: readonly string[]): Promise<(PlanePoint & { kind: string })[]> {
    return (await this.db.query<PlanePoint & { kind: string }>(OUTLET_POINTS, [kinds])).rows
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
