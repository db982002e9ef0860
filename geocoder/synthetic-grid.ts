/**
 * A seeded synthetic grid for the geocoder's tests and benchmark, shaped like
 * Chaoyang's: ≈ 470.8 km² around its centre, small cells in the middle and
 * merged 2 × 2 cells towards the edge, an irregular outline with a few
 * enclaves, cells with holes filled by another cell, MultiPolygon cells, and
 * every shared edge carrying the same vertices on both sides (as a topology-
 * clean import would). `grids/generate.ts` makes the realistic one; this one
 * exists so the geocoder can be tested without it and at any size.
 */
import type { MultiPolygon, Polygon, Position } from 'geojson'
import { metresPerDegLat, metresPerDegLon } from './geodesy.ts'
import type { CellRecord } from './types.ts'

export interface SyntheticGridOptions {
  /** Exact number of cells wanted. */
  cells: number
  seed: number
  /** Area of the district in km². */
  areaKm2?: number
  /** Centre lon/lat. */
  centre?: [number, number]
}

/** Chaoyang district's area and rough centre. */
const CHAOYANG_KM2 = 470.8
const CHAOYANG_CENTRE: [number, number] = [116.52, 39.95]

/** sfc32 seeded stream in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = 0x9e3779b9
  let b = 0x243f6a88
  let c = 0xb7e15162
  let d = seed | 0
  const next = (): number => {
    a |= 0
    b |= 0
    c |= 0
    d |= 0
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
  for (let i = 0; i < 16; i++) next()
  return next
}

/** Rounds to 1e-7° (≈ 1 cm), as coordinates arrive from a GeoJSON import. */
const round7 = (v: number): number => Math.round(v * 1e7) / 1e7

interface Draft {
  /** Anchor quad, for codes and trimming. */
  i: number
  j: number
  polygons: Position[][][]
}

/**
 * Generates exactly `cells` cells.
 *
 * @example syntheticGrid({ cells: 8423, seed: 1 }).length // 8423
 */
export function syntheticGrid(opts: SyntheticGridOptions): CellRecord[] {
  const area = (opts.areaKm2 ?? CHAOYANG_KM2) * 1e6
  let side = Math.sqrt(area / opts.cells) * 0.9
  for (let attempt = 0; attempt < 20; attempt++) {
    const drafts = draftCells(opts, side, area)
    if (drafts.length >= opts.cells) return finish(drafts, opts.cells)
    side *= Math.sqrt(drafts.length / opts.cells) * 0.97
  }
  throw new Error('synthetic grid: could not reach the cell count')
}

