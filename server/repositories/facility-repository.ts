/**
 * Reads of the facility registry: component classes, organisations, layers by
 * owner (GeoJSON built in SQL), counts per owner per cell, exports, and the
 * rows the in-memory index is built from.
 */
import type { Queryable } from '../db/types.ts'
import { csvField } from '../../geocoder/facility-csv.ts'
import { wkbToGeometry } from '../../geocoder/facility-geometry.ts'
import type { Bbox, FacilityRecord, FacilityStatus, OrganisationInfo, OrganisationInput } from '../../geocoder/facility-types.ts'

export interface ComponentClassRow { code: string; major: string; major_name: string; name: string; geometry_kind: string }
export interface OrganisationRow {
  uscc: string; name: string; short_name: string | null; kind: string; subdistrict_code: string | null
  contact_person: string | null; contact_phone: string | null; duty_phone: string | null; address: string | null
  owned: number; maintained: number
}
export interface CountRow { cell_code: string | null; owner: string; owner_name: string; subclass: string | null; count: number }

export interface LayerFilter {
  bbox?: Bbox
  owner?: string
  subclasses?: readonly string[]
  limit?: number
}

/** A point of every component: itself, or the point on surface of a line or polygon. */
const POINT_OF = `CASE WHEN GeometryType(f.geom) = 'POINT' THEN f.geom ELSE ST_PointOnSurface(f.geom) END`

const FEATURE = `json_build_object('type', 'Feature', 'id', f.id,
  'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(f.geom), 7)::json,
  'properties', json_build_object(
    'id', f.id, 'subclass', f.subclass, 'subclass_name', k.name,
    'owner', f.owner, 'owner_name', o.name, 'maintainer', f.maintainer, 'maintainer_name', m.name,
    'authority', f.authority, 'authority_name', a.name,
    'status', f.status, 'installed_on', f.installed_on, 'cell_code', f.cell_code, 'name', f.name, 'note', f.note))`

const JOINS = `FROM facilities f
  JOIN component_classes k ON k.code = f.subclass
  JOIN organisations o ON o.uscc = f.owner
  LEFT JOIN organisations m ON m.uscc = f.maintainer
  LEFT JOIN organisations a ON a.uscc = f.authority`

// The bbox prefilter runs on the indexed plane copy; ST_Intersects then decides exactly.
const FILTER = `($1::float8 IS NULL OR (f.geom_m && facility_plane(ST_MakeEnvelope($1, $2, $3, $4, 4326))
    AND ST_Intersects(f.geom, ST_MakeEnvelope($1, $2, $3, $4, 4326))))
  AND ($5::text IS NULL OR f.owner = $5)
  AND ($6::text[] IS NULL OR f.subclass = ANY($6::text[]))`

const LAYER = `SELECT json_build_object('type', 'FeatureCollection',
  'features', coalesce(json_agg(x.feature ORDER BY x.id), '[]'::json))::text AS body
FROM (SELECT f.id, ${FEATURE} AS feature ${JOINS} WHERE ${FILTER} ORDER BY f.id LIMIT $7) x`

const EXPORT_CHUNK = `SELECT f.id, ${FEATURE}::text AS feature ${JOINS}
  WHERE ${FILTER} AND ($7::text IS NULL OR f.id > $7) ORDER BY f.id LIMIT $8`

const CSV_CHUNK = `SELECT f.id, f.subclass, k.name AS subclass_name,
  ST_X(p.pt) AS lon, ST_Y(p.pt) AS lat, CASE WHEN GeometryType(f.geom) = 'POINT' THEN NULL ELSE ST_AsText(f.geom, 7) END AS wkt,
  f.owner, o.name AS owner_name, f.maintainer, m.name AS maintainer_name, f.authority, a.name AS authority_name,
  f.status, to_char(f.installed_on, 'YYYY-MM-DD') AS installed_on, f.cell_code, f.name, f.note
  ${JOINS} CROSS JOIN LATERAL (SELECT ${POINT_OF} AS pt) p
  WHERE ${FILTER} AND ($7::text IS NULL OR f.id > $7) ORDER BY f.id LIMIT $8`

export const CSV_COLUMNS = ['id', 'subclass', 'subclass_name', 'lon', 'lat', 'wkt', 'owner', 'owner_name', 'maintainer', 'maintainer_name',
  'authority', 'authority_name', 'status', 'installed_on', 'cell_code', 'name', 'note'] as const

const EXPORT_ROWS = 20_000
const RECORD_PAGE = 100_000

function filterParams(f: LayerFilter): unknown[] {
  const b = f.bbox ?? [null, null, null, null]
  return [...b, f.owner ?? null, f.subclasses?.length ? f.subclasses : null]
}

