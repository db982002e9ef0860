/**
 * The one door to the HTTP API. Same origin only: the client is served by the
 * Fastify app, so every request stays on the host that served the page.
 * Public reads carry no header; the routes that need a role get the signed-in
 * user's bearer token (web/src/auth.ts). A token is never sent where it is not
 * needed: an unknown token is a 401 on every route, public ones too.
 */
import type {
  ApiErrorBody, CaseItem, CellFeature, CommunityRow, ComponentClass, Crs, FacilityFeature, FacilityHit, GeocodeResult,
  Heatmap, Hotspots, MatterType, Me, Organisation, Scores, SubdistrictRow,
  Changeset, ChangesetDetail, CommitResult, Preview, RedrawOp, Validation,
  Comprehensive, FrontageUnit, IndicatorRanking,
} from './types.ts'

/** A non-2xx answer, with the API's error code (`outside_district`, `not_found`, …) to switch on. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message)
    this.name = 'ApiError'
  }
}

function isErrorBody(v: unknown): v is ApiErrorBody {
  if (typeof v !== 'object' || v === null || !('error' in v)) return false
  const e = (v as { error: unknown }).error
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string'
}

interface RequestOptions { signal?: AbortSignal; token?: string | null; method?: 'GET' | 'POST' | 'DELETE'; body?: unknown }

async function request<T>(path: string, o: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = {}
  if (o.token) headers.authorization = `Bearer ${o.token}`
  if (o.body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(path, { signal: o.signal, method: o.method ?? 'GET', headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) })
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err
    throw new ApiError(0, 'network', err instanceof Error ? err.message : String(err))
  }
  const text = await res.text()
  let body: unknown
  try {
    body = text === '' ? null : JSON.parse(text)
  } catch {
    throw new ApiError(res.status, 'invalid_response', `${path}: the answer is not JSON`)
  }
  if (!res.ok) {
    if (isErrorBody(body)) throw new ApiError(res.status, body.error.code, body.error.message, body.error.details)
    throw new ApiError(res.status, 'http_error', `${path}: HTTP ${res.status}`)
  }
  return body as T
}

/** The analysis window and filters every analysis request carries. */
export interface AnalysisQuery { from: Date; to: Date; matter: string | null }

export type CaseAction = 'accept' | 'dispatch' | 'void'

export interface Api {
  cell(code: string, signal?: AbortSignal): Promise<CellFeature>
  subdistricts(signal?: AbortSignal): Promise<SubdistrictRow[]>
  /** Communities with their area and cell count; of one subdistrict (9 digits) when given. */
  communities(signal?: AbortSignal, subdistrict?: string): Promise<CommunityRow[]>
  geocode(lon: number, lat: number, crs: Crs, signal?: AbortSignal): Promise<GeocodeResult>
  geocodeAddress(address: string, signal?: AbortSignal): Promise<GeocodeResult>
  nearestFacilities(lon: number, lat: number, k: number, signal?: AbortSignal): Promise<{ facilities: FacilityHit[] }>
  facility(id: string, signal?: AbortSignal): Promise<FacilityFeature>
  organisations(signal?: AbortSignal): Promise<Organisation[]>
  componentClasses(signal?: AbortSignal): Promise<ComponentClass[]>
  matterTypes(signal?: AbortSignal): Promise<MatterType[]>
  me(token: string, signal?: AbortSignal): Promise<Me>
  cases(token: string, q: Record<string, string | number>, signal?: AbortSignal): Promise<{ items: CaseItem[] }>
  act(token: string, id: number, action: CaseAction, body: { note?: string }): Promise<CaseItem>
  heatmap(token: string, q: AnalysisQuery, zoom: number, signal?: AbortSignal): Promise<Heatmap>
  hotspots(token: string, q: AnalysisQuery, zoom: number, signal?: AbortSignal): Promise<Hotspots>
  scores(token: string, q: AnalysisQuery, level: string, limit: number, signal?: AbortSignal): Promise<Scores>
  /** Grid redraws (planners): drafts, their operations, validation, preview, commit. */
  changesets(token: string, status?: Changeset['status']): Promise<Changeset[]>
  createChangeset(token: string, title: string): Promise<Changeset>
  changeset(token: string, id: number): Promise<ChangesetDetail>
  discardChangeset(token: string, id: number): Promise<Changeset>
  addOperation(token: string, id: number, op: RedrawOp): Promise<{ seq: number; removed: string[]; upserted: string[] }>
  undoOperation(token: string, id: number): Promise<{ removed_seq: number | null }>
  validateChangeset(token: string, id: number): Promise<Validation>
  previewChangeset(token: string, id: number): Promise<Preview>
  commitChangeset(token: string, id: number, body?: { note?: string }): Promise<CommitResult>
  /** The comprehensive query (综合查询) of a cell, community or subdistrict, or of a drawn polygon (WGS84). */
  baseQuery(token: string, area: BaseArea, window: { from: Date; to: Date } | null, signal?: AbortSignal): Promise<Comprehensive>
  /** A day's frontage-unit ranking (YYYY-MM-DD, Beijing; default today), best or worst first. */
  frontageRanking(token: string, order: 'best' | 'worst', limit: number, day: string | null, signal?: AbortSignal): Promise<IndicatorRanking>
  frontageUnit(token: string, id: string, signal?: AbortSignal): Promise<FrontageUnit>
}

