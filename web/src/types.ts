/**
 * Shapes of the API answers the client reads. They mirror the route schemas in
 * server/routes/*.ts (the OpenAPI document at /docs/json is the contract).
 * Where the server has the very type of an answer (already in its JSON form:
 * dates as ISO strings), it is imported from there as a type: `import type`
 * is erased by the build, so no server code enters the bundle, and the two
 * cannot drift apart.
 */
import type { Feature, FeatureCollection, LineString, MultiLineString, Polygon, MultiPolygon } from 'geojson'
import type { Static } from 'typebox'
import type { CellFeature as CellFeatureSchema } from '../../server/schemas.ts'
import type { ChangesetRow } from '../../server/repositories/changesets.ts'
import type { Preview as PreviewAnswer } from '../../server/repositories/grid-commit.ts'
import type { DraftSummary } from '../../grids/redraw/changeset.ts'
import type { ChangeProblem } from '../../grids/redraw/validate.ts'
import type { RedrawOp } from '../../grids/redraw/types.ts'

export type { SubdistrictRow, CommunityRow } from '../../server/repositories/grid-repository.ts'

/** A cell's properties as GET /api/cells and /api/cells/:code give them (the route's response schema). */
export type CellProperties = Static<typeof CellFeatureSchema>['properties']

export type CellGeometry = Polygon | MultiPolygon
export type CellFeature = Feature<CellGeometry, CellProperties>
export type CellCollection = FeatureCollection<CellGeometry, CellProperties>

export interface Named { code: string; name: string }

export type Crs = 'wgs84' | 'gcj02' | 'bd09'

export interface ResponsibleUnit { uscc: string; name: string | null; role: string }

export interface GeocodeResult {
  point: { lon: number; lat: number }
  input: { lon: number; lat: number; crs: string }
  cell: string
  community: Named
  subdistrict: Named
  district: Named
  responsible_units: ResponsibleUnit[]
  snapped: boolean
  distance_m: number
  grid_version: number | null
}

/** Every error answer of the API: `{ error: { code, message, details } }`. */
export interface ApiErrorBody { error: { code: string; message: string; details?: unknown } }

/** GET /api/me: who the pasted token belongs to. */
export interface Me { id: number; name: string; role: string; role_name: string; org: string | null; org_name: string | null }

export type Light = 'green' | 'yellow' | 'red'

/** A case as GET /api/cases lists it (the fields the client reads; server/cases/view.ts has them all). */
export interface CaseItem {
  id: number
  matter: { code: string; name: string; standard_code: string }
  status: string
  status_name: string
  channel: string
  description: string
  address: string | null
  location: { lon: number; lat: number; cell: string; community: { code: string; name: string | null }; subdistrict: { code: string; name: string | null } }
  facility: { id: string; owner: string | null; owner_name: string | null; maintainer: string | null; distance_m: number | null } | null
  lead_unit: { org: string; name: string | null } | null
  /** Routed (state planned) and dispatched units, with the rule that chose each. */
  units: { org: string; name: string; role: 'lead' | 'assist'; state: string; rule_id: number | null; rule_name: string | null }[]
  reported_at: string
  clock: { stage: string; used_fraction: number; due_at: string | null; light: Light } | null
  overdue: boolean
  actions: string[]
}

export interface OrgRef { code: string; name: string | null; kind: string | null; contact_person: string | null; contact_phone: string | null; duty_phone: string | null }

/** One component of GET /api/facilities/nearest. */
export interface FacilityHit {
  id: string
  subclass: string
  subclass_name: string | null
  status: string
  status_name: string
  lon: number
  lat: number
  distance_m: number | null
  cell_code: string | null
  owner: OrgRef
  maintainer: OrgRef | null
  authority: OrgRef | null
}

/** GET /api/facilities/:id: a GeoJSON Feature; the properties the card shows. */
export interface FacilityFeature {
  type: 'Feature'
  geometry: unknown
  properties: {
    id: string
    subclass: string
    subclass_name?: string | null
    status: string
    owner: string
    owner_name?: string | null
    maintainer?: string | null
    maintainer_name?: string | null
    cell_code?: string | null
    [k: string]: unknown
  }
}

export interface Organisation { uscc: string; name: string; short_name: string | null; kind: string; owned: number; maintained: number }
export interface ComponentClass { code: string; major: string; major_name: string; name: string; geometry_kind: string; count: number }
export interface MatterType { code: string; parent_code: string | null; level: number; name: string; major: string }

/** GET /api/analysis/heatmap: H3 cells (or grid cells) and their case counts, as parallel arrays. */
export interface Heatmap { target: string; resolution: number | null; window: { from: string; to: string }; total: number; max: number; keys: string[]; counts: number[] }

/** GET /api/analysis/hotspots: Gi* per unit, as parallel arrays. */
export interface Hotspots {
  target: string
  resolution: number | null
  units: number
  cases: number
  significant: { hot: number; cold: number }
  keys: string[]
  count: number[]
  z: number[]
  p: number[]
  confidence: number[]
  emerging: string[]
}

