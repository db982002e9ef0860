/**
 * The facility registry of the running service: the repository, the PostGIS
 * reference lookups, and an in-memory index with the names it answers with
 * (organisations, classes, the cells' responsible units), built together from
 * the database and swapped as one reference after every import, so a request
 * never sees half an index. Registers the routes (server/routes/facilities.ts).
 */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { MemoryFacilityIndex } from '../../geocoder/facility-index.ts'
import type { FacilityRecord, OrganisationInfo } from '../../geocoder/facility-types.ts'
import type { FacilityInput, FacilityProblem } from '../../geocoder/facility-validate.ts'
import { FacilityRepository } from '../repositories/facility-repository.ts'
import { PostgisFacilityIndex } from '../repositories/facility-postgis-index.ts'
import { CellLocatorCache, importFacilitiesDetailed, reassignCells, type FacilityImportOptions, type FacilityImportSummary } from '../repositories/facility-import.ts'
import facilityRoutes from '../routes/facilities.ts'

export interface ComponentClassInfo { code: string; name: string; major: string; majorName: string }

/** One state of the registry, as requests see it. */
export interface FacilitySnapshot {
  index: MemoryFacilityIndex
  /** What the index was built from, by id (an import merges into it instead of reading everything again). */
  records: FacilityRecord[]
  organisations: Map<string, OrganisationInfo>
  classes: Map<string, ComponentClassInfo>
  /** Responsible unit of each cell (credit code). */
  cellUnits: Map<string, string>
  revision: number
  /** False until the in-memory index holds the registry: lookups go to PostGIS meanwhile. */
  ready: boolean
  builtAt: Date
  buildMs: number
}

export interface FacilityService {
  repository: FacilityRepository
  /** The reference lookups, straight from PostGIS. */
  postgis: PostgisFacilityIndex
  /** The snapshot requests use (names only, `ready: false`, until the first index build ends). */
  current(): FacilitySnapshot
  /** Resolves when the first in-memory index is built (at once after that). */
  whenReady(): Promise<void>
  /** Rebuilds the snapshot from the database and swaps it in. */
  rebuild(): Promise<FacilitySnapshot>
  /** Imports checked rows (see importFacilities), then rebuilds. */
  import(rows: FacilityInput[], problems: FacilityProblem[], totalRows: number, opts: FacilityImportOptions): Promise<FacilityImportSummary>
}

declare module 'fastify' {
  interface FastifyInstance {
    facilities: FacilityService
  }
}

export interface FacilitiesPluginOptions {
  /** Largest import body, bytes. */
  bodyLimit?: number
  /** How often to look for writes by other processes (the CLI), ms; 0 = never. PostgreSQL only. */
  pollMs?: number
  /**
   * Leave the in-memory index to a rebuild() the caller starts when it likes (npm start: once
   * it listens); requests are answered from PostGIS until it is in. Default: built on ready.
   */
  buildInBackground?: boolean
}

/** 5 s: an import from the CLI shows in a running server within that, for one cheap query. */
const DEFAULT_POLL_MS = 5000

export async function buildSnapshot(repo: FacilityRepository): Promise<FacilitySnapshot> {
  const t0 = performance.now()
  const revision = await repo.revision()
  const [records, orgs, classes, cellUnits]: [FacilityRecord[], OrganisationInfo[], ComponentClassInfo[], Map<string, string>] = await Promise.all([
    repo.records(),
    repo.organisationInfo(),
    repo.componentClasses().then((rows) => rows.map((r) => ({ code: r.code, name: r.name, major: r.major, majorName: r.major_name }))),
    repo.cellUnits(),
  ])
  return {
    index: new MemoryFacilityIndex(records),
    records,
    organisations: new Map(orgs.map((o) => [o.uscc, o])),
    classes: new Map(classes.map((c) => [c.code, c])),
    cellUnits,
    revision,
    ready: true,
    builtAt: new Date(),
    buildMs: Math.round(performance.now() - t0),
  }
}

/** The names requests need (organisations, classes, cell units) with an empty index: cheap, for before the first build. */
export async function buildNamesOnly(repo: FacilityRepository): Promise<FacilitySnapshot> {
  const t0 = performance.now()
  const [revision, orgs, classes, cellUnits] = await Promise.all([
    repo.revision(), repo.organisationInfo(),
    repo.componentClasses().then((rows) => rows.map((r) => ({ code: r.code, name: r.name, major: r.major, majorName: r.major_name }))),
    repo.cellUnits(),
  ])
  return {
    index: new MemoryFacilityIndex([]), records: [],
    organisations: new Map(orgs.map((o) => [o.uscc, o])), classes: new Map(classes.map((c) => [c.code, c])), cellUnits,
    revision, ready: false, builtAt: new Date(), buildMs: Math.round(performance.now() - t0),
  }
}

