/**
 * The tile layers: what each shows, from which zoom, who may read it, which tables
 * it is built from (its data version), and its two queries — rows with WKB for the
 * JavaScript renderer, and one ST_AsMVT statement for PostGIS. Both select rows by
 * the same WGS84 box (tile-math.ts selectionBox) with the same columns, so the two
 * renderers' tiles agree. Only these names ever reach SQL, as constants.
 */
import type { FieldType } from './encode.ts'

export const LAYER_NAMES = ['cells', 'facilities', 'cases', 'subdistricts', 'communities'] as const
export type LayerName = (typeof LAYER_NAMES)[number]

/** Tables whose writes bump tile_sources (migration 006). */
export type SourceTable = 'cells' | 'communities' | 'subdistricts' | 'facilities' | 'cases'

export interface LayerDef {
  name: LayerName
  description: string
  /** Below it a tile would hold too much (e.g. 40,000 components at z12); asking for it is a 400. */
  minzoom: number
  /** Past it clients overzoom the maxzoom tile; asking for it is a 400. */
  maxzoom: number
  sources: readonly SourceTable[]
  /** public: anyone, like /api/cells and the facility lookups; cases: roles that see every case. */
  access: 'public' | 'cases'
  /** Attributes, in key order, with their types and meaning (TileJSON vector_layers). */
  fields: Readonly<Record<string, FieldType>>
  fieldDocs: Readonly<Record<string, string>>
  /** Column holding the feature id, when the layer has one (below 2^53). */
  hasId: boolean
  /**
   * JS renderer: $1–$4 the selection box (lon/lat), $5 now (cases). Columns: the fields,
   * `fid`, `wkb` (ST_AsBinary), and for cases `next_change_ms`.
   */
  rowsSql: string
  /**
   * ST_AsMVT: $1–$3 z, x, y; $4–$7 the box; $8 extent; $9 buffer; cells: $10–$12 score
   * arrays (codes, scores, grades); cases: $10 now. Columns: `tile`, `next_change_ms`.
   */
  mvtSql: string
  /** One row: xmin, ymin, xmax, ymax of the layer's data (nulls when empty). */
  boundsSql: string
}

const BOX = 'ST_MakeEnvelope($1::float8, $2::float8, $3::float8, $4::float8, 4326)'
const MVT_BOX = 'ST_MakeEnvelope($4::float8, $5::float8, $6::float8, $7::float8, 4326)'
const MVT_GEOM = (col: string): string => `ST_AsMVTGeom(ST_Transform(${col}, 3857), ST_TileEnvelope($1::int, $2::int, $3::int), $8::int, $9::int, true)`
const extentOf = (table: string, where = ''): string =>
  `SELECT ST_XMin(e) AS xmin, ST_YMin(e) AS ymin, ST_XMax(e) AS xmax, ST_YMax(e) AS ymax FROM (SELECT ST_Extent(geom) AS e FROM ${table} ${where}) x`

/** Traffic light of an open case's running stage, as GET /api/cases?light= computes it. */
const LIGHT = (now: string): string => `CASE WHEN c.due_at IS NULL THEN NULL WHEN ${now} < c.warn_at THEN 'green' WHEN ${now} <= c.due_at THEN 'yellow' ELSE 'red' END`
/** When the light will next change (ms since the epoch): at warn_at, and just after due_at. */
const NEXT_CHANGE = (now: string): string => `CASE WHEN c.due_at IS NULL THEN NULL
  WHEN ${now} < c.warn_at THEN extract(epoch FROM c.warn_at)::float8 * 1000
  WHEN ${now} <= c.due_at THEN extract(epoch FROM c.due_at)::float8 * 1000 + 1 END`

