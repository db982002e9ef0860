/**
 * Label points and the district outline from a few decoded community tiles.
 *
 * The outlines of subdistricts and communities are drawn by MapLibre straight
 * from their tiles; two things need the places as a whole: where to write a
 * name (one point per place, not one per tile) and the district's outline
 * (there is no district layer). Both come from the community polygons of the
 * tiles covering the district at one zoom, in tile coordinates:
 * - a place's label point is the area-weighted centroid of its parts, each
 *   part clipped to its tile's own square (the buffer is in two tiles);
 * - the district outline is every edge that one community polygon alone has
 *   inside a tile (neighbours share their edges exactly: the tiles are cut
 *   from one topology), less the cuts the tile clipping made in the buffer.
 */

export interface TileRing { points: [number, number][] }

/** One community polygon of one tile, in that tile's coordinates. */
export interface TileFeature {
  code: string
  name: string
  subdistrict: string
  subdistrictName: string
  /** Rings as decoded (outer and holes; orientation as the tile has it). */
  rings: [number, number][][]
}

export interface DecodedTile { z: number; x: number; y: number; extent: number; features: TileFeature[] }

/** A place name and where to write it; `area` ranks names when they compete for space. */
export interface Label { code: string; name: string; position: [number, number]; area: number }

export interface Places {
  subdistrictLabels: Label[]
  communityLabels: Label[]
  /** District outline segments, [lon, lat] pairs. */
  outline: [number, number][][]
}

type ToLonLat = (tile: DecodedTile, px: number, py: number) => [number, number]

/** Sutherland–Hodgman: a ring clipped to the square 0 … size. */
export function clipRing(ring: [number, number][], size: number): [number, number][] {
  let out = ring
  const edges: [(p: [number, number]) => boolean, (a: [number, number], b: [number, number]) => [number, number]][] = [
    [(p) => p[0] >= 0, (a, b) => [0, a[1] + ((b[1] - a[1]) * (0 - a[0])) / (b[0] - a[0])]],
    [(p) => p[0] <= size, (a, b) => [size, a[1] + ((b[1] - a[1]) * (size - a[0])) / (b[0] - a[0])]],
    [(p) => p[1] >= 0, (a, b) => [a[0] + ((b[0] - a[0]) * (0 - a[1])) / (b[1] - a[1]), 0]],
    [(p) => p[1] <= size, (a, b) => [a[0] + ((b[0] - a[0]) * (size - a[1])) / (b[1] - a[1]), size]],
  ]
  for (const [inside, cut] of edges) {
    const input = out
    out = []
    for (let i = 0; i < input.length; i++) {
      const cur = input[i]
      const prev = input[(i + input.length - 1) % input.length]
      if (inside(cur)) {
        if (!inside(prev)) out.push(cut(prev, cur))
        out.push(cur)
      } else if (inside(prev)) out.push(cut(prev, cur))
    }
    if (!out.length) break
  }
  return out
}

/** Signed area and centroid of a ring (shoelace). */
function ringMoments(ring: [number, number][]): { a: number; cx: number; cy: number } {
  let a = 0
  let cx = 0
  let cy = 0
  for (let i = 0; i < ring.length; i++) {
    const [x1, y1] = ring[i]
    const [x2, y2] = ring[(i + 1) % ring.length]
    const cross = x1 * y2 - x2 * y1
    a += cross
    cx += (x1 + x2) * cross
    cy += (y1 + y2) * cross
  }
  return { a: a / 2, cx, cy }
}

