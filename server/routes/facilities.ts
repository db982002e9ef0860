/**
 * The facility registry over HTTP: what is at a place and who owns it, layers
 * by owner, counts, import and export, organisations and component classes.
 * Lookups are answered by the in-memory index; `engine=postgis` asks the
 * PostGIS reference instead (same answers, for checking and debugging).
 */
import { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static, type TObject, type TSchema } from 'typebox'
import { ErrorSchema, GeoJSONFeatureCollection, errorResponses } from '../schemas.ts'
import { AppError, badRequest, notFound } from '../errors.ts'
import { sendText } from '../http.ts'
import { parseBbox } from './cells.ts'
import { toWgs84 } from '../../geocoder/crs.ts'
import { STATUS_NAMES, type FacilityFilter, type FacilityHit } from '../../geocoder/facility-types.ts'
import { CRS_NAMES, readFacilityCsv, readFacilityGeoJSON, validateFacilities, type InputCrs } from '../../geocoder/facility-validate.ts'
import type { FacilitySnapshot } from '../plugins/facilities.ts'

export interface FacilityRoutesOptions {
  bodyLimit: number
}

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
// The lookups' answers use OpenAPI's `nullable` instead of a union with null: fast-json-stringify
// writes it directly, where a union makes it test each value against the branches first
// (a third of an owner-at answer's time).
const NullStr = Type.Unsafe<string | null>({ type: 'string', nullable: true })
const NullNum = (description?: string) => Type.Unsafe<number | null>({ type: 'number', nullable: true, ...(description ? { description } : {}) })
const NullObj = <T extends TObject>(t: T) => Type.Unsafe<Static<T> | null>({ ...t, nullable: true })

const Lon = Type.Number({ minimum: -180, maximum: 180, description: 'longitude in the declared crs' })
const Lat = Type.Number({ minimum: -90, maximum: 90, description: 'latitude in the declared crs' })
const Crs = Type.Union(CRS_NAMES.map((c) => Type.Literal(c)), { default: 'wgs84', description: 'coordinate system of lon/lat: wgs84 (GPS), gcj02 (AMap, Tencent), bd09 (Baidu)' })
const Subclasses = Type.String({ pattern: '^[0-9]{5}(,[0-9]{5}){0,49}$', description: 'component subclasses, comma separated (e.g. 01005 电力井盖)' })
const Uscc = Type.String({ pattern: '^[0-9A-HJ-NPQRTUWXY]{18}$', description: '18-character unified social credit code' })
const Engine = Type.Union([Type.Literal('memory'), Type.Literal('postgis')], { default: 'memory', description: 'memory: the in-memory index; postgis: the reference query' })
const Id17 = Type.String({ pattern: '^[0-9]{17}$', description: 'component ID: 6 district + 2 major + 3 sub + 6 sequence' })

const OrgRef = Type.Object({
  code: Type.String(),
  name: NullStr,
  kind: NullStr,
  contact_person: NullStr,
  contact_phone: NullStr,
  duty_phone: NullStr,
})
const OrgOrNull = NullObj(OrgRef)

const Hit = Type.Object({
  id: Type.String(),
  subclass: Type.String(),
  subclass_name: NullStr,
  status: Type.String(),
  status_name: Type.String(),
  lon: Type.Number(),
  lat: Type.Number(),
  distance_m: NullNum('metres on the ellipsoid from the query point; 0 inside a polygon'),
  cell_code: NullStr,
  cell_responsible_unit: OrgOrNull,
  owner: OrgRef,
  maintainer: OrgOrNull,
  authority: OrgOrNull,
})
type HitReply = Static<typeof Hit>

const HitList = Type.Object({
  engine: Type.String(),
  count: Type.Integer(),
  facilities: Type.Array(Hit),
})

const Filters = {
  subclass: Type.Optional(Subclasses),
  owner: Type.Optional(Uscc),
  engine: Type.Optional(Engine),
}