const CELLS: LayerDef = {
  name: 'cells',
  description: 'Unit grid cells (单元网格) with their community and subdistrict, and the current score and grade where the analysis provides them',
  minzoom: 11,
  maxzoom: 18,
  sources: ['cells', 'communities', 'subdistricts'],
  access: 'public',
  fields: { code: 'string', community: 'string', community_name: 'string', subdistrict: 'string', subdistrict_name: 'string', score: 'double', grade: 'string' },
  fieldDocs: {
    code: '15-digit cell code', community: '12-digit community code', community_name: 'community name',
    subdistrict: '9-digit subdistrict code', subdistrict_name: 'subdistrict name',
    score: 'current composite score 0–100 (absent until the analysis provides it)', grade: 'grade A–E of the score',
  },
  hasId: true,
  rowsSql: `SELECT c.code::bigint::float8 AS fid, c.code::text AS code, c.community_code::text AS community, m.name AS community_name,
      c.subdistrict_code::text AS subdistrict, s.name AS subdistrict_name, ST_AsBinary(c.geom) AS wkb
    FROM cells c JOIN communities m ON m.code = c.community_code JOIN subdistricts s ON s.code = c.subdistrict_code
    WHERE c.geom && ${BOX} ORDER BY c.code`,
  mvtSql: `SELECT ST_AsMVT(t, 'cells', $8::int, 'geom', 'fid') AS tile, NULL::float8 AS next_change_ms FROM (
      SELECT c.code::bigint AS fid, c.code::text AS code, c.community_code::text AS community, m.name AS community_name,
        c.subdistrict_code::text AS subdistrict, s.name AS subdistrict_name, sc.score, sc.grade, ${MVT_GEOM('c.geom')} AS geom
      FROM cells c JOIN communities m ON m.code = c.community_code JOIN subdistricts s ON s.code = c.subdistrict_code
        LEFT JOIN unnest($10::text[], $11::float8[], $12::text[]) AS sc (code, score, grade) ON sc.code = c.code::text
      WHERE c.geom && ${MVT_BOX} ORDER BY c.code) t
    WHERE t.geom IS NOT NULL`,
  boundsSql: extentOf('cells'),
}

const FACILITIES: LayerDef = {
  name: 'facilities',
  description: 'Management components (管理部件, GB/T 47678.5): points, lines and polygons with subclass, owner and status',
  minzoom: 14,
  maxzoom: 18,
  sources: ['facilities'],
  access: 'public',
  fields: { id: 'string', subclass: 'string', owner: 'string', status: 'string' },
  fieldDocs: {
    id: '17-digit component ID (a string: it does not fit a JavaScript number)', subclass: '5-digit component subclass',
    owner: 'owner (权属单位), 18-character unified social credit code', status: 'intact, damaged, missing, occupied or abandoned',
  },
  hasId: false,
  // The GiST index is on geom_m (facility_plane, migration 002): select by it, then by geom.
  rowsSql: `SELECT f.id::text AS id, f.subclass::text AS subclass, f.owner::text AS owner, f.status, ST_AsBinary(f.geom) AS wkb
    FROM facilities f WHERE f.geom_m && facility_plane(${BOX}) AND f.geom && ${BOX} ORDER BY f.id`,
  mvtSql: `SELECT ST_AsMVT(t, 'facilities', $8::int, 'geom') AS tile, NULL::float8 AS next_change_ms FROM (
      SELECT f.id::text AS id, f.subclass::text AS subclass, f.owner::text AS owner, f.status, ${MVT_GEOM('f.geom')} AS geom
      FROM facilities f WHERE f.geom_m && facility_plane(${MVT_BOX}) AND f.geom && ${MVT_BOX} ORDER BY f.id) t
    WHERE t.geom IS NOT NULL`,
  boundsSql: extentOf('facilities'),
}