/** `base` (sorted by id) with `changes` put in: replaced where the id exists, added where not. */
export function mergeById(base: readonly FacilityRecord[], changes: readonly FacilityRecord[]): FacilityRecord[] {
  const add = [...changes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const out: FacilityRecord[] = []
  let j = 0
  for (const r of base) {
    while (j < add.length && add[j].id < r.id) out.push(add[j++])
    if (j < add.length && add[j].id === r.id) out.push(add[j++])
    else out.push(r)
  }
  while (j < add.length) out.push(add[j++])
  return out
}

export default fp(async function facilities(app: FastifyInstance, opts: FacilitiesPluginOptions) {
  const repository = new FacilityRepository(app.db)
  const cells = new CellLocatorCache()
  let snapshot: FacilitySnapshot = {
    index: new MemoryFacilityIndex([]), records: [], organisations: new Map(), classes: new Map(), cellUnits: new Map(), revision: -1, ready: false, builtAt: new Date(), buildMs: 0,
  }
  let building: Promise<FacilitySnapshot> | null = null
  let markReady: () => void = () => {}
  const firstBuild = new Promise<void>((resolve) => { markReady = resolve })
  const rebuild = async (): Promise<FacilitySnapshot> => {
    // One build at a time; a caller arriving during a build waits for it, then builds again, so what it gets is never older than its call.
    while (building) await building.catch(() => null)
    building = buildSnapshot(repository)
    try {
      snapshot = await building
      markReady()
      app.log.info({ facilities: snapshot.index.size, revision: snapshot.revision, ms: snapshot.buildMs }, 'facility index built')
      return snapshot
    } finally {
      building = null
    }
  }
  const service: FacilityService = {
    repository,
    postgis: new PostgisFacilityIndex(app.db),
    current: () => snapshot,
    whenReady: () => firstBuild,
    rebuild,
    async import(rows, problems, totalRows, importOpts) {
      const { summary, revision, written } = await importFacilitiesDetailed(app.db, rows, problems, totalRows, { ...importOpts, cells })
      if (!building && snapshot.ready && snapshot.revision === revision - 1) {
        // nothing else wrote since the snapshot: merge what this import wrote instead of reading everything again
        const t0 = performance.now()
        const records = mergeById(snapshot.records, written)
        snapshot = { ...snapshot, index: new MemoryFacilityIndex(records), records, revision, builtAt: new Date(), buildMs: Math.round(performance.now() - t0) }
      } else {
        await rebuild()
      }
      return summary
    },
  }
  app.decorate('facilities', service)
  // In the background mode the owner of the process calls rebuild() once it listens
  // (server/main.ts); until then the snapshot holds the names and lookups go to PostGIS.
  app.addHook('onReady', async () => {
    if (!opts.buildInBackground) await rebuild()
    else if (snapshot.revision === -1) snapshot = await buildNamesOnly(repository)
  })
  if (app.hasDecorator('onGridChanged')) {
    app.onGridChanged(async ({ remote }) => {
      // The writer moved the components in its own transaction (grid import, change-set commit); a process told of it only reads.
      if (!remote) {
        const moved = await reassignCells(app.db)
        app.log.info({ moved }, 'facilities reassigned to the new grid')
      }
      await rebuild()
    })
  }
  // Let a build in flight finish before the database closes under it.
  app.addHook('onClose', async () => { while (building) await building.catch(() => null) })
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS
  if (app.db.kind === 'postgres' && pollMs > 0) {
    const timer = setInterval(() => {
      repository.revision().then(async (r) => { if (r !== snapshot.revision && !building) await rebuild() })
        .catch((err: unknown) => app.log.warn({ err }, 'facility revision check failed'))
    }, pollMs)
    timer.unref()
    app.addHook('onClose', async () => clearInterval(timer))
  }
  await app.register(facilityRoutes, { bodyLimit: opts.bodyLimit ?? 32 * 1024 * 1024 })
}, { name: 'facilities', dependencies: ['database'] })