export interface Ratio { name: string; value: number | null; numerator: number; denominator: number }

/** One row of GET /api/analysis/scores. */
export interface UnitScore {
  code: string
  name: string
  parent: string | null
  subdistrict: string | null
  indicators: Record<string, Ratio>
  composite: { formula: string; score: number | null; grade: string | null }
  rank: number | null
  previous: { score: number | null; grade: string | null; rank: number | null }
  rank_change: number | null
}

export interface Scores { level: string; formula: string; window: { from: string; to: string }; total: number; ranked: number; items: UnitScore[] }

// ---- grid redraws (server/routes/changesets.ts) ----

export type LonLat = [number, number]

/**
 * An operation as POST /api/changesets/:id/operations takes it (grids/redraw/types.ts);
 * a change set as the API lists it; what a draft changes; a validation problem (the
 * operation and cell it concerns, the field, the error code and why); a facility or
 * open case that moves to another cell; the answer of a commit.
 */
export type { RedrawOp, RegenerateShape } from '../../grids/redraw/types.ts'
export type { ChangesetRow as Changeset } from '../../server/repositories/changesets.ts'
export type { DraftSummary as ChangeSummary } from '../../grids/redraw/changeset.ts'
export type { ChangeProblem as RedrawProblem } from '../../grids/redraw/validate.ts'
export type { Move as RedrawMove, CommitSummary as CommitResult } from '../../server/repositories/grid-commit.ts'

/** GET /api/changesets/:id */
export interface ChangesetDetail {
  changeset: ChangesetRow
  operations: { seq: number; op: RedrawOp; removed: string[]; upserted: string[] }[]
  summary: DraftSummary
}

export interface Validation { valid: boolean; problems: ChangeProblem[]; summary: DraftSummary }

/** The properties the preview gives each cell before and after (server/repositories/grid-commit.ts). */
export interface PreviewCellProperties {
  side: 'before' | 'after'
  code: string
  community_code: string
  change: 'retired' | 'reshaped' | 'added'
  operation?: number | null
  area_m2: number
}

/** GET /api/changesets/:id/preview: the server's answer, its cells typed as the client reads them. */
export interface Preview extends Omit<PreviewAnswer, 'cells'> {
  cells: FeatureCollection<CellGeometry, PreviewCellProperties>
}

/** The details of a 409 changeset_conflict: cells another commit changed since the draft read them. */
export interface ConflictDetails { changeset: number; cells: { code: string; draft_version: number; active_version: number | null }[] }

/** A record in a comprehensive query's lists (GET|POST /api/base/query). */
export interface BaseListItem {
  id: string; kind: string; name: string; address: string | null; lon: number; lat: number
  use: string | null; floors: number | null; households: number | null; pop_resident: number | null
  capacity: number | null; uscc: string | null; cell_code: string
}

/** GET /api/base/query?cell|community|subdistrict and POST /api/base/query {polygon}: the comprehensive query (综合查询). */
export interface Comprehensive {
  area: { kind: 'cell' | 'community' | 'subdistrict' | 'polygon'; code: string | null; name: string | null; area_m2: number; cells: number }
  counts: Record<string, number>
  buildings: { count: number; floors_mean: number | null; by_use: Record<string, number> }
  people: {
    households: number; registered: number; resident: number
    key_persons: { total: number; by_category: Record<string, number> }
    /** names: `residents` lists named residents (command centre, admin); counts: other roles, `residents` is null. */
    personal_data: 'names' | 'counts'
    residents: { id: number; name: string; category: string; birth_year: number | null; phone: string | null; building_id: string; building_name: string | null }[] | null
  }
  cases: {
    window: { from: string; to: string }
    reported_in_window: number; open: number; overdue: number
    by_status: Record<string, number>
    open_items: { id: number; matter_code: string; matter_name: string | null; status: string; reported_at: string; due_at: string | null; lon: number; lat: number; cell_code: string }[]
  }
  facilities: { total: number; by_major: Record<string, number>; by_status: Record<string, number> }
  frontage_units: { count: number; length_m: number }
  lists: Record<string, BaseListItem[]>
  ms: number
}

/** GET /api/frontage-units/ranking and /api/indicators/ranking: a day's composite scores and ranks. */
export interface IndicatorRanking {
  subject: string
  day: string
  total: number
  items: {
    unit_key: string; name: string | null; subdistrict: string | null; score: number | null
    rank: number | null; previous_rank: number | null
    values: Record<string, { value: number | null; score: number | null }>
  }[]
}

/** GET /api/frontage-units/:id: a frontage unit (门前三包) with its frontage (WGS84) and recent cases. */
export interface FrontageUnit {
  id: string; uscc: string | null; name: string; kind: string; address: string | null
  contact_person: string | null; contact_phone: string | null; record_id: string | null
  length_m: number; cell_code: string; community_code: string; subdistrict_code: string
  active: boolean; signed_on: string | null
  frontage: LineString | MultiLineString | Polygon | MultiPolygon
  cases: { case_id: number; status: string; matter_code: string; reported_at: string; rule_name: string; distance_m: number; source: string }[]
}