/** Places from decoded tiles; `toLonLat` maps tile coordinates (injected so tests can use a flat plane). */
export function placesFromTiles(tiles: DecodedTile[], toLonLat: ToLonLat): Places {
  interface Acc { name: string; a: number; x: number; y: number }
  const communities = new Map<string, Acc>()
  const subdistricts = new Map<string, Acc>()
  const add = (m: Map<string, Acc>, code: string, name: string, a: number, p: [number, number]): void => {
    let acc = m.get(code)
    if (!acc) {
      acc = { name, a: 0, x: 0, y: 0 }
      m.set(code, acc)
    }
    acc.a += a
    acc.x += p[0] * a
    acc.y += p[1] * a
  }
  const outline: [number, number][][] = []
  for (const tile of tiles) {
    const edges = new Map<string, { a: [number, number]; b: [number, number]; n: number; owner: number }>()
    tile.features.forEach((f, owner) => {
      // Moments of the clipped rings: holes have the opposite sign and subtract themselves.
      let a = 0
      let cx = 0
      let cy = 0
      for (const ring of f.rings) {
        const m = ringMoments(clipRing(ring, tile.extent))
        a += m.a
        cx += m.cx
        cy += m.cy
        for (let i = 0; i + 1 < ring.length; i++) {
          const p = ring[i]
          const q = ring[i + 1]
          if (p[0] === q[0] && p[1] === q[1]) continue
          const k = p[0] < q[0] || (p[0] === q[0] && p[1] < q[1]) ? `${p[0]},${p[1]},${q[0]},${q[1]}` : `${q[0]},${q[1]},${p[0]},${p[1]}`
          const e = edges.get(k)
          if (e) e.n++
          else edges.set(k, { a: p, b: q, n: 1, owner })
        }
      }
      if (Math.abs(a) < 1e-9) return
      const centre = toLonLat(tile, cx / (6 * a), cy / (6 * a))
      const area = Math.abs(a)
      add(communities, f.code, f.name, area, centre)
      add(subdistricts, f.subdistrict, f.subdistrictName, area, centre)
    })
    const out = (v: number): boolean => v < 0 || v > tile.extent
    const once = [...edges.values()].filter((e) => e.n === 1)
    const shared = sharedAlongside(once)
    for (const [i, e] of once.entries()) {
      if (shared[i]) continue
      // A cut made by clipping runs along the buffer's edge, outside the tile's square.
      if ((e.a[0] === e.b[0] && out(e.a[0])) || (e.a[1] === e.b[1] && out(e.a[1]))) continue
      if ((out(e.a[0]) && out(e.b[0])) || (out(e.a[1]) && out(e.b[1]))) continue
      outline.push([toLonLat(tile, e.a[0], e.a[1]), toLonLat(tile, e.b[0], e.b[1])])
    }
  }
  const labels = (m: Map<string, Acc>): Label[] => [...m].map(([code, acc]) => ({
    code,
    name: acc.name,
    position: [acc.x / acc.a, acc.y / acc.a] as [number, number],
    area: acc.a,
  })).sort((x, y) => y.area - x.area)
  return { subdistrictLabels: labels(subdistricts), communityLabels: labels(communities), outline }
}

interface Edge { a: [number, number]; b: [number, number]; owner: number }

/** Distance from p to the segment a–b. */
function toSegment(p: [number, number], a: [number, number], b: [number, number]): number {
  const dx = b[0] - a[0]
  const dy = b[1] - a[1]
  const len2 = dx * dx + dy * dy
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2))
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy))
}

/**
 * Which unmatched edges still lie along another polygon's edge: where one
 * neighbour has a vertex the other lacks (a T-junction, or a vertex the tile's
 * simplification kept on one side only) the shared boundary is split
 * differently on each side and no edge matches exactly. An edge whose
 * midpoint is within a unit of another polygon's unmatched edge is interior.
 */
export function sharedAlongside(edges: Edge[], tolerance = 1.5): boolean[] {
  const CELL = 64
  const grid = new Map<string, number[]>()
  edges.forEach((e, i) => {
    const x0 = Math.floor((Math.min(e.a[0], e.b[0]) - tolerance) / CELL)
    const x1 = Math.floor((Math.max(e.a[0], e.b[0]) + tolerance) / CELL)
    const y0 = Math.floor((Math.min(e.a[1], e.b[1]) - tolerance) / CELL)
    const y1 = Math.floor((Math.max(e.a[1], e.b[1]) + tolerance) / CELL)
    for (let x = x0; x <= x1; x++) {
      for (let y = y0; y <= y1; y++) {
        const k = `${x},${y}`
        const list = grid.get(k)
        if (list) list.push(i)
        else grid.set(k, [i])
      }
    }
  })
  return edges.map((e) => {
    const mid: [number, number] = [(e.a[0] + e.b[0]) / 2, (e.a[1] + e.b[1]) / 2]
    const near = grid.get(`${Math.floor(mid[0] / CELL)},${Math.floor(mid[1] / CELL)}`) ?? []
    return near.some((j) => edges[j].owner !== e.owner && toSegment(mid, edges[j].a, edges[j].b) <= tolerance)
  })
}
