/**
 * The data versions tiles are cached under: tile_sources (migration 006), one row
 * per table, bumped in the writer's own transaction by a statement trigger. Read
 * at most once per `ttlMs` (one tiny query, shared by all requests waiting on it),
 * and again at once after this process wrote something (markStale), so a change
 * made here shows on the next tile and one made by another process (the CLI)
 * within ttlMs.
 */
import type { Queryable } from '../db/types.ts'
import type { SourceTable } from './layers.ts'

export type Versions = ReadonlyMap<SourceTable, number>

const READ = 'SELECT name, version::float8 AS version FROM tile_sources'

export class DataVersions {
  private value: Versions | null = null
  private readAt = 0
  private reading: Promise<Versions> | null = null
  /** Bumped by markStale: a read that started before it does not count as fresh. */
  private epoch = 0

  constructor(private readonly db: Queryable, private readonly ttlMs: number) {}

  /** The versions as of at most ttlMs ago (or as of the last markStale). */
  current(): Versions | Promise<Versions> {
    if (this.value && performance.now() - this.readAt < this.ttlMs) return this.value
    return this.read()
  }

  /** Forgets the versions: the next tile reads them again. */
  markStale(): void {
    this.value = null
    this.epoch++
  }

  private read(): Promise<Versions> {
    if (this.reading) return this.reading
    const epoch = this.epoch
    const started = performance.now()
    this.reading = this.db.query<{ name: SourceTable; version: number }>(READ).then((r) => {
      const v: Versions = new Map(r.rows.map((row) => [row.name, Number(row.version)]))
      if (epoch === this.epoch) {
        this.value = v
        this.readAt = started
      }
      return v
    }).finally(() => { this.reading = null })
    return this.reading
  }
}
