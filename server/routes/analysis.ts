/**
 * Analysis for the leaders' screen: scores and rankings (综合评价), case-density
 * heatmaps, Gi* hot spots with emerging ones, and service coverage, plus the
 * service-outlet layer coverage is computed from. Every number is computed
 * from the case history; the modules in server/analysis/ hold the logic.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ErrorSchema, errorResponses, Code9, Code12, Code15 } from '../schemas.ts'
import { authErrors, literals } from './case-schemas.ts'
import { requireActor } from '../plugins/auth.ts'
import { AppError, ErrorCode } from '../errors.ts'
import { parseBbox } from './cells.ts'
import { toWgs84 } from '../../geocoder/crs.ts'
import { STATUSES, type Status } from '../cases/machine.ts'
import type { Role } from '../cases/roles.ts'
import { COUNT_KEYS, describe, FORMULA_KEYS, LEVELS, RATIO_KEYS, type FormulaKey, type Level } from '../analysis/indicators.ts'
import { ScoreRepository } from '../analysis/score-repository.ts'
import { scoreLevel, withP90 } from '../analysis/scores.ts'
import { CaseStore, MIN_RES, BASE_RES, type CaseStoreOptions, type HeatTarget } from '../analysis/case-store.ts'
import { SqlCaseSource } from '../analysis/case-source.ts'
import { heatmap, resolutionForZoom } from '../analysis/heatmap.ts'
import { StudyArea } from '../analysis/area.ts'
import { hotSpots, EMERGING } from '../analysis/hotspots.ts'
import { CoverageRepository } from '../analysis/coverage-repository.ts'
import { coverage, underServed } from '../analysis/coverage.ts'

export interface Analysis {
  /** The in-memory case columns behind heatmaps and hot spots. */
  cases: CaseStore
  area: StudyArea
  scores: ScoreRepository
  coverage: CoverageRepository
}

declare module 'fastify' {
  interface FastifyInstance {
    analysis: Analysis
  }
}

export interface AnalysisOptions {
  store?: CaseStoreOptions
}

/** Who reads the district-wide analysis. Handlers and supervisors see their own scores only. */
const READERS: Role[] = ['leader', 'admin', 'command_centre', 'dispatcher', 'planner']
const DAY = 86_400_000
/** Longest window: five years (a longer one is a mistake, and a full scan). */
const MAX_WINDOW_DAYS = 5 * 366
/** Default window: the 30 days up to now. */
const DEFAULT_DAYS = 30

const Time = Type.String({ format: 'date-time' })
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

const WindowQuery = {
  from: Type.Optional(Type.String({ format: 'date-time', description: 'start of the window (inclusive), by report time; default: 30 days before `to`' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'end of the window (exclusive); default: now' })),
  matter: Type.Optional(Type.String({ pattern: '^[0-9]{8}([0-9]{3})*$', description: 'matter code (8, 11, 14 … digits); its finer matters are included' })),
}
const StatusQuery = { status: Type.Optional(Type.String({ maxLength: 200, description: 'comma-separated statuses, or open / closed' })) }
const TargetQuery = {
  target: Type.Optional(literals(['h3', 'cell'] as const, { description: 'h3 (hexagons, default) or cell (grid cells)' })),
  resolution: Type.Optional(Type.Integer({ minimum: MIN_RES, maximum: BASE_RES, description: `H3 resolution ${MIN_RES}–${BASE_RES}` })),
  zoom: Type.Optional(Type.Number({ minimum: 0, maximum: 24, description: 'map zoom: picks the resolution when none is given' })),
}
const WindowSchema = Type.Object({ from: Time, to: Time, evaluated_at: Type.Optional(Time), days: Type.Optional(Type.Number()) })

const RatioSchema = Type.Object({
  name: Type.String(), value: Nullable(Type.Number({ description: 'percent; null when the denominator is 0' })),
  numerator: Type.Integer(), denominator: Type.Integer(),
})
const UnitScoreSchema = Type.Object({
  code: Type.String(), name: Type.String(), parent: Nullable(Type.String()), subdistrict: Nullable(Type.String()),
  counts: Type.Object(Object.fromEntries(COUNT_KEYS.map((k) => [k, Type.Integer()]))),
  indicators: Type.Object(Object.fromEntries(RATIO_KEYS.map((k) => [k, RatioSchema]))),
  close_hours: Type.Object({ mean: Nullable(Type.Number()), p90: Nullable(Type.Number()) }, { description: 'reported → closed, natural hours' }),
  case_count_score: Type.Number(),
  composite: Type.Object({
    formula: Type.String(), score: Nullable(Type.Number()), grade: Nullable(Type.String()),
    terms: Type.Array(Type.Object({ term: Type.String(), weight: Type.Number(), score: Nullable(Type.Number()) })),
  }),
  rank: Nullable(Type.Integer()),
  previous: Type.Object({ score: Nullable(Type.Number()), grade: Nullable(Type.String()), rank: Nullable(Type.Integer()) }),
  rank_change: Nullable(Type.Integer({ description: 'places moved up since the previous window' })),
})

