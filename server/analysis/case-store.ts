/**
 * Every case as a few typed-array columns in memory — report time, H3 cell at
 * resolution 10, grid cell, matter, status, deadline, late flag — so a heatmap
 * or a hot-spot count over millions of cases is one tight loop (tens of ms)
 * instead of a scan and join in the database.
 *
 * Why not SQL: a district-wide heatmap reads every case of the window; on
 * PostgreSQL that is a 500,000-row scan and hash aggregate per request (the
 * benchmark measures it side by side), and millions of rows do not fit the
 * 1-second budget. Here each case costs ≈ 26 bytes (5,000,000 cases ≈ 130 MB).
 *
 * Keeping up with the database, without triggers: cases are only ever added
 * (ids from a sequence) and a case that is closed or voided never changes
 * again. So a refresh reads (1) cases with an id above the highest seen, (2)
 * the ids skipped below it that are still recent ("holes": a transaction may
 * commit an id lower than one already read; a hole older than the look-back is
 * taken for a rolled-back id), and (3) the cases that were open at the last
 * refresh, by id: their status and deadline are the only facts that move.
 * Refreshes run at most every `maxStaleMs`; a request waits for a running one.
 */
import { cellToParent, latLngToCell } from 'h3-js'
import { STATUSES, type Status } from '../cases/machine.ts'
import type { CaseFact, CaseSource } from './case-source.ts'

/** Finest H3 resolution kept per case; coarser ones are its parents. */
export const BASE_RES = 10
/** Coarsest resolution served. */
export const MIN_RES = 6

/** Times are kept as seconds since 2000-01-01 in 32 bits (good to 2136). */
const EPOCH_2000 = Date.UTC(2000, 0, 1) / 1000
const toSec = (epochSeconds: number): number => Math.max(0, Math.round(epochSeconds - EPOCH_2000))
export const secOf = (d: Date): number => Math.max(0, Math.floor(d.getTime() / 1000 - EPOCH_2000))

const STATUS_ID = new Map<string, number>(STATUSES.map((s, i) => [s, i]))
const TERMINAL = new Uint8Array(STATUSES.map((s) => (s === 'closed' || s === 'voided' ? 1 : 0)))

/** Strings interned to small integers. */
class Dictionary {
  readonly values: string[] = []
  private readonly index = new Map<string, number>()
  id(v: string): number {
    let i = this.index.get(v)
    if (i === undefined) {
      i = this.values.length
      this.values.push(v)
      this.index.set(v, i)
    }
    return i
  }
  get(v: string): number | undefined { return this.index.get(v) }
  get size(): number { return this.values.length }
}

/** H3 cells at the base resolution, each with its parent at every coarser resolution. */
class HexDictionary {
  readonly byRes: Dictionary[] = Array.from({ length: BASE_RES + 1 }, () => new Dictionary())
  /** parent[r][slot at BASE_RES] = slot at resolution r. */
  readonly parent: Int32Array[] = Array.from({ length: BASE_RES + 1 }, () => new Int32Array(1024))

  slot(h: string): number {
    const base = this.byRes[BASE_RES]
    const known = base.get(h)
    if (known !== undefined) return known
    const s = base.id(h)
    for (let r = MIN_RES; r < BASE_RES; r++) {
      if (s >= this.parent[r].length) {
        const bigger = new Int32Array(this.parent[r].length * 2)
        bigger.set(this.parent[r])
        this.parent[r] = bigger
      }
      this.parent[r][s] = this.byRes[r].id(cellToParent(h, r))
    }
    return s
  }
}

export interface HeatFilter {
  from: Date
  to: Date
  /** Matter code: cases of it and its finer matters. */
  matter?: string | null
  statuses?: readonly Status[] | null
  /** What a late or overdue case counts for (1: like any other). */
  overdueWeight?: number
  /** "Now" for overdue: an open case past its deadline. */
  now?: Date
}

export type HeatTarget = { kind: 'h3'; res: number } | { kind: 'cell' }

export interface Aggregate {
  keys: string[]
  values: number[]
}

export interface CaseStoreOptions {
  /** How old the columns may be before a request refreshes them, ms. 1,000: a leader's screen is at most a second behind. */
  maxStaleMs?: number
  /** How far below the highest id a skipped id is still looked for (late commits). 10,000 covers any intake burst or history chunk in flight. */
  lookbackIds?: number
  /** Rows per read while loading. 50,000 keeps one read's rows under ≈ 30 MB. */
  chunk?: number
}

export class CaseStore {
  n = 0
  private cap = 0
  private id = new Float64Array(0)
  private t = new Uint32Array(0)
  private hex = new Int32Array(0)
  private cellIx = new Int32Array(0)
  private matterIx = new Uint16Array(0)
  private status = new Uint8Array(0)
  private late = new Uint8Array(0)
  private due = new Uint32Array(0)
  readonly hexes = new HexDictionary()
  readonly cells = new Dictionary()
  readonly matters = new Dictionary()
  /** Row of each case that may still change (open). */
  private readonly tracked = new Map<number, number>()
  /** Ids skipped below maxId, still recent enough to be committed late. */
  private readonly holes = new Set<number>()
  private maxId = 0
  private lastRefresh = -Infinity
  private running: Promise<void> | null = null
  private readonly maxStaleMs: number
  private readonly lookback: number
  private readonly chunk: number

  constructor(private readonly source: CaseSource, opts: CaseStoreOptions = {}) {
    this.maxStaleMs = opts.maxStaleMs ?? 1000
    this.lookback = opts.lookbackIds ?? 10_000
    this.chunk = opts.chunk ?? 50_000
  }

