/**
 * The study area of the hot-spot analysis: every unit, with or without cases
 * (Gi* needs the zeros), and who neighbours whom. Grid cells neighbour when
 * they touch (queen contiguity, from PostGIS); H3 cells are the hexagons whose
 * centre lies in a grid cell, plus the hexagon of each cell's inner point (so a
 * cell smaller than a hexagon is not lost), with the ring of six as neighbours.
 * Both are computed once per grid and kept until the grid changes.
 */
import { gridDisk, latLngToCell, polygonToCells } from 'h3-js'
import type { Queryable } from '../db/types.ts'
import { adjacency, type Adjacency } from './gistar.ts'

/** Cells as GeoJSON geometry with an inner point. */
const CELL_SHAPES = `SELECT code, ST_AsGeoJSON(geom, 7) AS geojson, ST_X(p) AS lon, ST_Y(p) AS lat
FROM (SELECT code, geom, ST_PointOnSurface(geom) AS p FROM cells) x ORDER BY code`

/**
 * Pairs of cells that touch (share an edge or a corner), within 1e-7° (≈ 1 cm):
 * a grid drawn elsewhere may leave hairline gaps that are no real separation.
 */
const CELL_PAIRS = `SELECT a.code AS a, b.code AS b FROM cells a JOIN cells b ON a.code < b.code AND ST_DWithin(a.geom, b.geom, 1e-7)`

export interface Units {
  keys: string[]
  index: Map<string, number>
  adj: Adjacency
}

type Polygon = number[][][]

export class StudyArea {
  private cellUnits: Promise<Units> | null = null
  private readonly hexUnits = new Map<number, Promise<Units>>()

  constructor(private readonly db: Queryable) {}

  /** Forgets what was computed (the grid changed). */
  reset(): void {
    this.cellUnits = null
    this.hexUnits.clear()
  }

  /**
   * The units of a target, with any extra keys (cases just outside the area, or in
   * a cell no longer in the grid) added and kept for the next request.
   */
  async units(target: { kind: 'cell' } | { kind: 'h3'; res: number }, extra: readonly string[]): Promise<Units> {
    const base = target.kind === 'cell' ? await this.cells() : await this.hexes(target.res)
    const u = withExtra(base, extra, target.kind)
    if (u !== base) {
      if (target.kind === 'cell') this.cellUnits = Promise.resolve(u)
      else this.hexUnits.set(target.res, Promise.resolve(u))
    }
    return u
  }

  /** Every grid cell with the cells it touches. */
  cells(): Promise<Units> {
    this.cellUnits ??= (async () => {
      const [codes, pairs] = await Promise.all([
        this.db.query<{ code: string }>('SELECT code FROM cells ORDER BY code'),
        this.db.query<{ a: string; b: string }>(CELL_PAIRS),
      ])
      const keys = codes.rows.map((r) => r.code.trim())
      const index = new Map(keys.map((k, i) => [k, i]))
      const lists: number[][] = keys.map(() => [])
      for (const p of pairs.rows) {
        const a = index.get(p.a.trim())
        const b = index.get(p.b.trim())
        if (a === undefined || b === undefined) continue
        lists[a].push(b)
        lists[b].push(a)
      }
      return { keys, index, adj: adjacency(lists) }
    })().catch((err: unknown) => { this.cellUnits = null; throw err })
    return this.cellUnits
  }

  /** Every H3 cell of resolution `res` over the grid, with its ring of neighbours inside the area. */
  hexes(res: number): Promise<Units> {
    let p = this.hexUnits.get(res)
    if (!p) {
      p = (async () => {
        const rows = (await this.db.query<{ code: string; geojson: string; lon: number; lat: number }>(CELL_SHAPES)).rows
        const set = new Set<string>()
        for (const r of rows) {
          set.add(latLngToCell(r.lat, r.lon, res))
          const g = JSON.parse(r.geojson) as { type: string; coordinates: Polygon | Polygon[] }
          const polys = g.type === 'MultiPolygon' ? (g.coordinates as Polygon[]) : [g.coordinates as Polygon]
          for (const poly of polys) for (const h of polygonToCells(poly, res, true)) set.add(h)
        }
        return hexUnits([...set].sort())
      })().catch((err: unknown) => { this.hexUnits.delete(res); throw err })
      this.hexUnits.set(res, p)
    }
    return p
  }
}

/** Units for a set of H3 cells (all of one resolution): neighbours are the ring of six within the set. */
export function hexUnits(keys: string[]): Units {
  const index = new Map(keys.map((k, i) => [k, i]))
  const lists = keys.map((h) => gridDisk(h, 1).filter((n) => n !== h).map((n) => index.get(n)).filter((i): i is number => i !== undefined))
  return { keys, index, adj: adjacency(lists) }
}

/** The units plus any extra keys (cases just outside the area), neighbours recomputed for H3. */
export function withExtra(units: Units, extra: readonly string[], kind: 'h3' | 'cell'): Units {
  const missing = extra.filter((k) => !units.index.has(k))
  if (!missing.length) return units
  if (kind === 'h3') return hexUnits([...units.keys, ...missing].sort())
  // A case in a cell that is no longer in the grid: an island with no neighbours.
  const keys = [...units.keys, ...missing]
  const index = new Map(keys.map((k, i) => [k, i]))
  const offsets = new Int32Array(keys.length + 1)
  offsets.set(units.adj.offsets)
  offsets.fill(units.adj.offsets[units.keys.length], units.keys.length + 1)
  return { keys, index, adj: { offsets, targets: units.adj.targets } }
}
