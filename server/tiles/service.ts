/**
 * Tiles for the routes: picks the renderer for the backend (ST_AsMVT on PostGIS,
 * JavaScript on the embedded database), caches tiles under their layer's data
 * version (and, for case lights, until the next light turns), makes ETags, and
 * writes the TileJSON documents. Holds the hook the analysis module fills with
 * cell scores.
 */
import { createHash } from 'node:crypto'
import type { Database } from '../db/types.ts'
import { TileCache } from './cache.ts'
import type { LayerDef, LayerName } from './layers.ts'
import { JsTileRenderer, PostgisTileRenderer, type CellScoreProvider, type Rendered, type TileRenderer } from './renderers.ts'
import type { TileCoord } from './tile-math.ts'
import { DataVersions, type Versions } from './versions.ts'

export type RendererChoice = 'auto' | 'js' | 'postgis'

export interface TileServiceOptions {
  db: Database
  /** The case clock (traffic lights); default the system clock. */
  now?: () => Date
  /** auto: ST_AsMVT on a real PostGIS, JavaScript on the embedded database. */
  renderer?: RendererChoice
  /** Memory for cached tiles, bytes. 128 MiB holds ≈ 10,000 busy z14 cell tiles. */
  cacheBytes?: number
  /** How old the data versions may be, ms, for writes by other processes; this process's own writes show at once. */
  versionTtlMs?: number
}

export interface TileResult {
  /** Zero bytes: no feature in the tile. */
  bytes: Buffer
  etag: string
}

export interface CellScoreOptions {
  /**
   * Part of the cells' cache key: must change whenever the scores may have. Default: the
   * cases' data version and the day (Beijing time), for scores over a window ending today.
   */
  version?: () => string
}

export interface TileJSON {
  tilejson: '3.0.0'
  name: string
  description: string
  version: string
  scheme: 'xyz'
  tiles: string[]
  minzoom: number
  maxzoom: number
  bounds: [number, number, number, number]
  center: [number, number, number]
  vector_layers: {
    id: string
    description: string
    minzoom: number
    maxzoom: number
    fields: Record<string, string>
    field_descriptions: Record<string, string>
  }[]
}

const DEFAULT_CACHE_BYTES = 128 * 2 ** 20
const DEFAULT_VERSION_TTL_MS = 1000
const WORLD: [number, number, number, number] = [-180, -85.0511, 180, 85.0511]
const FIELD_TYPE_NAMES = { string: 'String', int: 'Number', double: 'Number', bool: 'Boolean' } as const

/** Beijing's calendar day (UTC+8, no daylight saving). */
const beijingDay = (d: Date): string => new Date(d.getTime() + 8 * 3_600_000).toISOString().slice(0, 10)

export class TileService {
  readonly renderer: TileRenderer
  readonly js: JsTileRenderer
  /** ST_AsMVT; null on the embedded database. */
  readonly postgis: PostgisTileRenderer | null
  readonly cache: TileCache
  private readonly versions: DataVersions
  private readonly db: Database
  private readonly now: () => Date
  private scores: { provider: CellScoreProvider; version: () => string } | null = null
  private readonly boundsCache = new Map<LayerName, { version: string; bounds: [number, number, number, number] }>()

  constructor(opts: TileServiceOptions) {
    this.now = opts.now ?? (() => new Date())
    this.db = opts.db
    this.js = new JsTileRenderer(opts.db)
    this.postgis = opts.db.kind === 'postgres' ? new PostgisTileRenderer(opts.db) : null
    const choice = opts.renderer ?? 'auto'
    if (choice === 'postgis' && !this.postgis) throw new Error('ST_AsMVT needs a real PostGIS: the embedded one is built without protobuf')
    this.renderer = choice === 'js' || !this.postgis ? this.js : this.postgis
    this.cache = new TileCache(opts.cacheBytes ?? DEFAULT_CACHE_BYTES)
    this.versions = new DataVersions(opts.db, opts.versionTtlMs ?? DEFAULT_VERSION_TTL_MS)
  }

