/**
 * The data versions tiles are cached under: per table, tile_sources.version (migration
 * 006) plus the rows its writers' statement triggers appended to tile_changes (009) in
 * their own transactions — so a version moves exactly when the data does. Read
 * at most once per `ttlMs` (one tiny query, shared by all requests waiting on it),
 * and again at once after this process wrote something (markStale), so a change
 * made here shows on the next tile and one made by another process (the CLI)
 * within ttlMs.
 */
import type { Queryable } from '../db/types.ts'
import type { SourceTable } from './layers.ts'

export type Versions = ReadonlyMap<SourceTable, number>

const READ = `SELECT s.name, (s.version + coalesce(c.n, 0))::float8 AS version, coalesce(c.n, 0)::int AS pending
  FROM tile_sources s LEFT JOIN (SELECT name, count(*) AS n FROM tile_changes GROUP BY name) c ON c.name = s.name`

/** Folds the change rows this statement sees into tile_sources, atomically: the sums stay as they were. */
const FOLD = `WITH d AS (DELETE FROM tile_changes RETURNING name), n AS (SELECT name, count(*) AS n FROM d GROUP BY name)
  UPDATE tile_sources s SET version = s.version + n.n FROM n WHERE s.name = n.name`

/** Change rows kept before a read folds them (one count over a few thousand rows is well under a millisecond). */
const FOLD_AFTER = 5000

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
    this.reading = this.db.query<{ name: SourceTable; version: number; pending: number }>(READ).then(async (r) => {
      const v: Versions = new Map(r.rows.map((row) => [row.name, Number(row.version)]))
      if (r.rows.reduce((n, row) => n + row.pending, 0) > FOLD_AFTER) await this.db.query(FOLD)
      if (epoch === this.epoch) {
        this.value = v
        this.readAt = started
      }
      return v
    }).finally(() => { this.reading = null })
    return this.reading
  }
}