function draftCells(opts: SyntheticGridOptions, side: number, area: number): Draft[] {
  const rnd = seededRandom(opts.seed)
  const [lon0, lat0] = opts.centre ?? CHAOYANG_CENTRE
  const kx = metresPerDegLon(lat0)
  const ky = metresPerDegLat(lat0)
  // The outline: an ellipse of the wanted area, its radius wobbling with the angle.
  const r0 = Math.sqrt(area / Math.PI)
  const ph1 = rnd() * 6.28
  const ph2 = rnd() * 6.28
  const radius = (t: number): number => r0 * (1 + 0.18 * Math.sin(3 * t + ph1) + 0.07 * Math.sin(7 * t + ph2))
  const n = Math.ceil((2.6 * r0) / side)
  const inside = (i: number, j: number): boolean => {
    const x = (i + 0.5 - n / 2) * side / 0.8 // elongated north–south, like Chaoyang
    const y = (j + 0.5 - n / 2) * side * 0.8
    return Math.hypot(x, y) < radius(Math.atan2(y, x))
  }
  const sLon = side / kx
  const sLat = side / ky
  const vx = new Float64Array((n + 1) * (n + 1))
  const vy = new Float64Array((n + 1) * (n + 1))
  for (let j = 0; j <= n; j++) {
    for (let i = 0; i <= n; i++) {
      vx[j * (n + 1) + i] = round7(lon0 + (i - n / 2 + (rnd() - 0.5) * 0.6) * sLon)
      vy[j * (n + 1) + i] = round7(lat0 + (j - n / 2 + (rnd() - 0.5) * 0.6) * sLat)
    }
  }
  const v = (i: number, j: number): Position => [vx[j * (n + 1) + i], vy[j * (n + 1) + i]]
  // Interior points of each lattice edge, shared by the two cells on either side.
  const edgePts = (a: Position, b: Position): Position[] => {
    const m = Math.floor(rnd() * 3)
    const out: Position[] = []
    const dx = b[0] - a[0]
    const dy = b[1] - a[1]
    for (let k = 1; k <= m; k++) {
      const t = k / (m + 1)
      const off = (rnd() - 0.5) * 0.2
      out.push([round7(a[0] + t * dx - off * dy * (sLon / sLat)), round7(a[1] + t * dy + off * dx * (sLat / sLon))])
    }
    return out
  }
  const hEdge: Position[][] = []
  const vEdge: Position[][] = []
  for (let j = 0; j <= n; j++) for (let i = 0; i < n; i++) hEdge[j * n + i] = edgePts(v(i, j), v(i + 1, j))
  for (let j = 0; j < n; j++) for (let i = 0; i <= n; i++) vEdge[j * (n + 1) + i] = edgePts(v(i, j), v(i, j + 1))

  /** Counter-clockwise ring around quads [i0, i1) × [j0, j1). */
  const blockRing = (i0: number, j0: number, i1: number, j1: number): Position[] => {
    const ring: Position[] = []
    for (let i = i0; i < i1; i++) ring.push(v(i, j0), ...hEdge[j0 * n + i])
    for (let j = j0; j < j1; j++) ring.push(v(i1, j), ...vEdge[j * (n + 1) + i1])
    for (let i = i1 - 1; i >= i0; i--) ring.push(v(i + 1, j1), ...[...hEdge[j1 * n + i]].reverse())
    for (let j = j1 - 1; j >= j0; j--) ring.push(v(i0, j + 1), ...[...vEdge[j * (n + 1) + i0]].reverse())
    ring.push(ring[0])
    return ring
  }

  const used = new Uint8Array(n * n)
  const free = (i0: number, j0: number, i1: number, j1: number): boolean => {
    for (let j = j0; j < j1; j++) for (let i = i0; i < i1; i++) if (i >= n || j >= n || used[j * n + i] || !inside(i, j)) return false
    return true
  }
  const take = (i0: number, j0: number, i1: number, j1: number): void => {
    for (let j = j0; j < j1; j++) for (let i = i0; i < i1; i++) used[j * n + i] = 1
  }
  const drafts: Draft[] = []
  for (let J = 0; J < n; J += 6) {
    for (let I = 0; I < n; I += 6) {
      const rural = Math.hypot(I + 3 - n / 2, J + 3 - n / 2) > 0.3 * n
      const pattern = rnd()
      if (!rural && pattern < 0.08 && free(I, J, I + 3, J + 3)) {
        // A cell with a hole, the hole being another cell.
        const hole = blockRing(I + 1, J + 1, I + 2, J + 2).reverse()
        drafts.push({ i: I, j: J, polygons: [[blockRing(I, J, I + 3, J + 3), hole]] })
        drafts.push({ i: I + 1, j: J + 1, polygons: [[blockRing(I + 1, J + 1, I + 2, J + 2)]] })
        take(I, J, I + 3, J + 3)
      } else if (!rural && pattern < 0.16 && free(I, J + 4, I + 3, J + 5)) {
        // A MultiPolygon cell split by a neighbour.
        drafts.push({ i: I, j: J + 4, polygons: [[blockRing(I, J + 4, I + 1, J + 5)], [blockRing(I + 2, J + 4, I + 3, J + 5)]] })
        drafts.push({ i: I + 1, j: J + 4, polygons: [[blockRing(I + 1, J + 4, I + 2, J + 5)]] })
        take(I, J + 4, I + 3, J + 5)
      }
      for (let j = J; j < J + 6; j++) {
        for (let i = I; i < I + 6; i++) {
          if (rural && (i - I) % 2 === 0 && (j - J) % 2 === 0 && free(i, j, i + 2, j + 2)) {
            drafts.push({ i, j, polygons: [[blockRing(i, j, i + 2, j + 2)]] })
            take(i, j, i + 2, j + 2)
          } else if (free(i, j, i + 1, j + 1)) {
            drafts.push({ i, j, polygons: [[blockRing(i, j, i + 1, j + 1)]] })
            take(i, j, i + 1, j + 1)
          }
        }
      }
    }
  }
  // A few enclaves: single cells dropped from the middle leave holes in the district.
  const centre = drafts.filter((d) => d.polygons.length === 1 && d.polygons[0].length === 1 && Math.hypot(d.i - n / 2, d.j - n / 2) < 0.2 * n)
  const drop = new Set<Draft>()
  for (let k = 0; k < 3 && centre.length > 0; k++) drop.add(centre[Math.floor(rnd() * centre.length)])
  return drafts.filter((d) => !drop.has(d)).map((d) => ({ ...d, i: d.i - n / 2, j: d.j - n / 2 }))
}

/** Trims to `count` cells from the outside in, then numbers them like Chaoyang's codes. */
function finish(drafts: Draft[], count: number): CellRecord[] {
  const kept = [...drafts].sort((a, b) => Math.hypot(a.i, a.j) - Math.hypot(b.i, b.j) || a.j - b.j || a.i - b.i).slice(0, count)
  // Subdistricts: a 7 × 7 partition of the lattice (≈ 43 non-empty); communities: 8 × 8 quads.
  const span = Math.max(...kept.map((d) => Math.max(Math.abs(d.i), Math.abs(d.j)))) + 1
  const sub = (d: Draft): number => Math.min(6, Math.floor(((d.i + span) / (2 * span)) * 7)) * 7 + Math.min(6, Math.floor(((d.j + span) / (2 * span)) * 7))
  const comm = (d: Draft): number => Math.floor((d.i + span) / 8) * 10000 + Math.floor((d.j + span) / 8)
  const bySub = new Map<number, Map<number, Draft[]>>()
  for (const d of kept) {
    const s = sub(d)
    const m = bySub.get(s) ?? new Map<number, Draft[]>()
    bySub.set(s, m)
    const c = comm(d)
    m.set(c, [...(m.get(c) ?? []), d])
  }
  const out: CellRecord[] = []
  const subs = [...bySub.keys()].sort((a, b) => a - b)
  subs.forEach((s, si) => {
    const subdistrictCode = `110105${String(si + 1).padStart(3, '0')}`
    const comms = [...bySub.get(s)!.keys()].sort((a, b) => a - b)
    comms.forEach((c, ci) => {
      const communityCode = `${subdistrictCode}${String(ci + 1).padStart(3, '0')}`
      // Numbered west → east, north → south.
      const cells = bySub.get(s)!.get(c)!.sort((a, b) => b.j - a.j || a.i - b.i)
      cells.forEach((d, k) => {
        const geometry: Polygon | MultiPolygon =
          d.polygons.length === 1 ? { type: 'Polygon', coordinates: d.polygons[0] } : { type: 'MultiPolygon', coordinates: d.polygons }
        out.push({ code: `${communityCode}${String(k + 1).padStart(3, '0')}`, communityCode, subdistrictCode, geometry })
      })
    })
  })
  return out
}
