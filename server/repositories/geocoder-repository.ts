/** What the geocoder needs from the database: the active cells with exact geometry and their units. */
import type { Queryable } from '../db/types.ts'

export interface IndexCellRow {
  code: string
  community_code: string
  subdistrict_code: string
  wkb: Uint8Array
  community_name: string
  subdistrict_name: string
  district_code: string
  district_name: string
  responsible_unit: string
  responsible_unit_name: string | null
  command_centre: string | null
  command_centre_name: string | null
  version: number
}

// WKB keeps every double as PostGIS has it; text would round the last bits the edge rule depends on.
const CELLS_FOR_INDEX = `SELECT c.code, c.community_code, c.subdistrict_code, ST_AsBinary(c.geom) AS wkb,
  m.name AS community_name, s.name AS subdistrict_name, d.code AS district_code, d.name AS district_name,
  c.responsible_unit, o.name AS responsible_unit_name, s.command_centre, cc.name AS command_centre_name,
  (SELECT max(id) FROM grid_versions) AS version
FROM cells c
JOIN communities m ON m.code = c.community_code
JOIN subdistricts s ON s.code = c.subdistrict_code
JOIN districts d ON d.code = c.district_code
LEFT JOIN organisations o ON o.uscc = c.responsible_unit
LEFT JOIN organisations cc ON cc.uscc = s.command_centre
ORDER BY c.code`

export async function loadIndexCells(db: Queryable): Promise<IndexCellRow[]> {
  return (await db.query<IndexCellRow>(CELLS_FOR_INDEX)).rows
}
