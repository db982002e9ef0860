/**
 * The point geocoder of the running service: an in-memory index of the active
 * grid plus a directory of names and responsible units, built together from
 * the database and swapped as one reference when the grid changes, so no
 * request sees half an index or a new grid with old names.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { MemoryCellIndex } from '../../geocoder/memory-index.ts'
import type { CellIndex, CellRecord, LocateResult } from '../../geocoder/types.ts'
import { parseWkbPolygonal } from '../db/wkb.ts'
import { loadIndexCells, type IndexCellRow } from '../repositories/geocoder-repository.ts'
import { loadPlaces } from '../repositories/place-repository.ts'
import { Gazetteer, type GazetteerEntry } from '../../geocoder/gazetteer.ts'

export interface Unit {
  uscc: string
  name: string | null
  role: 'cell' | 'command_centre'
}

/** Names and units of one cell, by ordinal. */
export interface CellInfo {
  code: string
  community: { code: string; name: string }
  subdistrict: { code: string; name: string }
  district: { code: string; name: string }
  responsibleUnits: Unit[]
}

export interface GridSnapshot {
  version: number | null
  index: CellIndex
  info: CellInfo[]
  /**
   * Address search over the places of this grid. Built in the background after the
   * cell index (≈ 0.5 s for 57,000 places), so start-up does not wait for it; the
   * first address query does if it comes sooner.
   */
  gazetteer: () => Promise<Gazetteer>
  builtAt: Date
  buildMs: number
}

export interface GeocoderHolder {
  /** The snapshot requests use; null until a grid is loaded. */
  current(): GridSnapshot | null
  /** Rebuilds from the database and swaps; returns the new snapshot. */
  rebuild(): Promise<GridSnapshot | null>
}

declare module 'fastify' {
  interface FastifyInstance {
    geocoder: GeocoderHolder
  }
}

function toInfo(r: IndexCellRow): CellInfo {
  const units: Unit[] = [{ uscc: r.responsible_unit, name: r.responsible_unit_name, role: 'cell' }]
  if (r.command_centre && r.command_centre !== r.responsible_unit) units.push({ uscc: r.command_centre, name: r.command_centre_name, role: 'command_centre' })
  return {
    code: r.code,
    community: { code: r.community_code, name: r.community_name },
    subdistrict: { code: r.subdistrict_code, name: r.subdistrict_name },
    district: { code: r.district_code, name: r.district_name },
    responsibleUnits: units,
  }
}

/**
 * Builds a snapshot from rows; exported for tests and benchmarks. `places` are the
 * gazetteer's entries, or how to read them when the address index is first wanted
 * (57,663 places take ≈ 1–2 s to read on the embedded database: not before listening).
 */
export function buildSnapshot(rows: IndexCellRow[], places: GazetteerEntry[] | (() => Promise<GazetteerEntry[]>), toleranceM?: number): GridSnapshot | null {
  if (!rows.length) return null
  const t0 = performance.now()
  const records: CellRecord[] = rows.map((r) => ({
    code: r.code, communityCode: r.community_code, subdistrictCode: r.subdistrict_code, geometry: parseWkbPolygonal(r.wkb),
  }))
  const index = MemoryCellIndex.build(records, toleranceM === undefined ? {} : { toleranceM })
  const byCode = new Map(rows.map((r) => [r.code, r]))
  const info = index.codes.map((code) => toInfo(byCode.get(code) as IndexCellRow))
  let built: Promise<Gazetteer> | null = null
  const read = typeof places === 'function' ? places : async () => places
  const gazetteer = (): Promise<Gazetteer> => {
    built ??= read().then((entries) => new Promise<Gazetteer>((resolve) => setImmediate(() => resolve(new Gazetteer(entries)))))
    // A failed read is tried again by the next caller.
    built.catch(() => { built = null })
    return built
  }
  return { version: rows[0].version, index, info, gazetteer, builtAt: new Date(), buildMs: Math.round(performance.now() - t0) }
}

/** The cell info of a located point, or null when it is outside. */
export function infoOf(snapshot: GridSnapshot, r: LocateResult): CellInfo | null {
  return r.outside ? null : snapshot.info[r.ordinal]
}

export interface GeocoderPluginOptions {
  toleranceM?: number
  /** Leave warming the address index to the owner of the process (npm start: after listen). */
  warmLater?: boolean
}

export default fp(async function geocoder(app: FastifyInstance, opts: GeocoderPluginOptions) {
  let snapshot: GridSnapshot | null = null
  let building: Promise<GridSnapshot | null> | null = null
  const holder: GeocoderHolder = {
    current: () => snapshot,
    async rebuild() {
      // Concurrent rebuilds share one; the grid is read inside it, so it is never older than the call.
      if (building) await building.catch(() => null)
      building = loadIndexCells(app.db).then((rows) => buildSnapshot(rows, () => loadPlaces(app.db), opts.toleranceM))
      try {
        const next = await building
        snapshot = next
        // Warm the address index off the request path (npm start does it after listening).
        if (!opts.warmLater) next?.gazetteer().catch((err: unknown) => app.log.warn({ err }, 'address index not built; the first address query tries again'))
        if (next) app.log.info({ cells: next.index.codes.length, version: next.version, ms: next.buildMs }, 'geocoder index built')
        return next
      } finally {
        building = null
      }
    },
  }
  app.decorate('geocoder', holder)
  app.onGridChanged(async () => { await holder.rebuild() })
  app.addHook('onReady', async () => { await holder.rebuild() })
}, { name: 'geocoder', dependencies: ['database', 'grid-hooks'] })