  /** Brings the columns up to date unless they are fresher than maxStaleMs. */
  async refresh(force = false): Promise<void> {
    if (this.running) return this.running
    if (!force && performance.now() - this.lastRefresh < this.maxStaleMs) return
    this.running = this.sync().finally(() => { this.running = null })
    return this.running
  }

  /** Forgets everything (the grid changed: cell codes may mean other places); the next refresh reloads. */
  reset(): void {
    this.n = 0
    this.tracked.clear()
    this.holes.clear()
    this.maxId = 0
    this.lastRefresh = -Infinity
  }

  private async sync(): Promise<void> {
    const started = performance.now()
    // Open cases and recent holes, by id: their status and deadline may have moved, or they were committed late.
    const again: number[] = [...this.holes]
    for (const [id, row] of this.tracked) if (!TERMINAL[this.status[row]]) again.push(id)
    for (const f of await this.source.byIds(again)) this.put(f)
    for (;;) {
      const rows = await this.source.after(this.maxId, this.chunk)
      for (const f of rows) this.put(f)
      this.settle()
      if (rows.length < this.chunk) break
    }
    this.lastRefresh = started
  }

  private grow(): void {
    const cap = Math.max(1024, this.cap * 2)
    const g = <T extends Float64Array | Uint32Array | Int32Array | Uint16Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap)
      b.set(a)
      return b
    }
    this.id = g(this.id, (n) => new Float64Array(n))
    this.t = g(this.t, (n) => new Uint32Array(n))
    this.hex = g(this.hex, (n) => new Int32Array(n))
    this.cellIx = g(this.cellIx, (n) => new Int32Array(n))
    this.matterIx = g(this.matterIx, (n) => new Uint16Array(n))
    this.status = g(this.status, (n) => new Uint8Array(n))
    this.late = g(this.late, (n) => new Uint8Array(n))
    this.due = g(this.due, (n) => new Uint32Array(n))
    this.cap = cap
  }

  /**
   * Adds a case, or updates the facts of one already held. New cases come in id
   * order, except those filling a hole.
   */
  put(f: CaseFact): void {
    let row = this.tracked.get(f.id)
    if (row === undefined) {
      if (f.id <= this.maxId && !this.holes.delete(f.id)) return
      if (f.id > this.maxId) {
        // Ids skipped on the way up may still be committed; a jump beyond the look-back is a sequence gap.
        for (let h = Math.max(this.maxId + 1, f.id - this.lookback); h < f.id; h++) this.holes.add(h)
        this.maxId = f.id
      }
      if (this.n === this.cap) this.grow()
      row = this.n++
      this.id[row] = f.id
      this.t[row] = toSec(f.t)
      this.hex[row] = this.hexes.slot(latLngToCell(f.lat, f.lon, BASE_RES))
      this.cellIx[row] = this.cells.id(f.cell.trim())
      this.matterIx[row] = this.matters.id(f.matter)
      this.tracked.set(f.id, row)
    }
    this.status[row] = STATUS_ID.get(f.status) ?? 0
    this.due[row] = f.due === null ? 0 : toSec(f.due)
    this.late[row] = f.late ? 1 : 0
  }

  /** Stops watching closed and voided cases (they never change) and holes older than the look-back. */
  settle(): void {
    for (const [id, row] of this.tracked) if (TERMINAL[this.status[row]]) this.tracked.delete(id)
    const oldest = this.maxId - this.lookback
    for (const h of this.holes) if (h <= oldest) this.holes.delete(h)
  }

  /**
   * Sums cases (weighted) per H3 cell at `res` or per grid cell; only non-zero units are returned.
   * @example store.aggregate({ from, to, matter: '11010506', overdueWeight: 3 }, { kind: 'h3', res: 8 })
   */
  aggregate(f: HeatFilter, target: HeatTarget): Aggregate {
    const from = secOf(f.from)
    const to = secOf(f.to)
    const now = secOf(f.now ?? new Date())
    const ow = f.overdueWeight ?? 1
    let matterMask: Uint8Array | null = null
    if (f.matter) {
      matterMask = new Uint8Array(Math.max(1, this.matters.size))
      const m = f.matter
      this.matters.values.forEach((code, i) => { if (code.startsWith(m)) matterMask![i] = 1 })
    }
    let statusMask: Uint8Array | null = null
    if (f.statuses) {
      statusMask = new Uint8Array(STATUSES.length)
      for (const s of f.statuses) statusMask[STATUS_ID.get(s) ?? 0] = 1
    }
    let map: Int32Array | null
    let dict: Dictionary
    let src: Int32Array
    if (target.kind === 'cell') {
      map = null
      dict = this.cells
      src = this.cellIx
    } else {
      if (target.res < MIN_RES || target.res > BASE_RES) throw new RangeError(`resolution ${target.res} outside ${MIN_RES}–${BASE_RES}`)
      map = target.res === BASE_RES ? null : this.hexes.parent[target.res]
      dict = this.hexes.byRes[target.res]
      src = this.hex
    }
    const acc = new Float64Array(dict.size)
    const { t, matterIx, status, late, due } = this
    for (let i = 0, n = this.n; i < n; i++) {
      const ti = t[i]
      if (ti < from || ti >= to) continue
      if (matterMask !== null && matterMask[matterIx[i]] === 0) continue
      const st = status[i]
      if (statusMask !== null && statusMask[st] === 0) continue
      let w = 1
      if (ow !== 1 && (late[i] === 1 || (TERMINAL[st] === 0 && due[i] !== 0 && due[i] < now))) w = ow
      const k = src[i]
      acc[map === null ? k : map[k]] += w
    }
    const keys: string[] = []
    const values: number[] = []
    for (let k = 0; k < acc.length; k++) {
      if (acc[k] !== 0) {
        keys.push(dict.values[k])
        values.push(acc[k])
      }
    }
    return { keys, values }
  }
}
