/**
 * Typed errors of the geocoder. The server maps them to HTTP by `code`:
 * invalid_coordinates and unsupported_crs are the caller's fault (400),
 * invalid_cell and empty_grid are bad grid data (the import should have
 * refused it), index_not_ready means no grid has been loaded yet (503).
 */

export const GeocoderErrorCode = {
  invalidCoordinates: 'invalid_coordinates',
  unsupportedCrs: 'unsupported_crs',
  invalidCell: 'invalid_cell',
  emptyGrid: 'empty_grid',
  indexNotReady: 'index_not_ready',
} as const
export type GeocoderErrorCode = (typeof GeocoderErrorCode)[keyof typeof GeocoderErrorCode]

export class GeocoderError extends Error {
  readonly code: GeocoderErrorCode
  /** Which input was wrong: 'lon', 'lat', 'crs', or a cell code with a path into its geometry. */
  readonly field: string | null
  constructor(code: GeocoderErrorCode, message: string, field: string | null = null) {
    super(message)
    this.name = 'GeocoderError'
    this.code = code
    this.field = field
  }
}

/** A lon/lat that is not a finite number within [-180, 180] × [-90, 90]. */
export class InvalidCoordinatesError extends GeocoderError {
  readonly value: unknown
  constructor(field: 'lon' | 'lat', value: unknown) {
    const range = field === 'lon' ? '[-180, 180]' : '[-90, 90]'
    super(GeocoderErrorCode.invalidCoordinates, `${field} must be a finite number in ${range}, got ${String(value)}`, field)
    this.name = 'InvalidCoordinatesError'
    this.value = value
  }
}

/** True for a finite longitude in [-180, 180]. */
export function validLon(lon: number): boolean {
  return lon >= -180 && lon <= 180 // NaN fails both comparisons
}

/** True for a finite latitude in [-90, 90]. */
export function validLat(lat: number): boolean {
  return lat >= -90 && lat <= 90
}

/**
 * Throws InvalidCoordinatesError unless lon/lat are finite and in range.
 *
 * @example assertLonLat(116.45, 39.92) // passes; assertLonLat(NaN, 39.9) throws field 'lon'
 */
export function assertLonLat(lon: number, lat: number): void {
  if (typeof lon !== 'number' || !validLon(lon)) throw new InvalidCoordinatesError('lon', lon)
  if (typeof lat !== 'number' || !validLat(lat)) throw new InvalidCoordinatesError('lat', lat)
}
