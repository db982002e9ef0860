/**
 * Two ways to make a tile behind one interface: ST_AsMVT in PostGIS (the reference,
 * on a real server) and rows + JavaScript (geometry.ts, encode.ts) for the embedded
 * database, whose PostGIS is built without protobuf. The tests run both on PostGIS
 * and compare them feature by feature.
 */
import type { Queryable, Row } from '../db/types.ts'
import { encodeTile, type FieldValue, type TileFeature } from './encode.ts'
import { tileGeometry, tileProjection } from './geometry.ts'
import type { LayerDef } from './layers.ts'
import { BUFFER, EXTENT, selectionBox, type TileCoord } from './tile-math.ts'

export interface CellScore {
  score: number
  grade: string
}

/**
 * Scores of the cells a tile shows: the analysis module's hook (TileService.setCellScores).
 * Cells missing from the answer get no score attributes.
 */
export type CellScoreProvider = (codes: readonly string[]) => Map<string, CellScore> | Promise<Map<string, CellScore>>

export interface RenderContext {
  tile: TileCoord
  /** The case clock: traffic lights are computed against it. */
  now: Date
  scores: CellScoreProvider | null
}

export interface Rendered {
  /** The tile; zero bytes when nothing is in it. */
  bytes: Uint8Array
  /** When the tile's content changes with time alone (a case light turning), ms since the epoch; null: never. */
  nextChangeMs: number | null
}

export interface TileRenderer {
  readonly kind: 'js' | 'postgis'
  render(layer: LayerDef, ctx: RenderContext): Promise<Rendered>
}

function fieldValue(v: unknown): FieldValue {
  if (v === null || v === undefined) return null
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v
  return String(v)
}

/** Rows with WKB from the database; projection, clipping and encoding in JavaScript. */
export class JsTileRenderer implements TileRenderer {
  readonly kind = 'js' as const
  constructor(private readonly db: Queryable) {}

  async render(layer: LayerDef, ctx: RenderContext): Promise<Rendered> {
    const box = selectionBox(ctx.tile)
    const params: unknown[] = layer.name === 'cases' ? [...box, ctx.now] : box
    const rows = (await this.db.query<Row>(layer.rowsSql, params)).rows
    const proj = tileProjection(ctx.tile)
    const features: TileFeature[] = []
    const keptRows: Row[] = []
    let next: number | null = null
    for (const r of rows) {
      const geometry = tileGeometry(r.wkb as Uint8Array, proj, { extent: EXTENT, buffer: BUFFER })
      if (!geometry) continue
      const properties: Record<string, FieldValue> = {}
      for (const k of Object.keys(layer.fields)) properties[k] = fieldValue(r[k])
      const f: TileFeature = { geometry, properties }
      if (layer.hasId && typeof r.fid === 'number') f.id = r.fid
      features.push(f)
      keptRows.push(r)
      const nc = r.next_change_ms
      if (typeof nc === 'number' && (next === null || nc < next)) next = nc
    }
    if (layer.name === 'cells' && ctx.scores && features.length) {
      const scores = await ctx.scores(keptRows.map((r) => String(r.code)))
      for (const f of features) {
        const s = scores.get(String(f.properties.code))
        if (s) {
          f.properties.score = s.score
          f.properties.grade = s.grade
        }
      }
    }
    return { bytes: encodeTile([{ name: layer.name, fields: layer.fields, features }], EXTENT), nextChangeMs: next }
  }
}

const CELL_CODES = `SELECT c.code::text AS code FROM cells c
  WHERE c.geom && ST_MakeEnvelope($1::float8, $2::float8, $3::float8, $4::float8, 4326)`

/** One ST_AsMVT statement per tile (cells with scores: the codes first, then the tile). */
export class PostgisTileRenderer implements TileRenderer {
  readonly kind = 'postgis' as const
  constructor(private readonly db: Queryable) {}

  async render(layer: LayerDef, ctx: RenderContext): Promise<Rendered> {
    const { z, x, y } = ctx.tile
    const box = selectionBox(ctx.tile)
    const params: unknown[] = [z, x, y, ...box, EXTENT, BUFFER]
    if (layer.name === 'cells') {
      const codes: string[] = []
      const scores: number[] = []
      const grades: string[] = []
      if (ctx.scores) {
        const inBox = (await this.db.query<{ code: string }>(CELL_CODES, box)).rows.map((r) => r.code)
        const found = inBox.length ? await ctx.scores(inBox) : new Map<string, CellScore>()
        for (const [code, s] of found) {
          codes.push(code)
          scores.push(s.score)
          grades.push(s.grade)
        }
      }
      params.push(codes, scores, grades)
    } else if (layer.name === 'cases') {
      params.push(ctx.now)
    }
    const row = (await this.db.query<{ tile: Uint8Array | null; next_change_ms: number | null }>(layer.mvtSql, params)).rows[0]
    return { bytes: row?.tile ?? new Uint8Array(0), nextChangeMs: row?.next_change_ms ?? null }
  }
}