  /**
   * Registers (or, with null, removes) what gives the cells layer its `score` and `grade`.
   * @example app.tiles.setCellScores(async (codes) => new Map(codes.map((c) => [c, { score: 91.5, grade: 'A' }])))
   */
  setCellScores(provider: CellScoreProvider | null, opts: CellScoreOptions = {}): void {
    this.scores = provider ? { provider, version: opts.version ?? (() => `d${beijingDay(this.now())}`) } : null
    this.cache.clear()
  }

  /** The data changed (or may have): read the versions again before the next tile. */
  markStale(): void {
    this.versions.markStale()
  }

  private versionKey(layer: LayerDef, v: Versions): string {
    let key = layer.sources.map((s) => v.get(s) ?? 0).join('.')
    if (layer.name === 'cells' && this.scores) key += `|${v.get('cases') ?? 0}|${this.scores.version()}`
    return key
  }

  /** Renders without the cache (benchmarks, tests); `renderer` picks one of the two. */
  render(layer: LayerDef, tile: TileCoord, renderer: TileRenderer = this.renderer): Promise<Rendered> {
    return renderer.render(layer, { tile, now: this.now(), scores: this.scores?.provider ?? null })
  }

  /** A tile, from the cache when its data has not changed since it was made. */
  async tile(layer: LayerDef, tile: TileCoord): Promise<TileResult> {
    const v = await this.versions.current()
    const version = this.versionKey(layer, v)
    const now = this.now()
    return this.cache.getOrBuild(`${layer.name}/${tile.z}/${tile.x}/${tile.y}`, version, now.getTime(), async () => {
      const r = await this.renderer.render(layer, { tile, now, scores: this.scores?.provider ?? null })
      const hash = createHash('sha1').update(r.bytes).digest('base64url').slice(0, 20)
      return { version, bytes: Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength), etag: `"${layer.name}-${hash}"`, validFrom: now.getTime(), validUntil: r.nextChangeMs }
    })
  }

  /** Where the layer's data is, lon/lat; the world when it has none. */
  async bounds(layer: LayerDef): Promise<[number, number, number, number]> {
    const version = this.versionKey(layer, await this.versions.current())
    const hit = this.boundsCache.get(layer.name)
    if (hit && hit.version === version) return hit.bounds
    const r = (await this.db.query<{ xmin: number | null; ymin: number | null; xmax: number | null; ymax: number | null }>(layer.boundsSql)).rows[0]
    const round = (n: number): number => Math.round(n * 1e6) / 1e6
    const bounds: [number, number, number, number] = r && r.xmin !== null && r.ymin !== null && r.xmax !== null && r.ymax !== null
      ? [round(r.xmin), round(r.ymin), round(r.xmax), round(r.ymax)] : WORLD
    this.boundsCache.set(layer.name, { version, bounds })
    return bounds
  }

  /** The TileJSON 3.0.0 document of a layer; `tilesUrl` holds {z}/{x}/{y}. */
  async tileJSON(layer: LayerDef, tilesUrl: string): Promise<TileJSON> {
    const bounds = await this.bounds(layer)
    const cx = (bounds[0] + bounds[2]) / 2
    const cy = (bounds[1] + bounds[3]) / 2
    const fields: Record<string, string> = {}
    for (const [k, t] of Object.entries(layer.fields)) {
      if (k === 'score' || k === 'grade') {
        if (!this.scores) continue
      }
      fields[k] = FIELD_TYPE_NAMES[t]
    }
    const docs = Object.fromEntries(Object.keys(fields).map((k) => [k, layer.fieldDocs[k] ?? '']))
    return {
      tilejson: '3.0.0',
      name: `wangge ${layer.name}`,
      description: layer.description,
      version: '1.0.0',
      scheme: 'xyz',
      tiles: [tilesUrl],
      minzoom: layer.minzoom,
      maxzoom: layer.maxzoom,
      bounds,
      center: [Math.round(cx * 1e6) / 1e6, Math.round(cy * 1e6) / 1e6, Math.min(layer.minzoom + 1, layer.maxzoom)],
      vector_layers: [{ id: layer.name, description: layer.description, minzoom: layer.minzoom, maxzoom: layer.maxzoom, fields, field_descriptions: docs }],
    }
  }
}