const ImportSummary = Type.Object({
  import_id: Type.Integer(), rows: Type.Integer(), inserted: Type.Integer(), updated: Type.Integer(), unchanged: Type.Integer(),
  skipped: Type.Integer(),
  skipped_rows: Type.Array(Type.Object({
    row: Nullable(Type.Integer()), index: Type.Optional(Type.Integer()), id: Nullable(Type.String()),
    field: Type.String(), error: Type.String(), reason: Type.String(),
  })),
  ms: Type.Integer(),
})

function org(s: FacilitySnapshot, code: string | null): HitReply['owner'] | null {
  if (code === null) return null
  const o = s.organisations.get(code)
  return {
    code, name: o?.name ?? null, kind: o?.kind ?? null,
    contact_person: o?.contactPerson ?? null, contact_phone: o?.contactPhone ?? null, duty_phone: o?.dutyPhone ?? null,
  }
}

function reply(s: FacilitySnapshot, h: FacilityHit): HitReply {
  return {
    id: h.id,
    subclass: h.subclass,
    subclass_name: s.classes.get(h.subclass)?.name ?? null,
    status: h.status,
    status_name: STATUS_NAMES[h.status],
    lon: h.lon,
    lat: h.lat,
    distance_m: h.distanceM === null ? null : Math.round(h.distanceM * 100) / 100,
    cell_code: h.cell,
    cell_responsible_unit: h.cell === null ? null : org(s, s.cellUnits.get(h.cell) ?? null),
    owner: org(s, h.owner)!,
    maintainer: org(s, h.maintainer),
    authority: org(s, h.authority),
  }
}

/** Checks filter values against the registry: a typo answers 400, not an empty map. */
function filter(s: FacilitySnapshot, q: { subclass?: string; owner?: string }): FacilityFilter {
  const subclasses = q.subclass?.split(',')
  if (subclasses && s.classes.size) {
    const unknown = subclasses.filter((c) => !s.classes.has(c))
    if (unknown.length) throw badRequest('unknown_subclass', `no component subclass ${unknown.join(', ')} in GB/T 47678.5 (GET /api/component-classes)`, { field: 'querystring.subclass' })
  }
  if (q.owner !== undefined && s.organisations.size && !s.organisations.has(q.owner)) {
    throw badRequest('unknown_owner', `no organisation ${q.owner} (GET /api/organisations)`, { field: 'querystring.owner' })
  }
  return { subclasses, owner: q.owner }
}

function point(q: { lon: number; lat: number; crs?: InputCrs }): [number, number] {
  return q.crs && q.crs !== 'wgs84' ? toWgs84(q.lon, q.lat, q.crs) : [q.lon, q.lat]
}

/** The engine that answers: PostGIS when asked for, or while the in-memory index is still being built. */
function engineFor(s: FacilitySnapshot, asked: 'memory' | 'postgis' | undefined): 'memory' | 'postgis' {
  return asked === 'postgis' || !s.ready ? 'postgis' : 'memory'
}

