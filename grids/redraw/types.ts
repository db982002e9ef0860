/**
 * What the redraw operations work on and return. Plain data: no database, no HTTP.
 */
import type { LineString, MultiPolygon, Polygon } from 'geojson'

export type CellGeometry = Polygon | MultiPolygon

/** A cell as the operations see it. */
export interface RedrawCell {
  /** 15 digits: community (12) + number (3). */
  code: string
  /** 12 digits; always the first 12 of `code`. */
  community: string
  geometry: CellGeometry
  /** 18-character credit code of the responsible unit; null: the subdistrict's command centre. */
  responsibleUnit: string | null
}

/** Split a cell along a drawn line (crossing it) or into the parts inside and outside a drawn polygon. */
export interface SplitOp {
  type: 'split'
  cell: string
  line?: LineString
  polygon?: Polygon
}

/** Merge adjacent cells into one. Across communities only when `community` names the one to keep. */
export interface MergeOp {
  type: 'merge'
  cells: string[]
  community?: string
}

/** Replace the shared boundary of two neighbouring cells by a drawn line; both change together. */
export interface MoveBoundaryOp {
  type: 'move_boundary'
  cells: [string, string]
  line: LineString
}

/** Move a cell to another community (of the same or another subdistrict); it gets a code there. */
export interface ReassignOp {
  type: 'reassign'
  cell: string
  community: string
}

/** How regenerate tiles a community: north-aligned squares, or H3 hexagons of the nearest resolution. */
export type RegenerateShape = 'square' | 'h3'

/** Replace all cells of a community by squares (or H3 hexagons) of about `target_area_m2`, clipped to the community. */
export interface RegenerateOp {
  type: 'regenerate'
  community: string
  target_area_m2: number
  /** 'square' (default) or 'h3'. */
  shape?: RegenerateShape
}

export type RedrawOp = SplitOp | MergeOp | MoveBoundaryOp | ReassignOp | RegenerateOp
export type RedrawOpType = RedrawOp['type']

/** What one operation did: cells gone, cells new or reshaped (same code: reshaped). */
export interface OpResult {
  removed: string[]
  upserted: RedrawCell[]
}

/** Machine-readable reasons an operation or change set is refused. */
export const RedrawErrorCode = {
  unknownOperation: 'unknown_operation',
  unknownCell: 'unknown_cell',
  cellRemoved: 'cell_removed_by_earlier_operation',
  unknownCommunity: 'unknown_community',
  invalidLine: 'invalid_line',
  selfIntersectingLine: 'self_intersecting_line',
  lineOutsideCell: 'line_outside_cell',
  lineEndsInsideCell: 'line_ends_inside_cell',
  lineDoesNotSplit: 'line_does_not_split',
  invalidPolygon: 'invalid_polygon',
  polygonDoesNotSplit: 'polygon_does_not_split',
  notAdjacent: 'cells_not_adjacent',
  crossCommunityMerge: 'cross_community_merge',
  tooFewCells: 'too_few_cells',
  duplicateCell: 'duplicate_cell',
  sameCommunity: 'same_community',
  boundaryNotTwoParts: 'boundary_line_not_two_parts',
  codesExhausted: 'codes_exhausted',
  invalidTargetArea: 'invalid_target_area',
  invalidShape: 'invalid_shape',
  regenerateFailed: 'regenerate_failed',
  // change-set validation
  invalidGeometry: 'invalid_geometry',
  overlappingCells: 'overlapping_cells',
  gap: 'gap',
  outsideFootprint: 'outside_footprint',
  areaTooSmall: 'area_too_small',
  areaTooLarge: 'area_too_large',
  invalidCode: 'invalid_code',
  retiredCode: 'retired_code',
  duplicateCode: 'duplicate_code',
} as const
export type RedrawErrorCode = (typeof RedrawErrorCode)[keyof typeof RedrawErrorCode]

/** An operation that cannot be applied; the draft stays as it was. */
export class RedrawError extends Error {
  constructor(readonly code: RedrawErrorCode, message: string, readonly field: string, readonly cell: string | null = null) {
    super(message)
    this.name = 'RedrawError'
  }
}