export class FacilityRepository {
  constructor(private readonly db: Queryable) {}

  async componentClasses(): Promise<ComponentClassRow[]> {
    return (await this.db.query<ComponentClassRow>(`SELECT k.code, k.major, j.name AS major_name, k.name, k.geometry_kind
      FROM component_classes k JOIN component_majors j ON j.code = k.major ORDER BY k.code`)).rows
  }

  async organisations(kind?: string): Promise<OrganisationRow[]> {
    return (await this.db.query<OrganisationRow>(`SELECT o.uscc, o.name, o.short_name, o.kind, o.subdistrict_code,
        o.contact_person, o.contact_phone, o.duty_phone, o.address,
        coalesce(w.n, 0)::int AS owned, coalesce(mt.n, 0)::int AS maintained
      FROM organisations o
      LEFT JOIN (SELECT owner, count(*) AS n FROM facilities GROUP BY owner) w ON w.owner = o.uscc
      LEFT JOIN (SELECT maintainer, count(*) AS n FROM facilities WHERE maintainer IS NOT NULL GROUP BY maintainer) mt ON mt.maintainer = o.uscc
      WHERE ($1::text IS NULL OR o.kind = $1) ORDER BY o.kind, o.uscc`, [kind ?? null])).rows
  }

  /** Inserts or updates organisations by credit code. */
  async upsertOrganisations(list: readonly OrganisationInput[]): Promise<number> {
    const col = <K extends keyof OrganisationInput>(k: K): OrganisationInput[K][] => list.map((o) => o[k])
    return (await this.db.query(`INSERT INTO organisations (uscc, name, short_name, kind, subdistrict_code, contact_person, contact_phone, duty_phone, address)
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
      ON CONFLICT (uscc) DO UPDATE SET name = EXCLUDED.name, short_name = EXCLUDED.short_name, kind = EXCLUDED.kind,
        subdistrict_code = EXCLUDED.subdistrict_code, contact_person = EXCLUDED.contact_person,
        contact_phone = EXCLUDED.contact_phone, duty_phone = EXCLUDED.duty_phone, address = EXCLUDED.address`,
    [col('uscc'), col('name'), col('short_name'), col('kind'), col('subdistrict_code'), col('contact_person'), col('contact_phone'), col('duty_phone'), col('address')])).affectedRows
  }