const routes: FastifyPluginAsyncTypebox<FacilityRoutesOptions> = async (app, opts) => {
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: opts.bodyLimit }, (_req, body, done) => done(null, body))

  app.get('/api/facilities/nearest', {
    schema: {
      tags: ['facilities'],
      summary: 'The k components nearest to a point, nearest first (ties by id), with owner, maintainer, distance and cell',
      querystring: Type.Object({
        lon: Lon, lat: Lat, crs: Type.Optional(Crs),
        k: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 5 })),
        max_distance: Type.Optional(Type.Number({ minimum: 0, maximum: 10_000, description: 'metres; farther is not returned' })),
        ...Filters,
      }, { additionalProperties: false }),
      response: { 200: HitList, ...errorResponses },
    },
  }, async (req) => {
    const s = app.facilities.current()
    const [lon, lat] = point(req.query)
    const o = { ...filter(s, req.query), k: req.query.k ?? 5, maxDistanceM: req.query.max_distance }
    const engine = engineFor(s, req.query.engine)
    const hits = engine === 'postgis' ? await app.facilities.postgis.nearest(lon, lat, o) : s.index.nearest(lon, lat, o)
    return { engine, count: hits.length, facilities: hits.map((h) => reply(s, h)) }
  })

  app.get('/api/facilities/within', {
    schema: {
      tags: ['facilities'],
      summary: 'Every component within a radius of a point, nearest first',
      querystring: Type.Object({
        lon: Lon, lat: Lat, crs: Type.Optional(Crs),
        radius: Type.Number({ minimum: 0, maximum: 2000, description: 'metres' }),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
        ...Filters,
      }, { additionalProperties: false }),
      response: { 200: HitList, ...errorResponses },
    },
  }, async (req) => {
    const s = app.facilities.current()
    const [lon, lat] = point(req.query)
    const o = { ...filter(s, req.query), radiusM: req.query.radius, limit: req.query.limit ?? 1000 }
    const engine = engineFor(s, req.query.engine)
    const hits = engine === 'postgis' ? await app.facilities.postgis.within(lon, lat, o) : s.index.within(lon, lat, o)
    return { engine, count: hits.length, facilities: hits.map((h) => reply(s, h)) }
  })

  app.get('/api/facilities/in-cell/:code', {
    schema: {
      tags: ['facilities'],
      summary: 'The components of one cell, by id',
      params: Type.Object({ code: Type.String({ pattern: '^[0-9]{15}$', description: '15-digit cell code' }) }),
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })), ...Filters }, { additionalProperties: false }),
      response: { 200: HitList, ...errorResponses },
    },
  }, async (req) => {
    const s = app.facilities.current()
    const o = { ...filter(s, req.query), limit: req.query.limit ?? 1000 }
    const engine = engineFor(s, req.query.engine)
    const hits = engine === 'postgis' ? await app.facilities.postgis.inCell(req.params.code, o) : s.index.inCell(req.params.code, o)
    return { engine, count: hits.length, facilities: hits.map((h) => reply(s, h)) }
  })

  app.get('/api/facilities/owner-at', {
    schema: {
      tags: ['facilities'],
      summary: 'Whose component is this? The nearest matching component within a tolerance, its owner, and how sure the answer is',
      description: 'confidence.level: high — every candidate within the tolerance has the same owner and the nearest is within half of it; '
        + 'medium — one owner but farther, or several owners with the nearest at most half as far as any other owner\'s; '
        + 'low — components of several owners about as near; none — nothing within the tolerance (nearest_beyond_m says how far the nearest is, up to 500 m).',
      querystring: Type.Object({
        lon: Lon, lat: Lat, crs: Type.Optional(Crs),
        subclass: Type.Optional(Subclasses),
        tolerance: Type.Optional(Type.Number({ minimum: 0.1, maximum: 500, default: 30, description: 'metres' })),
        engine: Type.Optional(Engine),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          found: Type.Boolean(),
          point: Type.Object({ lon: Type.Number(), lat: Type.Number(), crs: Type.Literal('wgs84') }),
          facility: NullObj(Hit),
          owner: OrgOrNull,
          confidence: Type.Object({
            level: Type.Unsafe<'high' | 'medium' | 'low' | 'none'>({ type: 'string', enum: ['high', 'medium', 'low', 'none'] }),
            tolerance_m: Type.Number(),
            distance_m: NullNum(),
            candidates: Type.Integer({ description: 'matching components within the tolerance' }),
            owners: Type.Integer({ description: 'distinct owners among them' }),
            other_owner_distance_m: NullNum('distance of the nearest candidate of another owner'),
            reason: Type.String(),
          }),
          candidates: Type.Array(Type.Object({
            id: Type.String(), subclass: Type.String(), owner: Type.String(), owner_name: NullStr, distance_m: Type.Number(),
          }), { description: 'the candidates within the tolerance, nearest first (at most 10)' }),
          nearest_beyond_m: NullNum(),
        }),
        ...errorResponses,
      },
    },
  }, async (req) => {
    const s = app.facilities.current()
    const [lon, lat] = point(req.query)
    const f = filter(s, req.query)
    const tol = req.query.tolerance ?? 30
    const postgis = engineFor(s, req.query.engine) === 'postgis'
    const within = postgis ? await app.facilities.postgis.within(lon, lat, { ...f, radiusM: tol }) : s.index.within(lon, lat, { ...f, radiusM: tol })
    const first = within[0]
    const round = (m: number): number => Math.round(m * 100) / 100
    if (!first) {
      const beyond = postgis ? await app.facilities.postgis.nearest(lon, lat, { ...f, k: 1, maxDistanceM: 500 }) : s.index.nearest(lon, lat, { ...f, k: 1, maxDistanceM: 500 })
      return {
        found: false, point: { lon, lat, crs: 'wgs84' as const }, facility: null, owner: null,
        confidence: { level: 'none' as const, tolerance_m: tol, distance_m: null, candidates: 0, owners: 0, other_owner_distance_m: null, reason: `no matching component within ${tol} m` },
        candidates: [], nearest_beyond_m: beyond[0]?.distanceM === undefined || beyond[0].distanceM === null ? null : round(beyond[0].distanceM),
      }
    }
    const d0 = first.distanceM ?? 0
    const owners = new Set(within.map((h) => h.owner))
    const other = within.find((h) => h.owner !== first.owner)
    const dOther = other?.distanceM ?? null
    let level: 'high' | 'medium' | 'low'
    let reason: string
    if (owners.size === 1) {
      level = d0 <= tol / 2 ? 'high' : 'medium'
      reason = within.length === 1 ? `the only matching component within ${tol} m` : `all ${within.length} matching components within ${tol} m have the same owner`
      if (level === 'medium') reason += `, but the nearest is ${round(d0)} m away`
    } else if (dOther !== null && dOther >= 2 * d0 + 2) {
      level = 'medium'
      reason = `${owners.size} owners within ${tol} m; the nearest of another owner is ${round(dOther)} m away against ${round(d0)} m`
    } else {
      level = 'low'
      reason = `${owners.size} owners within ${tol} m at similar distances (${round(d0)} m and ${dOther === null ? '?' : round(dOther)} m): check on site`
    }
    return {
      found: true, point: { lon, lat, crs: 'wgs84' as const }, facility: reply(s, first), owner: org(s, first.owner),
      confidence: { level, tolerance_m: tol, distance_m: round(d0), candidates: within.length, owners: owners.size, other_owner_distance_m: dOther === null ? null : round(dOther), reason },
      candidates: within.slice(0, 10).map((h) => ({
        id: h.id, subclass: h.subclass, owner: h.owner, owner_name: s.organisations.get(h.owner)?.name ?? null, distance_m: round(h.distanceM ?? 0),
      })),
      nearest_beyond_m: null,
    }
  })

  app.get('/api/facilities', {
    schema: {
      tags: ['facilities'],
      summary: 'A layer: components filtered by bbox, owner and subclass, as GeoJSON (by id, at most `limit`)',
      querystring: Type.Object({
        bbox: Type.Optional(Type.String({ maxLength: 200, description: 'minLon,minLat,maxLon,maxLat (WGS84)' })),
        owner: Type.Optional(Uscc),
        subclass: Type.Optional(Subclasses),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 10_000 })),
      }, { additionalProperties: false }),
      response: { 200: GeoJSONFeatureCollection, ...errorResponses },
    },
  }, async (req, rep) => {
    const f = filter(app.facilities.current(), req.query)
    const bbox = req.query.bbox === undefined ? undefined : parseBbox(req.query.bbox)
    const body = await app.facilities.repository.layerGeoJSON({ bbox, owner: f.owner, subclasses: f.subclasses, limit: req.query.limit ?? 10_000 })
    return sendText(rep, 'application/geo+json', body)
  })

  app.get('/api/facilities/counts', {
    schema: {
      tags: ['facilities'],
      summary: 'Components per owner per cell (and per subclass with by_subclass), filtered',
      querystring: Type.Object({
        owner: Type.Optional(Uscc),
        subclass: Type.Optional(Subclasses),
        cell: Type.Optional(Type.String({ pattern: '^[0-9]{15}$' })),
        subdistrict: Type.Optional(Type.String({ pattern: '^[0-9]{9}$' })),
        bbox: Type.Optional(Type.String({ maxLength: 200 })),
        by_subclass: Type.Optional(Type.Boolean({ default: false })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200_000, default: 50_000 })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          total: Type.Integer(),
          rows: Type.Array(Type.Object({
            cell_code: Nullable(Type.String()), owner: Type.String(), owner_name: Type.String(), subclass: Nullable(Type.String()), count: Type.Integer(),
          })),
        }),
        ...errorResponses,
      },
    },
  }, async (req) => {
    const f = filter(app.facilities.current(), req.query)
    const rows = await app.facilities.repository.counts({
      owner: f.owner, subclasses: f.subclasses, cell: req.query.cell, subdistrict: req.query.subdistrict,
      bbox: req.query.bbox === undefined ? undefined : parseBbox(req.query.bbox), bySubclass: req.query.by_subclass, limit: req.query.limit ?? 50_000,
    })
    return { total: rows.reduce((n, r) => n + r.count, 0), rows }
  })

  app.post('/api/facilities/import', {
    bodyLimit: opts.bodyLimit,
    // Writes the facility database: those who keep it (it was open to anyone before issue 9's door test).
    preHandler: app.requireRole('planner', 'admin'),
    schema: {
      tags: ['facilities'],
      summary: 'Import components from GeoJSON (application/geo+json, application/json) or CSV (text/csv); upsert by component ID',
      description: 'One transaction per file. By default a file with any bad row is rejected whole (422 invalid_facilities, every problem listed by row, field and reason) and nothing is written; '
        + 'with skip_invalid=true the good rows are imported and the skipped ones listed. Rows: CSV — the line number a spreadsheet shows (header = 1); GeoJSON — the feature number from 1 (index from 0). '
        + 'CSV columns: id, subclass (optional: digits 7–11 of the id), lon, lat (or wkt for lines and polygons), owner, maintainer, authority, status (完好/intact, 破损/damaged, 丢失/missing, 占用/occupied, 废弃/abandoned), installed_on, name, note. '
        + 'GeoJSON: the same as feature properties (id may be the feature id).',
      querystring: Type.Object({
        skip_invalid: Type.Optional(Type.Boolean({ default: false })),
        crs: Type.Optional(Crs),
      }, { additionalProperties: false }),
      body: Type.Unknown({ description: 'a FeatureCollection of components, or CSV text' }),
      response: { 201: ImportSummary, 413: ErrorSchema, 415: ErrorSchema, 422: ErrorSchema, ...errorResponses },
    },
    preValidation: async (req) => {
      if (!/^(application\/(geo\+)?json|text\/csv)\b/i.test(req.headers['content-type'] ?? '')) {
        throw new AppError(415, 'unsupported_media_type', 'send components as application/geo+json, application/json or text/csv')
      }
    },
  }, async (req, rep) => {
    const csv = /^text\/csv\b/i.test(req.headers['content-type'] ?? '')
    const crs = req.query.crs ?? 'wgs84'
    const read = csv ? readFacilityCsv(String(req.body)) : readFacilityGeoJSON(req.body)
    const classes = new Set((await app.facilities.repository.componentClasses()).map((c) => c.code))
    const checked = validateFacilities(read.raws, { crs, subclasses: classes })
    const summary = await app.facilities.import(checked.rows, [...read.problems, ...checked.problems], read.raws.length, {
      source: 'api', format: csv ? 'csv' : 'geojson', crs, skipInvalid: req.query.skip_invalid ?? false,
    })
    return rep.code(201).send(summary)
  })

  app.get('/api/facilities/export', {
    schema: {
      tags: ['facilities'],
      summary: 'All components (or those of an owner, subclass, bbox) as GeoJSON or CSV, in the import format, streamed',
      querystring: Type.Object({
        format: Type.Optional(Type.Union([Type.Literal('geojson'), Type.Literal('csv')], { default: 'geojson' })),
        owner: Type.Optional(Uscc),
        subclass: Type.Optional(Subclasses),
        bbox: Type.Optional(Type.String({ maxLength: 200 })),
      }, { additionalProperties: false }),
      response: { 200: Type.Unknown({ description: 'GeoJSON FeatureCollection or CSV text, streamed' }), ...errorResponses },
    },
  }, async (req, rep) => {
    const f = filter(app.facilities.current(), req.query)
    const lf = { owner: f.owner, subclasses: f.subclasses, bbox: req.query.bbox === undefined ? undefined : parseBbox(req.query.bbox) }
    const csv = req.query.format === 'csv'
    rep.header('content-disposition', `attachment; filename="facilities.${csv ? 'csv' : 'geojson'}"`)
    rep.type(csv ? 'text/csv; charset=utf-8' : 'application/geo+json')
    return rep.send(Readable.from(csv ? app.facilities.repository.exportCsv(lf) : app.facilities.repository.exportGeoJSON(lf)))
  })

  app.get('/api/facilities/:id', {
    schema: {
      tags: ['facilities'],
      summary: 'One component as a GeoJSON Feature with its owner, maintainer and authority names',
      params: Type.Object({ id: Id17 }),
      response: { 200: Type.Unknown({ description: 'GeoJSON Feature' }), ...errorResponses },
    },
  }, async (req, rep) => {
    const body = await app.facilities.repository.feature(req.params.id)
    if (!body) throw notFound(`component ${req.params.id}`)
    return sendText(rep, 'application/geo+json', body)
  })

  app.get('/api/organisations', {
    schema: {
      tags: ['facilities'],
      summary: 'Organisations (utilities, departments, command centres …) with contacts and how many components each owns and maintains',
      querystring: Type.Object({ kind: Type.Optional(Type.String({ pattern: '^[a-z_]{1,40}$' })) }, { additionalProperties: false }),
      response: {
        200: Type.Array(Type.Object({
          uscc: Type.String(), name: Type.String(), short_name: Nullable(Type.String()), kind: Type.String(),
          subdistrict_code: Nullable(Type.String()), contact_person: Nullable(Type.String()), contact_phone: Nullable(Type.String()),
          duty_phone: Nullable(Type.String()), address: Nullable(Type.String()), owned: Type.Integer(), maintained: Type.Integer(),
        })),
        ...errorResponses,
      },
    },
  }, async (req) => app.facilities.repository.organisations(req.query.kind))

  app.get('/api/component-classes', {
    schema: {
      tags: ['facilities'],
      summary: 'The 153 component subclasses of GB/T 47678.5-2026 with how many of each are registered',
      response: {
        200: Type.Array(Type.Object({
          code: Type.String(), major: Type.String(), major_name: Type.String(), name: Type.String(), geometry_kind: Type.String(), count: Type.Integer(),
        })),
      },
    },
  }, async () => {
    const s = app.facilities.current()
    const counts = s.ready ? s.index.subclassCounts() : await app.facilities.repository.subclassCounts()
    return (await app.facilities.repository.componentClasses()).map((c) => ({ ...c, count: counts[c.code] ?? 0 }))
  })
}

export default routes