const CASES: LayerDef = {
  name: 'cases',
  description: 'Open cases (案件) with matter, status and the traffic light of the running stage (green < 80 % of the limit used, yellow to 100 %, red past it)',
  minzoom: 11,
  maxzoom: 18,
  sources: ['cases'],
  access: 'cases',
  fields: { id: 'int', matter: 'string', status: 'string', light: 'string' },
  fieldDocs: {
    id: 'case id', matter: 'matter code (事项)', status: 'status in the loop',
    light: 'green, yellow or red; absent while no stage clock runs (e.g. deferred)',
  },
  hasId: true,
  rowsSql: `SELECT c.id::float8 AS fid, c.id::float8 AS id, c.matter_code AS matter, c.status, ${LIGHT('$5::timestamptz')} AS light,
      ${NEXT_CHANGE('$5::timestamptz')} AS next_change_ms, ST_AsBinary(c.geom) AS wkb
    FROM cases c WHERE c.is_open AND c.geom && ${BOX} ORDER BY c.id`,
  mvtSql: `WITH t AS MATERIALIZED (
      SELECT c.id AS fid, c.id, c.matter_code AS matter, c.status, ${LIGHT('$10::timestamptz')} AS light,
        ${NEXT_CHANGE('$10::timestamptz')} AS next_change_ms, ${MVT_GEOM('c.geom')} AS geom
      FROM cases c WHERE c.is_open AND c.geom && ${MVT_BOX})
    SELECT (SELECT ST_AsMVT(q, 'cases', $8::int, 'geom', 'fid') FROM (
        SELECT fid, id, matter, status, light, geom FROM t WHERE geom IS NOT NULL ORDER BY id) q) AS tile,
      (SELECT min(next_change_ms) FROM t WHERE geom IS NOT NULL) AS next_change_ms`,
  boundsSql: extentOf('cases', 'WHERE is_open'),
}

const SUBDISTRICTS: LayerDef = {
  name: 'subdistricts',
  description: 'Subdistrict and township outlines (街道/地区), for the base map',
  minzoom: 8,
  maxzoom: 14,
  sources: ['subdistricts'],
  access: 'public',
  fields: { code: 'string', name: 'string' },
  fieldDocs: { code: '9-digit subdistrict code', name: 'subdistrict name' },
  hasId: true,
  rowsSql: `SELECT s.code::bigint::float8 AS fid, s.code::text AS code, s.name, ST_AsBinary(s.geom) AS wkb
    FROM subdistricts s WHERE s.geom && ${BOX} ORDER BY s.code`,
  mvtSql: `SELECT ST_AsMVT(t, 'subdistricts', $8::int, 'geom', 'fid') AS tile, NULL::float8 AS next_change_ms FROM (
      SELECT s.code::bigint AS fid, s.code::text AS code, s.name, ${MVT_GEOM('s.geom')} AS geom
      FROM subdistricts s WHERE s.geom && ${MVT_BOX} ORDER BY s.code) t
    WHERE t.geom IS NOT NULL`,
  boundsSql: extentOf('subdistricts'),
}

const COMMUNITIES: LayerDef = {
  name: 'communities',
  description: 'Community outlines (社区), for the base map',
  minzoom: 10,
  maxzoom: 16,
  sources: ['communities', 'subdistricts'],
  access: 'public',
  fields: { code: 'string', name: 'string', subdistrict: 'string', subdistrict_name: 'string' },
  fieldDocs: { code: '12-digit community code', name: 'community name', subdistrict: '9-digit subdistrict code', subdistrict_name: 'subdistrict name' },
  hasId: true,
  rowsSql: `SELECT m.code::bigint::float8 AS fid, m.code::text AS code, m.name, m.subdistrict_code::text AS subdistrict, s.name AS subdistrict_name, ST_AsBinary(m.geom) AS wkb
    FROM communities m JOIN subdistricts s ON s.code = m.subdistrict_code WHERE m.geom && ${BOX} ORDER BY m.code`,
  mvtSql: `SELECT ST_AsMVT(t, 'communities', $8::int, 'geom', 'fid') AS tile, NULL::float8 AS next_change_ms FROM (
      SELECT m.code::bigint AS fid, m.code::text AS code, m.name, m.subdistrict_code::text AS subdistrict, s.name AS subdistrict_name,
        ${MVT_GEOM('m.geom')} AS geom
      FROM communities m JOIN subdistricts s ON s.code = m.subdistrict_code WHERE m.geom && ${MVT_BOX} ORDER BY m.code) t
    WHERE t.geom IS NOT NULL`,
  boundsSql: extentOf('communities'),
}

export const LAYERS: Readonly<Record<LayerName, LayerDef>> = {
  cells: CELLS,
  facilities: FACILITIES,
  cases: CASES,
  subdistricts: SUBDISTRICTS,
  communities: COMMUNITIES,
}

export function isLayerName(v: string): v is LayerName {
  return (LAYER_NAMES as readonly string[]).includes(v)
}
