/**
 * The one door to the HTTP API. Same origin only: the client is served by the
 * Fastify app, so every request stays on the host that served the page.
 */
import type { ApiErrorBody, CellCollection, CellFeature, CommunityRow, Crs, GeocodeResult, SubdistrictRow } from './types.ts'

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

async function getJSON<T>(path: string, signal?: AbortSignal): Promise<T> {
  let res: Response
  try {
    // No custom headers: a request must match index.html's <link rel=preload> to reuse its response.
    res = await fetch(path, { signal })
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

export interface Api {
  cells(signal?: AbortSignal): Promise<CellCollection>
  cell(code: string, signal?: AbortSignal): Promise<CellFeature>
  subdistricts(signal?: AbortSignal): Promise<SubdistrictRow[]>
  communities(signal?: AbortSignal): Promise<CommunityRow[]>
  geocode(lon: number, lat: number, crs: Crs, signal?: AbortSignal): Promise<GeocodeResult>
}

/** The API at `base` (the page's own origin by default). */
export function createApi(base = ''): Api {
  const q = (params: Record<string, string | number>): string => new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString()
  return {
    cells: (signal) => getJSON<CellCollection>(`${base}/api/cells`, signal),
    cell: (code, signal) => getJSON<CellFeature>(`${base}/api/cells/${encodeURIComponent(code)}`, signal),
    subdistricts: (signal) => getJSON<SubdistrictRow[]>(`${base}/api/subdistricts`, signal),
    communities: (signal) => getJSON<CommunityRow[]>(`${base}/api/communities`, signal),
    geocode: (lon, lat, crs, signal) => getJSON<GeocodeResult>(`${base}/api/geocode?${q({ lon, lat, crs })}`, signal),
  }
}