  async count(): Promise<number> {
    return (await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM facilities')).rows[0].n
  }

  /** Changes with every write to facilities (see facility_state). */
  /** Registered components per subclass (what the in-memory index counts once it is built). */
  async subclassCounts(): Promise<Record<string, number>> {
    const rows = (await this.db.query<{ subclass: string; n: number }>('SELECT subclass, count(*)::int AS n FROM facilities GROUP BY subclass')).rows
    return Object.fromEntries(rows.map((r) => [r.subclass, r.n]))
  }

  async revision(): Promise<number> {
    return Number((await this.db.query<{ revision: string | number }>('SELECT revision FROM facility_state')).rows[0].revision)
  }

  /** Components filtered by bbox, owner and subclass as a GeoJSON FeatureCollection (text), by id. */
  async layerGeoJSON(f: LayerFilter): Promise<string> {
    return (await this.db.query<{ body: string }>(LAYER, [...filterParams(f), f.limit ?? null])).rows[0].body
  }

  /** One component as a GeoJSON Feature (text), or null. */
  async feature(id: string): Promise<string | null> {
    const res = await this.db.query<{ body: string }>(`SELECT ${FEATURE}::text AS body ${JOINS} WHERE f.id = $1`, [id])
    return res.rows[0]?.body ?? null
  }

  /** Components per owner per cell (and per subclass when `bySubclass`), largest first. */
  async counts(f: LayerFilter & { cell?: string; subdistrict?: string; bySubclass?: boolean }): Promise<CountRow[]> {
    return (await this.db.query<CountRow>(`SELECT f.cell_code, f.owner, o.name AS owner_name,
        CASE WHEN $9 THEN f.subclass END AS subclass, count(*)::int AS count
      FROM facilities f JOIN organisations o ON o.uscc = f.owner
      WHERE ${FILTER} AND ($7::text IS NULL OR f.cell_code = $7) AND ($8::text IS NULL OR f.cell_code LIKE $8 || '%')
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 5 DESC, 2, 4 LIMIT $10`,
    [...filterParams(f), f.cell ?? null, f.subdistrict ?? null, f.bySubclass ?? false, f.limit ?? null])).rows
  }

  /** The components as GeoJSON text, in pieces (a FeatureCollection when joined), so 2 million never sit in one string. */
  async *exportGeoJSON(f: LayerFilter = {}): AsyncGenerator<string> {
    yield '{"type":"FeatureCollection","features":[\n'
    let after: string | null = null
    let first = true
    for (;;) {
      const rows: { id: string; feature: string }[] = (await this.db.query<{ id: string; feature: string }>(EXPORT_CHUNK, [...filterParams(f), after, EXPORT_ROWS])).rows
      if (!rows.length) break
      yield (first ? '' : ',\n') + rows.map((r) => r.feature).join(',\n')
      first = false
      after = rows[rows.length - 1].id
      if (rows.length < EXPORT_ROWS) break
    }
    yield '\n]}\n'
  }

  /** The components as CSV text (header first), in pieces; lines and polygons carry WKT and their point on surface. */
  async *exportCsv(f: LayerFilter = {}): AsyncGenerator<string> {
    yield CSV_COLUMNS.join(',') + '\n'
    let after: string | null = null
    for (;;) {
      const rows: Record<(typeof CSV_COLUMNS)[number], string | number | null>[] = (await this.db.query<Record<(typeof CSV_COLUMNS)[number], string | number | null>>(CSV_CHUNK, [...filterParams(f), after, EXPORT_ROWS])).rows
      if (!rows.length) break
      yield rows.map((r) => CSV_COLUMNS.map((c) => csvField(c === 'lon' || c === 'lat' ? round7(Number(r[c])) : r[c])).join(',')).join('\n') + '\n'
      after = String(rows[rows.length - 1].id)
      if (rows.length < EXPORT_ROWS) break
    }
  }

  /**
   * Every component, as the in-memory index is built from it. Rows travel as
   * text lines built by string_agg, 100,000 at a time: reading 250,000 rows one
   * by one through the embedded database's protocol takes ten times as long.
   * Coordinates are printed shortest-exact (float8 output), so they are the stored doubles.
   */
  async records(): Promise<FacilityRecord[]> {
    const out: FacilityRecord[] = []
    let after = ''
    for (;;) {
      // no ORDER BY inside string_agg: a second sort of rows the subquery reads in id order; the JS sort below makes sure
      const page = (await this.db.query<{ body: string | null; last: string | null }>(`SELECT string_agg(concat_ws(',', x.id, x.owner,
          x.maintainer, x.authority, x.status, x.cell_code, ST_X(x.pt), ST_Y(x.pt), x.point), E'\\n') AS body, max(x.id) AS last
        FROM (SELECT y.*, CASE WHEN y.point THEN y.geom ELSE ST_PointOnSurface(y.geom) END AS pt
          FROM (SELECT f.id, f.owner, coalesce(f.maintainer, '') AS maintainer, coalesce(f.authority, '') AS authority, f.status,
              coalesce(f.cell_code, '') AS cell_code, f.geom, GeometryType(f.geom) = 'POINT' AS point
            FROM facilities f WHERE f.id > $1 ORDER BY f.id LIMIT $2) y) x`, [after, RECORD_PAGE])).rows[0]
      if (!page.body || !page.last) break
      for (const line of page.body.split('\n')) {
        const [id, owner, maintainer, authority, status, cell, lon, lat, point] = line.split(',')
        out.push({
          id, subclass: id.slice(6, 11), owner, maintainer: maintainer || null, authority: authority || null, status: status as FacilityStatus,
          cell: cell || null, lon: Number(lon), lat: Number(lat), geometry: point === 't' || point === 'true' ? null : { type: 'Point', coordinates: [] },
        })
      }
      after = page.last
    }
    out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    // lines and polygons: few, so their WKB comes row by row
    const shapes = (await this.db.query<{ id: string; wkb: Uint8Array }>(
      `SELECT id, ST_AsBinary(geom) AS wkb FROM facilities WHERE GeometryType(geom) <> 'POINT' ORDER BY id`)).rows
    const byId = new Map(shapes.map((r) => [r.id, r.wkb]))
    for (const r of out) {
      if (r.geometry === null) continue
      const wkb = byId.get(r.id)
      r.geometry = wkb ? wkbToGeometry(wkb) : null
    }
    return out
  }

  async organisationInfo(): Promise<OrganisationInfo[]> {
    return (await this.db.query<OrganisationInfo>(`SELECT uscc, name, kind, contact_person AS "contactPerson",
      contact_phone AS "contactPhone", duty_phone AS "dutyPhone" FROM organisations ORDER BY uscc`)).rows
  }

  /** Responsible unit of every active cell. */
  async cellUnits(): Promise<Map<string, string>> {
    const rows = (await this.db.query<{ code: string; responsible_unit: string }>('SELECT code, responsible_unit FROM cells')).rows
    return new Map(rows.map((r) => [r.code, r.responsible_unit]))
  }
}

const round7 = (v: number): number => Math.round(v * 1e7) / 1e7
