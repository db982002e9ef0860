/**
 * The geocoder's contract: cells in, point → cell out. Two implementations sit
 * behind it: the in-memory index (fast, `memory-index.ts`) and the PostGIS
 * reference it is tested against (`postgis-index.ts`).
 */
import type { MultiPolygon, Polygon } from 'geojson'

/** One cell of the active grid, as the database holds it. */
export interface CellRecord {
  /** 15 digits: district(6) + subdistrict(3) + community(3) + cell(3). */
  code: string
  /** 12 digits, the code's first 12. */
  communityCode: string
  /** 9 digits, the code's first 9. */
  subdistrictCode: string
  /**
   * WGS84 lon/lat, exactly as stored in PostGIS (load it as WKB, not rounded text):
   * the edge rule depends on the last bit of every vertex and on ring direction.
   */
  geometry: Polygon | MultiPolygon
}

/** A cell's place in the hierarchy: cell → community → subdistrict. */
export interface CellCodes {
  code: string
  communityCode: string
  subdistrictCode: string
}

/** A point that landed in (or was snapped to) a cell. */
export interface Located {
  outside: false
  code: string
  /** Position of the cell in the index's code-sorted list (`CellIndex.codes`). */
  ordinal: number
  /** True when the point was outside every cell but within the snapping tolerance. */
  snapped: boolean
  /** 0 when covered; the distance to the snapped cell in metres otherwise. */
  distanceM: number
}

/** A point farther than the snapping tolerance from every cell. */
export interface OutsideDistrict {
  outside: true
  code: null
  /** Distance to the nearest cell (the district as the union of its cells), in metres. */
  distanceM: number
}

export type LocateResult = Located | OutsideDistrict

/** `BatchResult.cells` value of a point outside the district. */
export const OUTSIDE = -1
/** `BatchResult.cells` value of a non-finite or out-of-range coordinate pair. */
export const INVALID = -2

/** Results of a batch lookup, one entry per input point, in input order. */
export interface BatchResult {
  /** Cell ordinal (index into `codes`), or OUTSIDE (-1) or INVALID (-2). */
  cells: Int32Array
  /** 1 when the point was snapped to its cell, else 0. */
  snapped: Uint8Array
  /**
   * 0 inside a cell; distance to the snapped cell; distance to the district when
   * OUTSIDE (NaN when the batch was asked not to compute it); NaN when INVALID.
   */
  distanceM: Float64Array
}

export interface BatchOptions {
  /**
   * Compute the distance to the district for points outside it. Default true;
   * turn off when only the cell matters, it is the slowest part of a miss.
   */
  outsideDistance?: boolean
}

/** Point → cell lookups over one grid version. Implementations are immutable once built. */
export interface CellIndex {
  /** Cell codes in ascending order; a cell's ordinal is its position here. */
  readonly codes: readonly string[]
  /** Snapping tolerance in metres. */
  readonly toleranceM: number
  /**
   * Locates one WGS84 point. Throws InvalidCoordinatesError for non-finite or
   * out-of-range input.
   */
  locate(lon: number, lat: number): LocateResult
  /**
   * Locates many points given as interleaved lon,lat pairs. Bad pairs are
   * reported as INVALID, not thrown, so one bad row does not sink a million.
   */
  locateMany(coords: Float64Array, options?: BatchOptions): BatchResult
  /** Codes of the cell with this ordinal (the index keeps no GeoJSON: the caller's records can be freed). */
  cell(ordinal: number): CellCodes
  /** Approximate heap held by the index, in bytes. */
  memoryBytes(): number
}

/** The same contract, answered asynchronously (by the database). */
export interface AsyncCellIndex {
  readonly toleranceM: number
  locate(lon: number, lat: number): Promise<LocateResult>
  /** Results in input order; `ordinal` is -1 (codes come from the database). */
  locateMany(lons: readonly number[], lats: readonly number[], options?: BatchOptions): Promise<LocateResult[]>
}

export interface IndexOptions {
  /** Snapping tolerance in metres. */
  toleranceM?: number
  /**
   * Edge test: 'postgis' reproduces PostGIS's ST_Covers(polygon, point)
   * arithmetic bit for bit (see predicates.ts); 'exact' uses Shewchuk's robust
   * orientation and decides what the exact real-number geometry says.
   */
  predicate?: 'postgis' | 'exact'
  /** Target number of lookup buckets per cell; more buckets answer more points without an exact test. */
  bucketsPerCell?: number
}
