/**
 * Rendered tiles in memory, least recently used first out, bounded by bytes.
 * An entry remembers the data version it was built from and, for case tiles,
 * until when it holds (a light turning yellow or red); a lookup with another
 * version or past that time misses. Concurrent misses of one tile share one render.
 */

export interface CachedTile {
  /** The data version key the tile was built from. */
  version: string
  bytes: Buffer
  etag: string
  /** ms since the epoch (case clock) it was built at: a clock set back before it misses too. */
  validFrom: number
  /** ms since the epoch (case clock) from which the tile is stale; null: only data changes stale it. */
  validUntil: number | null
}

/** Bookkeeping per entry beyond its bytes (key, object, map slot), so many empty tiles still count. */
const ENTRY_OVERHEAD = 256
const cost = (t: CachedTile): number => t.bytes.byteLength + ENTRY_OVERHEAD

export class TileCache {
  private readonly entries = new Map<string, CachedTile>()
  private readonly pending = new Map<string, Promise<CachedTile>>()
  private bytes = 0
  hits = 0
  misses = 0

  constructor(private readonly maxBytes: number) {}

  get size(): number { return this.entries.size }
  get totalBytes(): number { return this.bytes }

  get(key: string, version: string, nowMs: number): CachedTile | null {
    const e = this.entries.get(key)
    if (!e || e.version !== version || nowMs < e.validFrom || (e.validUntil !== null && nowMs >= e.validUntil)) return null
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(key)
    this.entries.set(key, e)
    return e
  }

  /** The cached tile, or the one `build` makes (once, however many ask at the same time). */
  async getOrBuild(key: string, version: string, nowMs: number, build: () => Promise<CachedTile>): Promise<CachedTile> {
    const hit = this.get(key, version, nowMs)
    if (hit) {
      this.hits++
      return hit
    }
    this.misses++
    const pk = `${key}@${version}`
    const running = this.pending.get(pk)
    if (running) return running
    const p = build().then((t) => {
      this.put(key, t)
      return t
    }).finally(() => this.pending.delete(pk))
    this.pending.set(pk, p)
    return p
  }

  put(key: string, t: CachedTile): void {
    const old = this.entries.get(key)
    if (old) {
      this.bytes -= cost(old)
      this.entries.delete(key)
    }
    if (cost(t) > this.maxBytes) return
    this.entries.set(key, t)
    this.bytes += cost(t)
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break
      this.entries.delete(k)
      this.bytes -= cost(e)
    }
  }

  clear(): void {
    this.entries.clear()
    this.bytes = 0
  }
}