/** What a comprehensive query is asked about. */
export type BaseArea =
  | { kind: 'cell' | 'community' | 'subdistrict'; code: string }
  | { kind: 'polygon'; polygon: { type: 'Polygon'; coordinates: [number, number][][] } }

const qs = (params: Record<string, string | number | null | undefined>): string =>
  new URLSearchParams(Object.entries(params).filter((e): e is [string, string | number] => e[1] !== null && e[1] !== undefined).map(([k, v]) => [k, String(v)])).toString()

const windowParams = (q: AnalysisQuery): Record<string, string | null> => ({ from: q.from.toISOString(), to: q.to.toISOString(), matter: q.matter })

/** The API at `base` (the page's own origin by default). */
export function createApi(base = ''): Api {
  return {
    cell: (code, signal) => request<CellFeature>(`${base}/api/cells/${encodeURIComponent(code)}`, { signal }),
    subdistricts: (signal) => request<SubdistrictRow[]>(`${base}/api/subdistricts`, { signal }),
    communities: (signal, subdistrict) => request<CommunityRow[]>(`${base}/api/communities${subdistrict ? `?${qs({ subdistrict })}` : ''}`, { signal }),
    geocode: (lon, lat, crs, signal) => request<GeocodeResult>(`${base}/api/geocode?${qs({ lon, lat, crs })}`, { signal }),
    geocodeAddress: (address, signal) => request<GeocodeResult>(`${base}/api/geocode?${qs({ address, limit: 1 })}`, { signal }),
    nearestFacilities: (lon, lat, k, signal) => request<{ facilities: FacilityHit[] }>(`${base}/api/facilities/nearest?${qs({ lon, lat, k, max_distance: 500 })}`, { signal }),
    facility: (id, signal) => request<FacilityFeature>(`${base}/api/facilities/${encodeURIComponent(id)}`, { signal }),
    organisations: (signal) => request<Organisation[]>(`${base}/api/organisations`, { signal }),
    componentClasses: (signal) => request<ComponentClass[]>(`${base}/api/component-classes`, { signal }),
    matterTypes: (signal) => request<MatterType[]>(`${base}/api/matter-types`, { signal }),
    me: (token, signal) => request<Me>(`${base}/api/me`, { signal, token }),
    cases: (token, q, signal) => request<{ items: CaseItem[] }>(`${base}/api/cases?${qs(q)}`, { signal, token }),
    act: (token, id, action, body) => request<CaseItem>(`${base}/api/cases/${id}/${action}`, { token, method: 'POST', body }),
    heatmap: (token, q, zoom, signal) => request<Heatmap>(`${base}/api/analysis/heatmap?${qs({ ...windowParams(q), zoom: Math.round(zoom) })}`, { signal, token }),
    hotspots: (token, q, zoom, signal) => request<Hotspots>(`${base}/api/analysis/hotspots?${qs({ ...windowParams(q), zoom: Math.round(zoom) })}`, { signal, token }),
    scores: (token, q, level, limit, signal) => request<Scores>(`${base}/api/analysis/scores?${qs({ ...windowParams(q), level, limit })}`, { signal, token }),
    changesets: (token, status) => request<Changeset[]>(`${base}/api/changesets${status ? `?${qs({ status })}` : ''}`, { token }),
    createChangeset: (token, title) => request<Changeset>(`${base}/api/changesets`, { token, method: 'POST', body: { title } }),
    changeset: (token, id) => request<ChangesetDetail>(`${base}/api/changesets/${id}`, { token }),
    discardChangeset: (token, id) => request<Changeset>(`${base}/api/changesets/${id}`, { token, method: 'DELETE' }),
    addOperation: (token, id, op) => request<{ seq: number; removed: string[]; upserted: string[] }>(`${base}/api/changesets/${id}/operations`, { token, method: 'POST', body: op }),
    undoOperation: (token, id) => request<{ removed_seq: number | null }>(`${base}/api/changesets/${id}/operations/last`, { token, method: 'DELETE' }),
    validateChangeset: (token, id) => request<Validation>(`${base}/api/changesets/${id}/validate`, { token, method: 'POST', body: {} }),
    previewChangeset: (token, id) => request<Preview>(`${base}/api/changesets/${id}/preview`, { token }),
    commitChangeset: (token, id, body = {}) => request<CommitResult>(`${base}/api/changesets/${id}/commit`, { token, method: 'POST', body }),
    baseQuery: (token, area, w, signal) => {
      const win = w ? { from: w.from.toISOString(), to: w.to.toISOString() } : {}
      return area.kind === 'polygon'
        ? request<Comprehensive>(`${base}/api/base/query`, { token, signal, method: 'POST', body: { polygon: area.polygon, limit: 10, ...win } })
        : request<Comprehensive>(`${base}/api/base/query?${qs({ [area.kind]: area.code, limit: 10, ...win })}`, { token, signal })
    },
    frontageRanking: (token, order, limit, day, signal) => request<IndicatorRanking>(`${base}/api/frontage-units/ranking?${qs({ order, limit, day })}`, { token, signal }),
    frontageUnit: (token, id, signal) => request<FrontageUnit>(`${base}/api/frontage-units/${encodeURIComponent(id)}`, { token, signal }),
  }
}