function parseStatuses(raw: string | undefined): Status[] | null {
  if (!raw) return null
  if (raw === 'open') return STATUSES.filter((s) => s !== 'closed' && s !== 'voided')
  if (raw === 'closed') return ['closed', 'voided']
  const list = raw.split(',').map((s) => s.trim())
  const bad = list.filter((s) => !(STATUSES as readonly string[]).includes(s))
  if (bad.length) throw new AppError(400, ErrorCode.validation, `unknown status ${bad.join(', ')}`, [{ field: 'querystring.status', message: 'open, closed or statuses' }])
  return list as Status[]
}

/** A window with ISO times, as the schemas declare. */
function iso<W extends { from: Date; to: Date; evaluated_at?: Date }>(w: W): Omit<W, 'from' | 'to' | 'evaluated_at'> & { from: string; to: string; evaluated_at?: string } {
  const { from, to, evaluated_at, ...rest } = w
  return { ...rest, from: from.toISOString(), to: to.toISOString(), ...(evaluated_at ? { evaluated_at: evaluated_at.toISOString() } : {}) }
}

function target(q: { target?: 'h3' | 'cell'; resolution?: number; zoom?: number }): HeatTarget {
  if (q.target === 'cell') return { kind: 'cell' }
  return { kind: 'h3', res: q.resolution ?? resolutionForZoom(q.zoom ?? 11) }
}

