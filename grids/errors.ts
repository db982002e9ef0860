/**
 * Machine-readable codes for what can be wrong with grid input, shared by the
 * validator, the repository and the HTTP error handler so clients can switch on them.
 */
export const GridErrorCode = {
  invalidGeojson: 'invalid_geojson',
  notFeatureCollection: 'not_feature_collection',
  unsupportedCrs: 'unsupported_crs',
  invalidGeometryType: 'invalid_geometry_type',
  coordinatesOutOfRange: 'coordinates_out_of_range',
  ringNotClosed: 'ring_not_closed',
  ringTooShort: 'ring_too_short',
  invalidGeometry: 'invalid_geometry',
  invalidCode: 'invalid_code',
  missingProperty: 'missing_property',
  inconsistentHierarchy: 'inconsistent_hierarchy',
  duplicateCode: 'duplicate_code',
  retiredCode: 'retired_code',
  overlappingCells: 'overlapping_cells',
  mixedDistricts: 'mixed_districts',
  invalidResponsibleUnit: 'invalid_responsible_unit',
  emptyGrid: 'empty_grid',
  tooManyFeatures: 'too_many_features',
} as const
export type GridErrorCode = (typeof GridErrorCode)[keyof typeof GridErrorCode]

/** One thing wrong with one feature (index null: with the file as a whole). */
export interface FeatureProblem {
  /** Position of the feature in `features`, from 0. */
  index: number | null
  /** The feature's cell code, when it had a readable one. */
  code: string | null
  /** Where in the feature: `geometry`, `properties.code`, `geometry.coordinates[0][3]` … */
  field: string
  error: GridErrorCode
  reason: string
}