export default fp(async function analysis(instance: FastifyInstance, opts: AnalysisOptions) {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>()
  const a: Analysis = {
    cases: new CaseStore(new SqlCaseSource(app.db), opts.store),
    area: new StudyArea(app.db),
    scores: new ScoreRepository(app.db),
    coverage: new CoverageRepository(app.db),
  }
  app.decorate('analysis', a)
  app.onGridChanged(async () => { a.cases.reset(); a.area.reset(); cellScores = null })
  const now = (): Date => app.cases.now()

  // The cells tiles carry each cell's composite score and grade over the last 30 days: all cells
  // are scored once per Beijing day (the tiles' default score version) and kept; a tile looks its cells up.
  let cellScores: { day: string; map: Promise<Map<string, { score: number; grade: string }>> } | null = null
  const beijingDay = (d: Date): string => new Date(d.getTime() + 8 * 3_600_000).toISOString().slice(0, 10)
  if (app.hasDecorator('tiles')) {
    app.tiles.setCellScores(async (codes) => {
      const t = now()
      const day = beijingDay(t)
      if (!cellScores || cellScores.day !== day) {
        const map = scoreLevel(a.scores, { level: 'cell', from: new Date(t.getTime() - 30 * 86_400_000), to: t, matter: null, now: t }).then((r) => {
          const m = new Map<string, { score: number; grade: string }>()
          for (const u of r.units) if (u.composite.score !== null && u.composite.grade !== null) m.set(u.code, { score: u.composite.score, grade: u.composite.grade })
          return m
        })
        cellScores = { day, map }
        map.catch(() => { if (cellScores?.map === map) cellScores = null })
      }
      const all = await cellScores.map
      return new Map(codes.flatMap((c) => { const v = all.get(c); return v ? [[c, v] as const] : [] }))
    })
  }

  /** The window asked for, checked: 400 invalid_window for an inverted or empty one. */
  function windowOf(q: { from?: string; to?: string }): { from: Date; to: Date } {
    const to = q.to ? new Date(q.to) : now()
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - DEFAULT_DAYS * DAY)
    if (from.getTime() >= to.getTime()) {
      throw new AppError(400, 'invalid_window', 'the window is empty or inverted: from must be before to', [{ field: q.from ? 'querystring.from' : 'querystring.to', message: 'from < to' }])
    }
    if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY) {
      throw new AppError(400, 'invalid_window', `the window is longer than ${MAX_WINDOW_DAYS} days`, [{ field: 'querystring.from', message: `at most ${MAX_WINDOW_DAYS} days before to` }])
    }
    return { from, to }
  }

  /** The matter, checked against the taxonomy: 400 unknown_matter. */
  async function matterOf(code: string | undefined): Promise<string | null> {
    if (!code) return null
    if (app.caseConfig.current().matter(code) || await a.scores.matterExists(code)) return code
    throw new AppError(400, 'unknown_matter', `no matter ${code} in the taxonomy`, [{ field: 'querystring.matter', message: 'a code of GET /api/matters' }])
  }

  app.get('/api/analysis/indicators', {
    schema: {
      tags: ['analysis'],
      summary: 'The indicators, composite formulas, case-count steps and grades the scores use (one configurable module)',
      response: { 200: Type.Unknown(), ...authErrors },
    },
    preHandler: app.requireRole(...READERS, 'handler', 'supervisor'),
  }, async () => describe())

  app.get('/api/analysis/scores', {
    schema: {
      tags: ['analysis'],
      summary: 'Scores and ranking of cells, communities, subdistricts, units or supervisors for a window, with rank change against the previous window',
      description: 'Each indicator comes with its numerator and denominator. The previous window has the same length and ends where this one starts. '
        + 'Handlers get their own unit\'s row (level=unit), supervisors their own (level=supervisor); ranks are over all.',
      querystring: Type.Object({
        level: Type.Optional(literals(LEVELS, { description: 'cell, community, subdistrict (default), unit (department / utility, by lead unit) or supervisor (by reporter)' })),
        ...WindowQuery,
        formula: Type.Optional(literals(FORMULA_KEYS, { description: 'composite formula; default per level (GET /api/analysis/indicators)' })),
        code: Type.Optional(Type.String({ maxLength: 32, description: 'only this unit' })),
        subdistrict: Type.Optional(Code9),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 100 })),
        offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          level: Type.String(), formula: Type.String(), window: WindowSchema, previous_window: WindowSchema,
          total: Type.Integer({ description: 'units of the level (after code / subdistrict filters)' }), ranked: Type.Integer(),
          items: Type.Array(UnitScoreSchema),
        }),
        ...authErrors, ...errorResponses,
      },
    },
  }, async (req) => {
    const actor = requireActor(req)
    const q = req.query
    const level: Level = q.level ?? 'subdistrict'
    let code = q.code ?? null
    if (actor.role === 'handler' && level === 'unit' && actor.org) code = actor.org
    else if (actor.role === 'supervisor' && level === 'supervisor' && actor.userId !== null) code = String(actor.userId)
    else if (actor.role === 'system' || !READERS.includes(actor.role)) {
      throw new AppError(403, 'forbidden_role', `${actor.role} may read only their own scores (level=${actor.role === 'handler' ? 'unit' : 'supervisor'})`, { role: actor.role, allowed_roles: READERS })
    }
    const w = windowOf(q)
    const matter = await matterOf(q.matter)
    const r = await scoreLevel(a.scores, { level, ...w, matter, formula: q.formula as FormulaKey | undefined, now: now() })
    let items = r.units
    if (code !== null) items = items.filter((u) => u.code === code)
    if (q.subdistrict) items = items.filter((u) => u.subdistrict === q.subdistrict)
    const offset = q.offset ?? 0
    const page = await withP90(a.scores, r, matter, items.slice(offset, offset + (q.limit ?? 100)))
    return {
      level: r.level, formula: r.formula, window: iso(r.window), previous_window: iso(r.previous_window),
      total: items.length, ranked: r.ranked, items: page,
    }
  })

  const heatAccess = { preHandler: app.requireRole(...READERS) }

  app.get('/api/analysis/heatmap', {
    ...heatAccess,
    schema: {
      tags: ['analysis'],
      summary: 'Case density per H3 cell (resolution from the zoom, 6–10) or per grid cell, as parallel arrays',
      description: 'overdue_weight: what a case that is overdue now or ran late in any stage counts for (default 1). bbox trims H3 cells by centre.',
      querystring: Type.Object({
        ...TargetQuery, ...WindowQuery, ...StatusQuery,
        overdue_weight: Type.Optional(Type.Number({ minimum: 1, maximum: 100 })),
        bbox: Type.Optional(Type.String({ maxLength: 200, description: 'minLon,minLat,maxLon,maxLat (WGS84)' })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          target: Type.String(), resolution: Nullable(Type.Integer()), window: WindowSchema,
          total: Type.Number(), max: Type.Number(), keys: Type.Array(Type.String()), counts: Type.Array(Type.Number()),
        }),
        ...authErrors, ...errorResponses,
      },
    },
  }, async (req) => {
    const q = req.query
    const w = windowOf(q)
    const matter = await matterOf(q.matter)
    const statuses = parseStatuses(q.status)
    const bbox = q.bbox === undefined ? null : parseBbox(q.bbox)
    await a.cases.refresh()
    const h = heatmap(a.cases, { ...w, matter, statuses, overdueWeight: q.overdue_weight ?? 1, now: now(), target: target(q), bbox })
    return { ...h, window: iso(w) }
  })

  app.get('/api/analysis/hotspots', {
    ...heatAccess,
    schema: {
      tags: ['analysis'],
      summary: 'Getis-Ord Gi* hot and cold spots of case counts over H3 or grid cells, with the previous window and emerging hot spots',
      description: `Columns per unit: count, z (Gi*), p (two-sided), confidence (±99/95/90, 0), previous_z, change_z (Gi* of the change) and emerging (${EMERGING.join(', ')}). `
        + 'By default only units significant now or with an emerging category; all=true returns every unit of the study area.',
      querystring: Type.Object({ ...TargetQuery, ...WindowQuery, ...StatusQuery, all: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          target: Type.String(), resolution: Nullable(Type.Integer()), window: WindowSchema, previous_window: WindowSchema,
          units: Type.Integer(), cases: Type.Number(), previous_cases: Type.Number(), significant: Type.Object({ hot: Type.Integer(), cold: Type.Integer() }),
          keys: Type.Array(Type.String()), count: Type.Array(Type.Number()), previous_count: Type.Array(Type.Number()),
          z: Type.Array(Type.Number()), p: Type.Array(Type.Number()), confidence: Type.Array(Type.Integer()),
          previous_z: Type.Array(Type.Number()), change_z: Type.Array(Type.Number()), emerging: Type.Array(Type.String()),
        }),
        ...authErrors, ...errorResponses,
      },
    },
  }, async (req) => {
    const q = req.query
    const w = windowOf(q)
    const matter = await matterOf(q.matter)
    const statuses = parseStatuses(q.status)
    await a.cases.refresh()
    const h = await hotSpots(a.cases, a.area, { target: target(q), ...w, matter, statuses, all: q.all ?? false })
    return { ...h, window: iso(h.window), previous_window: iso(h.previous_window) }
  })

  /** Kinds asked for, checked: 400 unknown_service_kind. */
  async function kindsOf(raw: string | undefined): Promise<string[] | null> {
    if (!raw) return null
    const known = new Set((await a.coverage.kinds()).map((k) => k.code))
    const list = raw.split(',').map((s) => s.trim())
    const bad = list.filter((k) => !known.has(k))
    if (bad.length) throw new AppError(400, 'unknown_service_kind', `unknown service kind ${bad.join(', ')}`, [{ field: 'querystring.kind', message: `one of ${[...known].join(', ')}` }])
    return list
  }

  const CoverageQuery = {
    distance_m: Type.Optional(Type.Number({ minimum: 50, maximum: 5000, description: 'walking distance, metres (straight line from the cell\'s inner point); default 1,000; a kind\'s own walk_m wins' })),
    kind: Type.Optional(Type.String({ maxLength: 300, description: 'comma-separated service kinds (GET /api/service-kinds); default all' })),
    subdistrict: Type.Optional(Code9),
    community: Type.Optional(Code12),
    cell: Type.Optional(Code15),
  }
  const KindSchema = Type.Object({ code: Type.String(), name: Type.String(), walk_m: Nullable(Type.Number()), component_subclass: Nullable(Type.String()), required: Type.Boolean() })

  app.get('/api/analysis/coverage', {
    ...heatAccess,
    schema: {
      tags: ['analysis'],
      summary: 'Per cell, the service outlets of each kind within walking distance and the nearest one (15-minute community life circle)',
      querystring: Type.Object(CoverageQuery, { additionalProperties: false }),
      response: {
        200: Type.Object({
          distance_m: Type.Number(), kinds: Type.Array(KindSchema),
          cells: Type.Array(Type.Object({ code: Type.String(), counts: Type.Array(Type.Integer()), nearest_m: Type.Array(Nullable(Type.Number())) }), { description: 'counts[i] and nearest_m[i] follow kinds[i]' }),
        }),
        ...authErrors, ...errorResponses,
      },
    },
  }, async (req) => {
    const q = req.query
    return coverage(a.coverage, { distanceM: q.distance_m ?? 1000, kinds: await kindsOf(q.kind), subdistrict: q.subdistrict ?? null, community: q.community ?? null, cell: q.cell ?? null })
  })

  app.get('/api/analysis/coverage/underserved', {
    ...heatAccess,
    schema: {
      tags: ['analysis'],
      summary: 'Cells with no outlet of some required kind within walking distance, the most missing first',
      querystring: Type.Object({ ...CoverageQuery, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 1000 })) }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          distance_m: Type.Number(), cells_checked: Type.Integer(), total: Type.Integer(),
          items: Type.Array(Type.Object({ code: Type.String(), missing: Type.Array(Type.String()), nearest_m: Type.Array(Nullable(Type.Number())) })),
        }),
        ...authErrors, ...errorResponses,
      },
    },
  }, async (req) => {
    const q = req.query
    const c = await coverage(a.coverage, { distanceM: q.distance_m ?? 1000, kinds: await kindsOf(q.kind), subdistrict: q.subdistrict ?? null, community: q.community ?? null, cell: q.cell ?? null })
    const list = underServed(c)
    return { distance_m: c.distance_m, cells_checked: c.cells.length, total: list.length, items: list.slice(0, q.limit ?? 1000) }
  })

  app.get('/api/service-kinds', {
    schema: { tags: ['analysis'], summary: 'Kinds of service outlets (15-minute life circle)', response: { 200: Type.Array(KindSchema) } },
  }, async () => a.coverage.kinds())

  app.get('/api/service-outlets', {
    schema: {
      tags: ['analysis'],
      summary: 'Service outlets as GeoJSON, filtered by kind and bbox',
      querystring: Type.Object({
        kind: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]{1,31}$' })),
        bbox: Type.Optional(Type.String({ maxLength: 200, description: 'minLon,minLat,maxLon,maxLat (WGS84)' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 10_000 })),
      }, { additionalProperties: false }),
      response: { 200: Type.Unknown(), ...errorResponses },
    },
  }, async (req, reply) => {
    const q = req.query
    if (q.kind) await kindsOf(q.kind)
    const body = await a.coverage.geojson(q.kind ?? null, q.bbox === undefined ? null : parseBbox(q.bbox), q.limit ?? 10_000)
    return reply.type('application/geo+json').send(body)
  })

  app.post('/api/service-outlets', {
    preHandler: app.requireRole('planner', 'admin'),
    schema: {
      tags: ['analysis'],
      summary: 'Add service outlets (planners, admins)',
      body: Type.Object({
        crs: Type.Optional(literals(['wgs84', 'gcj02', 'bd09'] as const, { description: 'of every point; default wgs84' })),
        outlets: Type.Array(Type.Object({
          kind: Type.String({ maxLength: 32 }), name: Type.String({ minLength: 1, maxLength: 200 }),
          lon: Type.Number({ minimum: -180, maximum: 180 }), lat: Type.Number({ minimum: -90, maximum: 90 }),
          address: Type.Optional(Type.String({ maxLength: 300 })), source: Type.Optional(Type.String({ maxLength: 100 })),
        }, { additionalProperties: false }), { minItems: 1, maxItems: 10_000 }),
      }, { additionalProperties: false }),
      response: { 201: Type.Object({ ids: Type.Array(Type.Integer()) }), ...authErrors, ...errorResponses, 422: ErrorSchema },
    },
  }, async (req, reply) => {
    const known = new Set((await a.coverage.kinds()).map((k) => k.code))
    const crs = req.body.crs ?? 'wgs84'
    const bad = req.body.outlets.map((o, i) => [o, i] as const).filter(([o]) => !known.has(o.kind))
    if (bad.length) {
      throw new AppError(422, 'unknown_service_kind', `unknown service kind ${[...new Set(bad.map(([o]) => o.kind))].join(', ')}`,
        bad.slice(0, 20).map(([, i]) => ({ field: `body.outlets.${i}.kind`, message: `one of ${[...known].join(', ')}` })))
    }
    const outlets = req.body.outlets.map((o) => {
      const [lon, lat] = crs === 'wgs84' ? [o.lon, o.lat] : toWgs84(o.lon, o.lat, crs)
      return { ...o, lon, lat }
    })
    return reply.code(201).send({ ids: await a.coverage.insert(outlets) })
  })
}, { name: 'analysis', dependencies: ['database', 'auth', 'cases', 'grid-hooks'] })
