/**
 * A seeded, deterministic generator of a Chaoyang-sized district grid
 * (district → 43 subdistricts → communities → unit cells).
 *
 * Method. Everything is built in a local plane, a cylindrical equal-area
 * projection of the WGS84 ellipsoid (through the authalic sphere) centred on
 * the district, so planar areas are geodesic areas and the total can be set
 * exactly by one uniform scale.
 *  1. Layout: the 43 real subdistricts get anchors at their approximate real
 *     places, an area share and a relative cell size (urban 街道 small, rural
 *     乡/地区 large). The outline is the radial envelope of disks around the
 *     anchors, smoothed and perturbed by seeded harmonics: star-shaped,
 *     irregular, shaped like the real layout. A cell-size field is the
 *     inverse-distance blend of the anchors' cell sizes.
 *  2. Sites: the plane is cut into super-blocks (Voronoi of sparse seeds, each
 *     with its own street-grid angle, mostly north–south as in Beijing).
 *     Inside each, a rectangle is split again and again along its longer
 *     side, largest first relative to the cell-size field, until exactly N
 *     rectangle centres (jittered) lie inside the outline. Rectangles away
 *     from the outline stop early and only frame it. Randomness is hashed from
 *     the split path, not drawn from a stream, so it does not depend on order.
 *  3. Cells: the Voronoi diagram of all sites (d3-delaunay); the district is
 *     the cells of inside sites, checked to be one piece without holes and
 *     trimmed to exactly N at the boundary. Rings are read from the Delaunay
 *     triangle fans, so neighbours share the very same vertices; vertices
 *     closer than 5 cm are merged so that rounding to 7 decimals (~1 cm)
 *     collapses no edge, and every vertex is rounded once.
 *  4. Subdistricts: seeded region growing over cell adjacency from the
 *     anchors, cheapest first by a weighted distance (weights tuned to the
 *     area shares) in a noise-warped plane, so each subdistrict is one piece
 *     by construction, with organic borders that follow cell edges.
 *     Communities (~17 cells each): k-means seeds inside each subdistrict,
 *     region growing the same way with weights tuned towards equal cell
 *     counts, and the few very small ones merged into a neighbour.
 *  5. Codes: communities and cells are numbered in reading order (rows north
 *     to south, banded by the local size; west to east within a row).
 */
import { Delaunay } from 'd3-delaunay'
import type { Feature, FeatureCollection, MultiPolygon, Polygon, Position } from 'geojson'
import { createNoise2D, createRandom, hash32, hashUnit, type Random } from './random.ts'

/** Properties of one unit cell feature. */
export interface CellProperties {
  /** 15 characters: district (6) + subdistrict (3) + community (3) + cell (3). */
  code: string
  /** 12 characters: subdistrict code + 3-digit community sequence. */
  community_code: string
  community_name: string
  /** 9 characters, GB/T 10114 township code. */
  subdistrict_code: string
  subdistrict_name: string
  district_code: string
  district_name: string
}

/** The generated grid: one feature per unit cell, sorted by code. */
export type GridFeatureCollection = FeatureCollection<Polygon | MultiPolygon, CellProperties>

/** Options of `generateGrid`. */
export interface GenerateOptions {
  /** Seed of every random choice; default 20050101. */
  seed?: number
  /** Exact number of unit cells; default 8,423 (Chaoyang's). Communities scale with it. */
  cells?: number
  /** Total geodesic area of the district in km²; default 470.8 (Chaoyang's). */
  areaKm2?: number
  /** [lon, lat] WGS84 of the district's centroid; default [116.49, 39.95]. */
  center?: [number, number]
  /** Called as stages start (done 0) and end (done = total), and now and then in between. */
  onProgress?: (stage: string, done: number, total: number) => void
}

/** A subdistrict (街道) or township (地区/乡) of the generated district. */
export interface SubdistrictInfo {
  /** 9-digit code. */
  code: string
  /** Full name, as `ext_name` in the townships list (e.g. 建外街道). */
  name: string
  /** Short name, as `name` in the townships list. */
  shortName: string
  pinyin: string
  kind: '街道' | '地区' | '乡'
}

// the seed of the published grid: the year Chaoyang's grid was introduced
const DEFAULT_SEED = 20050101
// unit cells of Chaoyang's grid since 2005
const DEFAULT_CELLS = 8423
// Chaoyang's published area
const DEFAULT_AREA_KM2 = 470.8
// near the district's middle, between Chaoyang Park and Dongba
const DEFAULT_CENTER: [number, number] = [116.49, 39.95]
export const DISTRICT_CODE = '110105'
export const DISTRICT_NAME = '朝阳区'
// real communities hold about 8,423 / 500 cells; kept for larger grids too
const CELLS_PER_COMMUNITY = 17
// the 3-digit sequences of the code
const MAX_SEQUENCE = 999

type LayoutRow = readonly [
  code: string,
  name: string,
  shortName: string,
  pinyin: string,
  lon: number,
  lat: number,
  areaKm2: number,
  cellScale: number,
]

// Codes, names and pinyin are those of beijing-townships.csv (xiangyuecn/AreaCity-JsSpider-StatsGov, MIT).
// Places are approximate real centres (their relative layout is kept; the whole is moved so
// that the district's centroid is the asked centre); areas are rough shares; cellScale is the
// cell area relative to the urban core's.
const CHAOYANG: readonly LayoutRow[] = [
  ['110105001', '建外街道', '建外', 'jian wai', 116.455, 39.905, 3.1, 1],
  ['110105002', '朝外街道', '朝外', 'chao wai', 116.44, 39.922, 1.7, 1],
  ['110105003', '呼家楼街道', '呼家楼', 'hu jia lou', 116.462, 39.921, 2.2, 1],
  ['110105004', '三里屯街道', '三里屯', 'san li tun', 116.452, 39.935, 1.5, 1],
  ['110105005', '左家庄街道', '左家庄', 'zuo jia zhuang', 116.438, 39.953, 2.8, 1],
  ['110105006', '香河园街道', '香河园', 'xiang he yuan', 116.424, 39.957, 1.7, 1],
  ['110105007', '和平街街道', '和平街', 'he ping jie', 116.418, 39.969, 2.2, 1],
  ['110105008', '安贞街道', '安贞', 'an zhen', 116.405, 39.975, 2.2, 1],
  ['110105009', '亚运村街道', '亚运村', 'ya yun cun', 116.4, 39.993, 4.5, 1.1],
  ['110105010', '小关街道', '小关', 'xiao guan', 116.42, 39.984, 2, 1],
  ['110105011', '酒仙桥街道', '酒仙桥', 'jiu xian qiao', 116.492, 39.97, 5, 1.3],
  ['110105012', '麦子店街道', '麦子店', 'mai zi dian', 116.468, 39.947, 6.8, 1.2],
  ['110105013', '团结湖街道', '团结湖', 'tuan jie hu', 116.466, 39.931, 1.3, 1],
  ['110105014', '六里屯街道', '六里屯', 'liu li tun', 116.484, 39.928, 4, 1.1],
  ['110105015', '八里庄街道', '八里庄', 'ba li zhuang', 116.495, 39.914, 5.5, 1.2],
  ['110105016', '双井街道', '双井', 'shuang jing', 116.462, 39.893, 5, 1],
  ['110105017', '劲松街道', '劲松', 'jing song', 116.463, 39.88, 3.5, 1],
  ['110105018', '潘家园街道', '潘家园', 'pan jia yuan', 116.456, 39.868, 3.5, 1.1],
  ['110105019', '垡头街道', '垡头', 'fa tou', 116.52, 39.858, 5, 2],
  ['110105021', '南磨房地区', '南磨房地区', 'nan mo fang di qu', 116.49, 39.882, 10, 6],
  ['110105022', '高碑店地区', '高碑店地区', 'gao bei dian di qu', 116.525, 39.905, 12, 8],
  ['110105025', '大屯街道', '大屯', 'da tun', 116.415, 40.007, 7.5, 1.3],
  ['110105026', '望京街道', '望京', 'wang jing', 116.475, 39.995, 6.5, 1.2],
  ['110105028', '十八里店地区', '十八里店地区', 'shi ba li dian di qu', 116.48, 39.845, 30, 20],
  ['110105031', '奥运村街道', '奥运村', 'ao yun cun', 116.395, 40.012, 13, 2.5],
  ['110105034', '三间房地区', '三间房地区', 'san jian fang di qu', 116.565, 39.92, 14, 12],
  ['110105035', '管庄地区', '管庄地区', 'guan zhuang di qu', 116.6, 39.91, 22, 24],
  ['110105040', '黑庄户地区', '黑庄户地区', 'hei zhuang hu di qu', 116.61, 39.845, 32, 44],
  ['110105041', '豆各庄地区', '豆各庄地区', 'dou ge zhuang di qu', 116.56, 39.86, 24, 32],
  ['110105042', '王四营地区', '王四营地区', 'wang si ying di qu', 116.52, 39.878, 14, 12],
  ['110105043', '首都机场街道', '首都机场', 'shou du ji chang', 116.6, 40.078, 6, 3],
  ['110105044', '东湖街道', '东湖', 'dong hu', 116.487, 40.01, 4, 1.3],
  ['110105223', '将台乡', '将台', 'jiang tai', 116.51, 39.978, 18, 8],
  ['110105224', '太阳宫乡', '太阳宫', 'tai yang gong', 116.445, 39.972, 8, 6],
  ['110105227', '小红门乡', '小红门', 'xiao hong men', 116.44, 39.842, 17, 16],
  ['110105229', '平房乡', '平房', 'ping fang', 116.545, 39.945, 16, 12],
  ['110105230', '东风乡', '东风', 'dong feng', 116.49, 39.952, 12, 8],
  ['110105232', '来广营乡', '来广营', 'lai guang ying', 116.455, 40.03, 22, 16],
  ['110105233', '常营回族乡', '常营', 'chang ying', 116.6, 39.935, 9, 12],
  ['110105236', '金盏乡', '金盏', 'jin zhan', 116.645, 39.995, 49, 44],
  ['110105237', '孙河乡', '孙河', 'sun he', 116.53, 40.058, 28, 40],
  ['110105238', '崔各庄乡', '崔各庄', 'cui ge zhuang', 116.52, 40.02, 33, 32],
  ['110105239', '东坝乡', '东坝', 'dong ba', 116.56, 39.98, 30, 24],
]

// the anchors above are measured from here; the layout is then moved to the asked centre
const REFERENCE_CENTER: [number, number] = [116.49, 39.95]

/** The 43 subdistricts and townships of Chaoyang (110105), by code. */
export const CHAOYANG_SUBDISTRICTS: readonly SubdistrictInfo[] = CHAOYANG.map(
  ([code, name, shortName, pinyin]) => ({
    code,
    name,
    shortName,
    pinyin,
    kind: name.endsWith('街道') ? '街道' : name.endsWith('地区') ? '地区' : '乡',
  }),
)

/**
 * Generates the unit grid of a Chaoyang-like district: exactly `cells` cells
 * tiling an irregular district of `areaKm2` (geodesic, on the WGS84
 * ellipsoid) without gaps or overlaps, grouped into contiguous communities
 * and the 43 real subdistricts. The same options give byte-identical output.
 * Coordinates are rounded to 7 decimals; rings are counter-clockwise.
 *
 * @throws RangeError when an option is out of range (e.g. fewer than 860 cells)
 * @example
 * const grid = generateGrid({ seed: 1, cells: 8423 })
 * grid.features[0].properties.code // '110105001001001'
 */
export function generateGrid(opts: GenerateOptions = {}): GridFeatureCollection {
  const seed = opts.seed ?? DEFAULT_SEED
  const target = opts.cells ?? DEFAULT_CELLS
  const areaKm2 = opts.areaKm2 ?? DEFAULT_AREA_KM2
  const center = opts.center ?? DEFAULT_CENTER
  const progress = opts.onProgress ?? ((): void => {})
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`)
  // fewer cells than this leave some subdistricts without a cell of their own
  if (!Number.isInteger(target) || target < 20 * CHAOYANG.length) {
    throw new RangeError(`cells must be an integer ≥ ${20 * CHAOYANG.length}, got ${target}`)
  }
  if (target > 2_000_000) throw new RangeError(`cells must be ≤ 2,000,000, got ${target}`)
  if (!(areaKm2 > 1 && areaKm2 < 100_000)) throw new RangeError(`areaKm2 out of range: ${areaKm2}`)
  const [lon0, lat0] = center
  if (!(Math.abs(lon0) <= 180 && Math.abs(lat0) <= 80)) throw new RangeError(`bad center: ${center.join(',')}`)

  const areaM2 = areaKm2 * 1e6
  progress('layout', 0, 1)
  const layout = buildLayout(seed, areaM2)
  progress('layout', 1, 1)
  const sites = placeSites(layout, seed, target, progress)
  progress('voronoi', 0, 1)
  const topo = buildTopology(sites.xy)
  progress('voronoi', 1, 1)
  progress('district', 0, 1)
  const cellSites = selectDistrict(topo, sites.inside, layout, target)
  const cells = cellGeometry(topo, cellSites, areaM2)
  progress('district', 1, 1)
  progress('subdistricts', 0, 1)
  const sub = assignSubdistricts(cells, layout, seed)
  progress('subdistricts', 1, 1)
  progress('communities', 0, 1)
  const comm = assignCommunities(cells, sub, layout, seed)
  progress('communities', 1, 1)
  progress('features', 0, cells.count)
  const fc = buildFeatures(cells, sub, comm, equalAreaProjection(lon0, lat0), progress)
  progress('features', cells.count, cells.count)
  return fc
}

// ---------------------------------------------------------------- projection

const WGS84_A = 6378137
const WGS84_F = 1 / 298.257223563
const E2 = WGS84_F * (2 - WGS84_F)
const ECC = Math.sqrt(E2)
const DEG = Math.PI / 180

function authalicQ(sinPhi: number): number {
  return (1 - E2) * (sinPhi / (1 - E2 * sinPhi * sinPhi) - Math.log((1 - ECC * sinPhi) / (1 + ECC * sinPhi)) / (2 * ECC))
}
const QP = authalicQ(1)
// radius of the sphere with the ellipsoid's area
const RQ = WGS84_A * Math.sqrt(QP / 2)

/**
 * Area in m² of a GeoJSON polygon's rings ([exterior, ...holes], lon/lat) on
 * the WGS84 ellipsoid, as PostGIS `ST_Area(geography)` gives it. Exact for
 * edges straight in an equal-area cylindrical projection, which differ from
 * geodesics by far less than a square metre at cell sizes.
 *
 * @example polygonAreaWgs84(feature.geometry.coordinates) // ≈ 10000 for an urban cell
 */
export function polygonAreaWgs84(rings: Position[][]): number {
  let total = 0
  rings.forEach((ring, r) => {
    let a = 0
    for (let i = 0; i + 1 < ring.length; i++) {
      const s1 = authalicQ(Math.sin(ring[i][1] * DEG)) / QP
      const s2 = authalicQ(Math.sin(ring[i + 1][1] * DEG)) / QP
      let dl = ring[i + 1][0] - ring[i][0]
      // an edge across the antimeridian is the short way round
      if (dl > 180) dl -= 360
      else if (dl < -180) dl += 360
      a += (dl * DEG * (s1 + s2)) / 2
    }
    total += (r === 0 ? 1 : -1) * Math.abs(a) * RQ * RQ
  })
  return total
}

interface Projection {
  forward(lon: number, lat: number): [number, number]
  inverse(x: number, y: number): [number, number]
}

/** Lambert cylindrical equal-area on the authalic sphere, true scale at lat0: planar area = ellipsoidal area. */
function equalAreaProjection(lon0: number, lat0: number): Projection {
  const q0 = authalicQ(Math.sin(lat0 * DEG))
  const k = Math.cos(Math.asin(q0 / QP))
  const y0 = (RQ * q0) / QP / k
  return {
    forward: (lon, lat) => [RQ * k * (lon - lon0) * DEG, (RQ * authalicQ(Math.sin(lat * DEG))) / QP / k - y0],
    inverse: (x, y) => {
      const q = ((y + y0) * k * QP) / RQ
      // Newton on the latitude (Snyder 3-16); a fixed count keeps it deterministic, 4 reach 1e-15
      let phi = Math.asin(q / 2)
      for (let i = 0; i < 4; i++) {
        const s = Math.sin(phi)
        const w = 1 - E2 * s * s
        phi += ((w * w) / (2 * Math.cos(phi))) * (q / (1 - E2) - s / w + Math.log((1 - ECC * s) / (1 + ECC * s)) / (2 * ECC))
      }
      return [lon0 + x / (RQ * k) / DEG, phi / DEG]
    },
  }
}

// -------------------------------------------------------------------- layout

interface Anchor {
  x: number
  y: number
  /** Target area, m². */
  area: number
  /** Relative cell area. */
  scale: number
}

interface Layout {
  areaM2: number
  anchors: Anchor[]
  /** Polar outline: centre and radii at equal angle steps from +x, counter-clockwise. */
  cx: number
  cy: number
  radii: Float64Array
  minX: number
  minY: number
  maxX: number
  maxY: number
  /** Relative cell area at a point: 1 in the urban core, ~20 in rural townships. */
  density: (x: number, y: number) => number
  /** Amplitude and wavelength (m) of the outline's local warp, and its noise. */
  wiggle: number
  wiggleLength: number
  noiseX: (x: number, y: number) => number
  noiseY: (x: number, y: number) => number
}

const OUTLINE_SAMPLES = 512

/** Positive inside the outline: how far inside, measured along the ray from its centre. */
function outlineMargin(l: Layout, x: number, y: number): number {
  // a small smooth warp bends the star-shaped outline locally, as rivers and roads bend real borders
  const dx = x + l.wiggle * l.noiseX(x / l.wiggleLength, y / l.wiggleLength) - l.cx
  const dy = y + l.wiggle * l.noiseY(x / l.wiggleLength, y / l.wiggleLength) - l.cy
  let t = (Math.atan2(dy, dx) / (2 * Math.PI)) * OUTLINE_SAMPLES
  if (t < 0) t += OUTLINE_SAMPLES
  const i = Math.floor(t) % OUTLINE_SAMPLES
  const f = t - Math.floor(t)
  const r = l.radii[i] * (1 - f) + l.radii[(i + 1) % OUTLINE_SAMPLES] * f
  return r - Math.hypot(dx, dy)
}

function buildLayout(seed: number, areaM2: number): Layout {
  const rand = createRandom(hash32(seed, 0x1a70))
  const ref = equalAreaProjection(REFERENCE_CENTER[0], REFERENCE_CENTER[1])
  const weightSum = CHAOYANG.reduce((s, r) => s + r[6], 0)
  // seeded jitter, so another seed moves the subdistricts a little as well as the streets
  const anchors: Anchor[] = CHAOYANG.map((r) => {
    const [x, y] = ref.forward(r[4], r[5])
    return { x: x + rand.range(-250, 250), y: y + rand.range(-250, 250), area: r[6] / weightSum, scale: r[7] }
  })
  let cx = 0
  let cy = 0
  for (const a of anchors) {
    cx += a.x * a.area
    cy += a.y * a.area
  }

  // the radial envelope of disks of each anchor's size makes the outline follow the real layout
  const env = new Float64Array(OUTLINE_SAMPLES)
  for (let j = 0; j < OUTLINE_SAMPLES; j++) {
    const th = (2 * Math.PI * j) / OUTLINE_SAMPLES
    const ux = Math.cos(th)
    const uy = Math.sin(th)
    let best = 0
    for (const a of anchors) {
      const rho = 1.15 * Math.sqrt((a.area * weightSum * 1e6) / Math.PI)
      const dx = a.x - cx
      const dy = a.y - cy
      const along = dx * ux + dy * uy
      const perp2 = dx * dx + dy * dy - along * along
      if (perp2 < rho * rho) best = Math.max(best, along + Math.sqrt(rho * rho - perp2))
    }
    env[j] = best
  }
  let radii = smoothCircular(env, 8, 3)
  const phases = Array.from({ length: 20 }, () => [rand.range(0, 2 * Math.PI), rand.range(0.5, 1.5)])
  let mean = 0
  for (let j = 0; j < OUTLINE_SAMPLES; j++) mean += radii[j] / OUTLINE_SAMPLES
  for (let j = 0; j < OUTLINE_SAMPLES; j++) {
    const th = (2 * Math.PI * j) / OUTLINE_SAMPLES
    let f = 1
    for (let k = 2; k < 20; k++) f += ((0.06 * phases[k][1]) / k ** 0.8) * Math.sin(k * th + phases[k][0])
    // a floor keeps the outline from pinching to a point
    radii[j] = Math.max(0.35 * mean, radii[j] * f)
  }

  // scale to the asked area, and put the outline's centroid at the origin (the asked centre):
  // the real layout's centroid lies ~3.5 km east of 116.49 E, so everything moves that far west
  const { area, x: gx, y: gy } = ringAreaCentroid(polarRing(radii, 0, 0))
  const f = Math.sqrt(areaM2 / area)
  radii = radii.map((r) => r * f)
  for (const a of anchors) {
    a.x = (a.x - cx - gx) * f
    a.y = (a.y - cy - gy) * f
    a.area *= areaM2
  }
  const ox = -gx * f
  const oy = -gy * f
  const outline = polarRing(radii, ox, oy)
  let minX = Infinity
  let minY = Infinity
  let maxX = -Infinity
  let maxY = -Infinity
  for (let i = 0; i < outline.length; i += 2) {
    minX = Math.min(minX, outline[i])
    maxX = Math.max(maxX, outline[i])
    minY = Math.min(minY, outline[i + 1])
    maxY = Math.max(maxY, outline[i + 1])
  }
  const density = densityField(anchors, minX, minY, maxX, maxY, Math.sqrt(areaM2))
  // amplitude / wavelength stays well under 1/π, so the warp folds nothing over
  const side = Math.sqrt(areaM2)
  const wiggle = 0.022 * side
  const wiggleLength = 0.13 * side
  const noiseX = createNoise2D(hash32(seed, 0xed6e, 1))
  const noiseY = createNoise2D(hash32(seed, 0xed6e, 2))
  return { areaM2, anchors, cx: ox, cy: oy, radii, minX, minY, maxX, maxY, density, wiggle, wiggleLength, noiseX, noiseY }
}

function smoothCircular(values: Float64Array, halfWidth: number, passes: number): Float64Array {
  let cur = values
  const n = values.length
  for (let p = 0; p < passes; p++) {
    const next = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      let s = 0
      for (let k = -halfWidth; k <= halfWidth; k++) s += cur[(i + k + n) % n]
      next[i] = s / (2 * halfWidth + 1)
    }
    cur = next
  }
  return cur
}

function polarRing(radii: Float64Array, cx: number, cy: number): Float64Array {
  const out = new Float64Array(radii.length * 2)
  for (let j = 0; j < radii.length; j++) {
    const th = (2 * Math.PI * j) / radii.length
    out[2 * j] = cx + radii[j] * Math.cos(th)
    out[2 * j + 1] = cy + radii[j] * Math.sin(th)
  }
  return out
}

/** Shoelace area (positive when counter-clockwise) and centroid of a flat [x0, y0, x1, y1, …] ring. */
function ringAreaCentroid(xy: ArrayLike<number>): { area: number; x: number; y: number } {
  const n = xy.length / 2
  // relative to the first vertex, so that large offsets lose no precision
  const x0 = xy[0]
  const y0 = xy[1]
  let a = 0
  let cx = 0
  let cy = 0
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n
    const xi = xy[2 * i] - x0
    const yi = xy[2 * i + 1] - y0
    const xj = xy[2 * j] - x0
    const yj = xy[2 * j + 1] - y0
    const c = xi * yj - xj * yi
    a += c
    cx += (xi + xj) * c
    cy += (yi + yj) * c
  }
  return { area: a / 2, x: x0 + cx / (3 * a), y: y0 + cy / (3 * a) }
}

/** The anchors' cell sizes blended by inverse distance (in units of each anchor's size), sampled on a grid. */
function densityField(
  anchors: Anchor[],
  minX: number,
  minY: number,
  maxX: number,
  maxY: number,
  side: number,
): (x: number, y: number) => number {
  const margin = 0.4 * side
  const step = side / 120
  const x0 = minX - margin
  const y0 = minY - margin
  const nx = Math.ceil((maxX - minX + 2 * margin) / step) + 1
  const ny = Math.ceil((maxY - minY + 2 * margin) / step) + 1
  const grid = new Float64Array(nx * ny)
  const rho = anchors.map((a) => Math.sqrt(a.area / Math.PI))
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const x = x0 + i * step
      const y = y0 + j * step
      let sw = 0
      let sv = 0
      for (let k = 0; k < anchors.length; k++) {
        const d2 = ((x - anchors[k].x) ** 2 + (y - anchors[k].y) ** 2) / (rho[k] * rho[k])
        const w = 1 / (d2 + 0.2) ** 2
        sw += w
        sv += w * Math.log(anchors[k].scale)
      }
      grid[j * nx + i] = Math.exp(sv / sw)
    }
  }
  return (x, y) => {
    const fx = Math.min(Math.max((x - x0) / step, 0), nx - 1.000001)
    const fy = Math.min(Math.max((y - y0) / step, 0), ny - 1.000001)
    const i = Math.floor(fx)
    const j = Math.floor(fy)
    const u = fx - i
    const v = fy - j
    const g = j * nx + i
    return (grid[g] * (1 - u) + grid[g + 1] * u) * (1 - v) + (grid[g + nx] * (1 - u) + grid[g + nx + 1] * u) * v
  }
}

// --------------------------------------------------------------------- sites

/** A binary min-heap of (key, a, b) triples. */
class MinHeap {
  private keys: number[] = []
  private as: number[] = []
  private bs: number[] = []
  get size(): number {
    return this.keys.length
  }
  push(key: number, a: number, b = 0): void {
    const { keys, as, bs } = this
    let i = keys.length
    keys.push(key)
    as.push(a)
    bs.push(b)
    while (i > 0) {
      const p = (i - 1) >> 1
      if (keys[p] <= key) break
      keys[i] = keys[p]
      as[i] = as[p]
      bs[i] = bs[p]
      i = p
    }
    keys[i] = key
    as[i] = a
    bs[i] = b
  }
  /** Removes the smallest entry; its a and b are left in `topA` and `topB`. */
  pop(): void {
    const { keys, as, bs } = this
    this.topA = as[0]
    this.topB = bs[0]
    const key = keys.pop() as number
    const a = as.pop() as number
    const b = bs.pop() as number
    const n = keys.length
    if (n === 0) return
    let i = 0
    for (;;) {
      let c = 2 * i + 1
      if (c >= n) break
      if (c + 1 < n && keys[c + 1] < keys[c]) c++
      if (keys[c] >= key) break
      keys[i] = keys[c]
      as[i] = as[c]
      bs[i] = bs[c]
      i = c
    }
    keys[i] = key
    as[i] = a
    bs[i] = b
  }
  topA = 0
  topB = 0
}

interface Sites {
  xy: Float64Array
  inside: Uint8Array
}

// how far a rectangle centre may be jittered, as a fraction of its side
const SITE_JITTER = 0.16
// sites closer than this (× the rectangle's short side) to a super-block border are dropped,
// so that two grids meeting at a border leave a street between them, not slivers
const BORDER_KEEP = 0.22

function placeSites(layout: Layout, seed: number, target: number, progress: (s: string, d: number, t: number) => void): Sites {
  progress('sites', 0, target)
  const side = Math.sqrt(layout.areaM2)
  const margin = 0.3 * side
  const bx0 = layout.minX - margin
  const by0 = layout.minY - margin
  const bx1 = layout.maxX + margin
  const by1 = layout.maxY + margin

  // super-blocks: sparse where cells are large, each with its own street-grid angle
  const spacing = side / 20
  const superXY: number[] = []
  const angles: number[] = []
  const angleNoise = createNoise2D(hash32(seed, 0xa17))
  for (let j = 0; (j + 1) * spacing < by1 - by0; j++) {
    for (let i = 0; (i + 1) * spacing < bx1 - bx0; i++) {
      const x = bx0 + (i + 0.15 + 0.7 * hashUnit(seed, i, j, 1)) * spacing
      const y = by0 + (j + 0.15 + 0.7 * hashUnit(seed, i, j, 2)) * spacing
      if (hashUnit(seed, i, j, 3) > layout.density(x, y) ** -0.6) continue
      superXY.push(x, y)
      let a = angleNoise(x / (0.3 * side), y / (0.3 * side)) * 0.9
      // most of Beijing's streets run north–south and east–west; some quarters are turned
      if (Math.abs(a) < 0.3) a *= 0.1
      angles.push(a + (hashUnit(seed, i, j, 4) - 0.5) * 0.07)
    }
  }
  const superDelaunay = new Delaunay(Float64Array.from(superXY))
  const voronoi = superDelaunay.voronoi([bx0, by0, bx1, by1])
  // each super-block's borders as half-planes n·p ≤ c, for signed distances to the border
  const planes: Float64Array[] = []
  for (let b = 0; b < angles.length; b++) {
    const sx = superXY[2 * b]
    const sy = superXY[2 * b + 1]
    const list: number[] = []
    for (const j of superDelaunay.neighbors(b)) {
      const dx = superXY[2 * j] - sx
      const dy = superXY[2 * j + 1] - sy
      const len = Math.hypot(dx, dy)
      list.push(dx / len, dy / len, (superXY[2 * j] ** 2 + superXY[2 * j + 1] ** 2 - sx * sx - sy * sy) / (2 * len))
    }
    planes.push(Float64Array.from(list))
  }
  const borderDistance = (b: number, x: number, y: number): number => {
    const p = planes[b]
    let d = Infinity
    for (let k = 0; k < p.length; k += 3) d = Math.min(d, p[k + 2] - (x * p[k] + y * p[k + 1]))
    return d
  }

  const leafB: number[] = []
  const leafBox: number[] = []
  const leafId: number[] = []
  const leafXY: number[] = []
  const leafKept: number[] = []
  const leafInside: number[] = []
  const leafLive: number[] = []
  const heap = new MinHeap()
  let count = 0

  const addLeaf = (b: number, u0: number, v0: number, u1: number, v1: number, id: number): void => {
    const cos = Math.cos(angles[b])
    const sin = Math.sin(angles[b])
    const ox = superXY[2 * b]
    const oy = superXY[2 * b + 1]
    const w = u1 - u0
    const h = v1 - v0
    const cu = (u0 + u1) / 2
    const cv = (v0 + v1) / 2
    const cx = ox + cu * cos - cv * sin
    const cy = oy + cu * sin + cv * cos
    const halfDiag = 0.5 * Math.hypot(w, h)
    // no part of the rectangle lies in its super-block
    if (borderDistance(b, cx, cy) < -halfDiag) return
    const su = cu + (hashUnit(id, 1) - 0.5) * SITE_JITTER * w
    const sv = cv + (hashUnit(id, 2) - 0.5) * SITE_JITTER * h
    const sx = ox + su * cos - sv * sin
    const sy = oy + su * sin + sv * cos
    const kept = borderDistance(b, sx, sy) >= BORDER_KEEP * Math.min(w, h) ? 1 : 0
    const inside = kept && outlineMargin(layout, sx, sy) > 0 ? 1 : 0
    const idx = leafB.length
    leafB.push(b)
    leafBox.push(u0, v0, u1, v1)
    leafId.push(id)
    leafXY.push(sx, sy)
    leafKept.push(kept)
    leafInside.push(inside)
    leafLive.push(1)
    count += inside
    // rectangles near the outline keep splitting so that the frame is as fine as the inside
    const area = w * h
    if (outlineMargin(layout, cx, cy) > -(halfDiag + 2 * Math.sqrt(area))) heap.push(-area / layout.density(cx, cy), idx)
  }

  for (let b = 0; b < angles.length; b++) {
    const poly = voronoi.cellPolygon(b)
    if (!poly) continue
    const cos = Math.cos(angles[b])
    const sin = Math.sin(angles[b])
    let u0 = Infinity
    let v0 = Infinity
    let u1 = -Infinity
    let v1 = -Infinity
    for (const [x, y] of poly) {
      const dx = x - superXY[2 * b]
      const dy = y - superXY[2 * b + 1]
      const u = dx * cos + dy * sin
      const v = -dx * sin + dy * cos
      u0 = Math.min(u0, u)
      u1 = Math.max(u1, u)
      v0 = Math.min(v0, v)
      v1 = Math.max(v1, v)
    }
    addLeaf(b, u0, v0, u1, v1, hash32(seed, b, 0x5eed))
  }

  const step = Math.max(1, Math.floor(target / 10))
  let nextReport = step
  while (count < target) {
    if (heap.size === 0) throw new Error('site placement ran out of rectangles to split')
    heap.pop()
    const idx = heap.topA
    leafLive[idx] = 0
    count -= leafInside[idx]
    const b = leafB[idx]
    const [u0, v0, u1, v1] = leafBox.slice(4 * idx, 4 * idx + 4)
    const id = leafId[idx]
    const t = 0.4 + 0.2 * hashUnit(id, 3)
    // split the longer side, give or take, so that blocks vary in proportion
    if ((u1 - u0) * (0.85 + 0.3 * hashUnit(id, 4)) >= v1 - v0) {
      const um = u0 + t * (u1 - u0)
      addLeaf(b, u0, v0, um, v1, hash32(id, 5))
      addLeaf(b, um, v0, u1, v1, hash32(id, 6))
    } else {
      const vm = v0 + t * (v1 - v0)
      addLeaf(b, u0, v0, u1, vm, hash32(id, 5))
      addLeaf(b, u0, vm, u1, v1, hash32(id, 6))
    }
    if (count >= nextReport && count < target) {
      progress('sites', Math.min(count, target), target)
      nextReport += step
    }
  }

  const xy: number[] = []
  const inside: number[] = []
  for (let i = 0; i < leafB.length; i++) {
    if (!leafLive[i] || !leafKept[i]) continue
    xy.push(leafXY[2 * i], leafXY[2 * i + 1])
    inside.push(leafInside[i])
  }
  progress('sites', target, target)
  return { xy: Float64Array.from(xy), inside: Uint8Array.from(inside) }
}

// ------------------------------------------------------------------ topology

interface Topology {
  n: number
  xy: Float64Array
  /** Per site: offset into nbr/nbrEdge/ringVertex (CSR); a hull site's list is an open fan. */
  start: Int32Array
  /** Neighbours in counter-clockwise order. */
  nbr: Int32Array
  /** 1 where the Voronoi edge to that neighbour has length (it is not collapsed to a point). */
  nbrEdge: Uint8Array
  /** Ring vertex ids (merged circumcentres), in the same order; vertex k is the end of the edge to nbr k. */
  ringVertex: Int32Array
  onHull: Uint8Array
  vx: Float64Array
  vy: Float64Array
}

// circumcentres closer than this are one vertex, so that rounding (~1 cm) never collapses an edge
const MERGE_TOLERANCE_M = 0.05

function buildTopology(xy: Float64Array): Topology {
  const delaunay = new Delaunay(xy)
  const { triangles, halfedges, inedges, hull } = delaunay
  const n = xy.length / 2
  const nT = triangles.length / 3
  const vx = new Float64Array(nT)
  const vy = new Float64Array(nT)
  for (let t = 0; t < nT; t++) {
    const i1 = triangles[3 * t]
    const i2 = triangles[3 * t + 1]
    const i3 = triangles[3 * t + 2]
    const x1 = xy[2 * i1]
    const y1 = xy[2 * i1 + 1]
    const dx = xy[2 * i2] - x1
    const dy = xy[2 * i2 + 1] - y1
    const ex = xy[2 * i3] - x1
    const ey = xy[2 * i3 + 1] - y1
    const ab = (dx * ey - dy * ex) * 2
    if (Math.abs(ab) < 1e-12) {
      // a flat triangle only occurs on the hull, far out in the frame
      vx[t] = x1 + (dx + ex) / 3
      vy[t] = y1 + (dy + ey) / 3
      continue
    }
    const bl = dx * dx + dy * dy
    const cl = ex * ex + ey * ey
    vx[t] = x1 + (ey * bl - dy * cl) / ab
    vy[t] = y1 + (dx * cl - ex * bl) / ab
  }
  const parent = new Int32Array(nT)
  for (let t = 0; t < nT; t++) parent[t] = t
  const find = (t: number): number => {
    while (parent[t] !== t) {
      parent[t] = parent[parent[t]]
      t = parent[t]
    }
    return t
  }
  for (let e = 0; e < halfedges.length; e++) {
    const o = halfedges[e]
    if (o < e) continue
    const a = find(Math.floor(e / 3))
    const b = find(Math.floor(o / 3))
    if (a !== b && Math.hypot(vx[a] - vx[b], vy[a] - vy[b]) < MERGE_TOLERANCE_M) parent[Math.max(a, b)] = Math.min(a, b)
  }

  const onHull = new Uint8Array(n)
  for (const h of hull) onHull[h] = 1
  const start = new Int32Array(n + 1)
  const nbr: number[] = []
  const nbrEdge: number[] = []
  const ringVertex: number[] = []
  for (let i = 0; i < n; i++) {
    start[i] = nbr.length
    const e0 = inedges[i]
    if (e0 === -1) continue
    const s = nbr.length
    let e = e0
    do {
      nbr.push(triangles[e])
      ringVertex.push(find(Math.floor(e / 3)))
      e = halfedges[e % 3 === 2 ? e - 2 : e + 1]
    } while (e !== e0 && e !== -1)
    // the edge to nbr k runs between ring vertices k - 1 and k; a hull site's fan is open, and
    // is only walked through (never drawn), so all its neighbours count
    const m = nbr.length - s
    for (let k = 0; k < m; k++) nbrEdge.push(onHull[i] || ringVertex[s + k] !== ringVertex[s + ((k + m - 1) % m)] ? 1 : 0)
  }
  start[n] = nbr.length
  return {
    n,
    xy,
    start,
    nbr: Int32Array.from(nbr),
    nbrEdge: Uint8Array.from(nbrEdge),
    ringVertex: Int32Array.from(ringVertex),
    onHull,
    vx,
    vy,
  }
}

/** Turns the inside flags into a district of exactly `target` cells, in one piece and without holes. */
function selectDistrict(topo: Topology, insideIn: Uint8Array, layout: Layout, target: number): Int32Array {
  const { n, start, nbr, nbrEdge, onHull, xy } = topo
  const inside = Uint8Array.from(insideIn)
  for (let i = 0; i < n; i++) if (onHull[i] || start[i] === start[i + 1]) inside[i] = 0
  const margin = (i: number): number => outlineMargin(layout, xy[2 * i], xy[2 * i + 1])

  // a site may change sides only if it meets the other side along one run of its neighbours
  const isSimple = (i: number): boolean => {
    let runs = 0
    let first = -1
    let prev = -1
    for (let k = start[i]; k < start[i + 1]; k++) {
      if (!nbrEdge[k]) continue
      const s = inside[nbr[k]]
      if (first === -1) first = s
      else if (s !== prev) runs++
      prev = s
    }
    if (prev !== first) runs++
    return runs === 2
  }
  const touches = (i: number, side: number): boolean => {
    for (let k = start[i]; k < start[i + 1]; k++) if (nbrEdge[k] && inside[nbr[k]] === side) return true
    return false
  }

  for (let round = 0; round < 50; round++) {
    let changed = false
    // holes: outside sites that the outside does not reach from the hull
    const seen = new Uint8Array(n)
    const stack: number[] = []
    for (let i = 0; i < n; i++) {
      if (onHull[i]) {
        seen[i] = 1
        stack.push(i)
      }
    }
    while (stack.length) {
      const i = stack.pop() as number
      for (let k = start[i]; k < start[i + 1]; k++) {
        const j = nbr[k]
        if (nbrEdge[k] && !seen[j] && !inside[j]) {
          seen[j] = 1
          stack.push(j)
        }
      }
    }
    for (let i = 0; i < n; i++) {
      if (!inside[i] && !seen[i]) {
        inside[i] = 1
        changed = true
      }
    }

    // pieces: keep the largest
    const comp = new Int32Array(n).fill(-1)
    const sizes: number[] = []
    for (let i = 0; i < n; i++) {
      if (!inside[i] || comp[i] !== -1) continue
      const c = sizes.length
      let size = 0
      comp[i] = c
      stack.push(i)
      while (stack.length) {
        const a = stack.pop() as number
        size++
        for (let k = start[a]; k < start[a + 1]; k++) {
          const j = nbr[k]
          if (nbrEdge[k] && inside[j] && comp[j] === -1) {
            comp[j] = c
            stack.push(j)
          }
        }
      }
      sizes.push(size)
    }
    const keep = sizes.indexOf(Math.max(...sizes))
    for (let i = 0; i < n; i++) {
      if (inside[i] && comp[i] !== keep) {
        inside[i] = 0
        changed = true
      }
    }

    let count = 0
    for (let i = 0; i < n; i++) count += inside[i]
    // trim or grow at the boundary, where the outline says a site is least (or most) inside
    while (count !== target) {
      const grow = count < target
      let best = -1
      let bestMargin = 0
      for (let i = 0; i < n; i++) {
        if (inside[i] === (grow ? 1 : 0) || onHull[i] || start[i] === start[i + 1]) continue
        if (!touches(i, grow ? 1 : 0) || !isSimple(i)) continue
        const m = margin(i)
        if (best === -1 || (grow ? m > bestMargin : m < bestMargin)) {
          best = i
          bestMargin = m
        }
      }
      if (best === -1) throw new Error('cannot adjust the district to the asked number of cells')
      inside[best] = grow ? 1 : 0
      count += grow ? 1 : -1
      changed = true
    }
    if (!changed) {
      const cells: number[] = []
      for (let i = 0; i < n; i++) if (inside[i]) cells.push(i)
      return Int32Array.from(cells)
    }
  }
  throw new Error('district selection did not settle')
}

// ----------------------------------------------------------------- geometry

interface Cells {
  count: number
  /** Ring vertex ids per cell (CSR, counter-clockwise, not closed). */
  ringStart: Int32Array
  ring: Int32Array
  /** Vertex coordinates in metres, after the area scale. */
  vx: Float64Array
  vy: Float64Array
  area: Float64Array
  cx: Float64Array
  cy: Float64Array
  /** Adjacent cells along edges of non-zero length (CSR). */
  adjStart: Int32Array
  adj: Int32Array
}

function cellGeometry(topo: Topology, cellSites: Int32Array, areaM2: number): Cells {
  const count = cellSites.length
  const cellOf = new Int32Array(topo.n).fill(-1)
  cellSites.forEach((s, c) => (cellOf[s] = c))
  const ringStart = new Int32Array(count + 1)
  const ring: number[] = []
  const adjStart = new Int32Array(count + 1)
  const adj: number[] = []
  const area = new Float64Array(count)
  const cx = new Float64Array(count)
  const cy = new Float64Array(count)
  let total = 0
  for (let c = 0; c < count; c++) {
    const s = cellSites[c]
    ringStart[c] = ring.length
    adjStart[c] = adj.length
    const pts: number[] = []
    for (let k = topo.start[s]; k < topo.start[s + 1]; k++) {
      const v = topo.ringVertex[k]
      if (ring.length > ringStart[c] && ring[ring.length - 1] === v) continue
      ring.push(v)
      pts.push(topo.vx[v], topo.vy[v])
      if (topo.nbrEdge[k] && cellOf[topo.nbr[k]] !== -1) adj.push(cellOf[topo.nbr[k]])
    }
    if (ring.length - ringStart[c] > 1 && ring[ring.length - 1] === ring[ringStart[c]]) {
      ring.pop()
      pts.length -= 2
    }
    if (ring.length - ringStart[c] < 3) throw new Error(`cell of site ${s} collapsed`)
    const g = ringAreaCentroid(pts)
    // Delaunay fans run counter-clockwise with y to the north, as RFC 7946 wants exteriors;
    // anything else is a degenerate cell, and a bug
    if (!(g.area > 0)) throw new Error(`cell of site ${s} is not counter-clockwise`)
    area[c] = g.area
    cx[c] = g.x
    cy[c] = g.y
    total += g.area
  }
  ringStart[count] = ring.length
  adjStart[count] = adj.length

  // one uniform scale about the origin keeps the topology and sets the geodesic area exactly
  const f = Math.sqrt(areaM2 / total)
  for (let c = 0; c < count; c++) {
    area[c] *= f * f
    cx[c] *= f
    cy[c] *= f
  }
  return {
    count,
    ringStart,
    ring: Int32Array.from(ring),
    vx: topo.vx.map((v) => v * f),
    vy: topo.vy.map((v) => v * f),
    area,
    cx,
    cy,
    adjStart,
    adj: Int32Array.from(adj),
  }
}

// -------------------------------------------------------------- partitioning

/**
 * Seeded region growing: labels spread from their seed cells over adjacency,
 * cheapest first by `cost(cell, label)`, within `region` (cells whose
 * regionOf equals the seed's). Each label ends up in one piece.
 */
function growRegions(
  cells: Cells,
  seeds: number[],
  cost: (cell: number, label: number) => number,
  regionOf: Int32Array | null,
  labels: Int32Array,
): void {
  const heap = new MinHeap()
  seeds.forEach((cell, label) => heap.push(-Infinity, cell, label))
  while (heap.size) {
    heap.pop()
    const c = heap.topA
    const label = heap.topB
    if (labels[c] !== -1) continue
    labels[c] = label
    for (let k = cells.adjStart[c]; k < cells.adjStart[c + 1]; k++) {
      const d = cells.adj[k]
      if (labels[d] !== -1) continue
      if (regionOf && regionOf[d] !== regionOf[c]) continue
      heap.push(cost(d, label), d, label)
    }
  }
}

/** Displaces cell centroids by smooth noise, so that straight partition borders come out organic. */
function warp(
  cells: Cells,
  list: ArrayLike<number>,
  seed: number,
  amplitude: number,
  wavelength: number,
): { wx: Float64Array; wy: Float64Array } {
  const nx = createNoise2D(hash32(seed, 0x3a1))
  const ny = createNoise2D(hash32(seed, 0x3a2))
  const wx = new Float64Array(cells.count)
  const wy = new Float64Array(cells.count)
  for (let k = 0; k < list.length; k++) {
    const c = list[k]
    const x = cells.cx[c] / wavelength
    const y = cells.cy[c] / wavelength
    // two octaves: broad bends and smaller kinks
    wx[c] = cells.cx[c] + amplitude * (nx(x, y) + 0.4 * nx(2.1 * x + 17, 2.1 * y))
    wy[c] = cells.cy[c] + amplitude * (ny(x, y) + 0.4 * ny(2.1 * x, 2.1 * y + 31))
  }
  return { wx, wy }
}

interface Subdistricts {
  /** Subdistrict index per cell (index into CHAOYANG). */
  of: Int32Array
}

function assignSubdistricts(cells: Cells, layout: Layout, seed: number): Subdistricts {
  const side = Math.sqrt(layout.areaM2)
  const all = Int32Array.from({ length: cells.count }, (_, c) => c)
  const { wx, wy } = warp(cells, all, hash32(seed, 1), 0.022 * side, 0.14 * side)
  const anchors = layout.anchors
  const m = anchors.length
  // multiplicative weights: a subdistrict's cost is 0 at its own anchor, so a large neighbour
  // can never swallow a small one's anchor, as additive (power) weights can
  const radius = anchors.map((a) => Math.sqrt(a.area / Math.PI))
  let totalArea = 0
  for (let c = 0; c < cells.count; c++) totalArea += cells.area[c]
  // tune the weights on a sample so that each subdistrict gets about its share of the area
  const stride = Math.max(1, Math.floor(cells.count / 15000))
  const got = new Float64Array(m)
  for (let it = 0; it < 40; it++) {
    got.fill(0)
    let sampled = 0
    for (let c = 0; c < cells.count; c += stride) {
      let best = 0
      let bestCost = Infinity
      for (let i = 0; i < m; i++) {
        const dx = wx[c] - anchors[i].x
        const dy = wy[c] - anchors[i].y
        const cost = (dx * dx + dy * dy) / (radius[i] * radius[i])
        if (cost < bestCost) {
          bestCost = cost
          best = i
        }
      }
      got[best] += cells.area[c]
      sampled += cells.area[c]
    }
    // area grows with the square of the weight; damped, and bounded for the subdistricts that got nothing
    for (let i = 0; i < m; i++) {
      const share = got[i] / sampled
      radius[i] *= Math.min(1.5, Math.max(0.67, (anchors[i].area / totalArea / Math.max(share, 1e-6)) ** 0.35))
    }
  }

  const seeds = nearestDistinct(
    all,
    cells.cx,
    cells.cy,
    anchors.map((a) => [a.x, a.y]),
  )
  const of = new Int32Array(cells.count).fill(-1)
  growRegions(cells, seeds, (c, i) => Math.sqrt((wx[c] - anchors[i].x) ** 2 + (wy[c] - anchors[i].y) ** 2) / radius[i], null, of)
  if (of.includes(-1)) throw new Error('the district is not connected')
  return { of }
}

/** For each point, the nearest item of `pool` (by xs, ys) that no earlier point has taken. */
function nearestDistinct(pool: ArrayLike<number>, xs: Float64Array, ys: Float64Array, points: number[][]): number[] {
  const n = pool.length
  const coords = new Float64Array(2 * n)
  for (let i = 0; i < n; i++) {
    coords[2 * i] = xs[pool[i]]
    coords[2 * i + 1] = ys[pool[i]]
  }
  const delaunay = new Delaunay(coords)
  const taken = new Uint8Array(n)
  const d2 = (i: number, x: number, y: number): number => (coords[2 * i] - x) ** 2 + (coords[2 * i + 1] - y) ** 2
  let hint = 0
  return points.map(([x, y]) => {
    let best = delaunay.find(x, y, hint)
    hint = best
    if (taken[best]) {
      // the nearest is taken: look outwards over Delaunay neighbours, then everywhere
      const seen = new Set([best])
      const queue = [best]
      best = -1
      for (let q = 0; q < queue.length && q < 64; q++) {
        for (const j of delaunay.neighbors(queue[q])) {
          if (seen.has(j)) continue
          seen.add(j)
          queue.push(j)
          if (!taken[j] && (best === -1 || d2(j, x, y) < d2(best, x, y))) best = j
        }
      }
      for (let i = 0; best === -1 && i < n; i++) if (!taken[i]) best = i
    }
    taken[best] = 1
    return pool[best]
  })
}

interface Community {
  subdistrict: number
  code: string
  name: string
  /** Cells in numbering order. */
  cells: number[]
}

function assignCommunities(cells: Cells, sub: Subdistricts, layout: Layout, seed: number): Community[] {
  const m = CHAOYANG.length
  const members: number[][] = Array.from({ length: m }, () => [])
  for (let c = 0; c < cells.count; c++) members[sub.of[c]].push(c)
  const labels = new Int32Array(cells.count).fill(-1)
  const result: Community[] = []
  for (let s = 0; s < m; s++) {
    const list = members[s]
    const code = CHAOYANG[s][0]
    const rand = createRandom(hash32(seed, Number(code)))
    const k = Math.min(MAX_SEQUENCE, list.length, Math.max(1, Math.round(list.length / CELLS_PER_COMMUNITY)))
    let subArea = 0
    for (const c of list) subArea += cells.area[c]
    const typical = Math.sqrt(subArea / k)
    const { wx, wy } = warp(cells, list, hash32(seed, 2, s), 0.2 * typical, 1.3 * typical)
    const centres = kMeans(list, wx, wy, k, typical, rand)
    const seeds = nearestDistinct(list, wx, wy, centres)
    // grow, then shift additive weights towards equal cell counts, a few times over
    const weights = new Float64Array(k)
    const counts = new Float64Array(k)
    const perCell = subArea / list.length
    for (let it = 0; it < 6; it++) {
      for (const c of list) labels[c] = -1
      growRegions(
        cells,
        seeds,
        (c, i) => (wx[c] - centres[i][0]) ** 2 + (wy[c] - centres[i][1]) ** 2 - weights[i],
        sub.of,
        labels,
      )
      counts.fill(0)
      for (const c of list) {
        if (labels[c] === -1) throw new Error(`subdistrict ${code} is not connected`)
        counts[labels[c]]++
      }
      // a weight step w grows a region's area by about π·w
      for (let i = 0; i < k; i++) weights[i] += (0.6 * (list.length / k - counts[i]) * perCell) / Math.PI
    }
    mergeSmall(cells, list, labels, k, Math.max(3, Math.round((0.3 * list.length) / k)), (c) => sub.of[c] === s)
    const groups: number[][] = Array.from({ length: k }, () => [])
    for (const c of list) groups[labels[c]].push(c)
    const ordered = readingOrder(
      groups.filter((g) => g.length > 0),
      (g) => centroidOf(cells, g),
      typical,
    )
    const names = new Set<string>()
    ordered.forEach((group, i) => {
      const communityCode = code + String(i + 1).padStart(3, '0')
      const [gx, gy] = centroidOf(cells, group)
      const rural = CHAOYANG_SUBDISTRICTS[s].kind !== '街道' && layout.density(gx, gy) > 5
      const name = communityName(rand, CHAOYANG_SUBDISTRICTS[s].shortName, rural, names)
      const order = numberCells(cells, group)
      if (order.length > MAX_SEQUENCE) throw new RangeError(`community ${communityCode} has ${order.length} cells, more than ${MAX_SEQUENCE}`)
      result.push({ subdistrict: s, code: communityCode, name, cells: order })
    })
  }
  return result
}

/** Merges communities of fewer than `min` cells, smallest first, into the neighbour they share most edges with. */
function mergeSmall(cells: Cells, list: number[], labels: Int32Array, k: number, min: number, inList: (cell: number) => boolean): void {
  const members: number[][] = Array.from({ length: k }, () => [])
  for (const c of list) members[labels[c]].push(c)
  for (;;) {
    let small = -1
    for (let i = 0; i < k; i++) {
      const size = members[i].length
      if (size > 0 && size < min && (small === -1 || size < members[small].length)) small = i
    }
    if (small === -1) return
    const shared = new Map<number, number>()
    for (const c of members[small]) {
      for (let e = cells.adjStart[c]; e < cells.adjStart[c + 1]; e++) {
        const d = cells.adj[e]
        const l = labels[d]
        if (l === small || !inList(d)) continue
        shared.set(l, (shared.get(l) ?? 0) + 1)
      }
    }
    // only a subdistrict of a single community has nothing to merge into
    if (shared.size === 0) return
    let into = -1
    for (const [l, n] of shared) {
      const best = into === -1 ? -1 : (shared.get(into) as number)
      if (n > best || (n === best && l < into)) into = l
    }
    for (const c of members[small]) labels[c] = into
    members[into].push(...members[small])
    members[small] = []
  }
}

/**
 * Lloyd's k-means on warped centroids, started from cells picked evenly along
 * a snake through rows of the community size; returns the centres.
 */
function kMeans(list: number[], wx: Float64Array, wy: Float64Array, k: number, band: number, rand: Random): number[][] {
  const n = list.length
  const px = Float64Array.from(list, (c) => wx[c])
  const py = Float64Array.from(list, (c) => wy[c])
  const row = (i: number): number => Math.floor(py[i] / band)
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => {
    const ra = row(a)
    const rb = row(b)
    return ra !== rb ? ra - rb : (ra % 2 === 0 ? px[a] - px[b] : px[b] - px[a]) || a - b
  })
  const cx = new Float64Array(k)
  const cy = new Float64Array(k)
  const offset = rand.next()
  for (let j = 0; j < k; j++) {
    const i = order[Math.min(n - 1, Math.floor(((j + offset) * n) / k))]
    cx[j] = px[i]
    cy[j] = py[i]
  }
  const sx = new Float64Array(k)
  const sy = new Float64Array(k)
  const sn = new Float64Array(k)
  const coords = new Float64Array(2 * k)
  for (let it = 0; it < 6; it++) {
    sx.fill(0)
    sy.fill(0)
    sn.fill(0)
    for (let j = 0; j < k; j++) {
      coords[2 * j] = cx[j]
      coords[2 * j + 1] = cy[j]
    }
    // nearest centre by walking the centres' triangulation: linear, not n × k
    const delaunay = new Delaunay(coords)
    let hint = 0
    for (let i = 0; i < n; i++) {
      const best = k < 3 ? nearestOf(cx, cy, px[i], py[i]) : delaunay.find(px[i], py[i], hint)
      hint = best
      sx[best] += px[i]
      sy[best] += py[i]
      sn[best]++
    }
    // an emptied cluster keeps its centre
    for (let j = 0; j < k; j++) {
      if (sn[j] > 0) {
        cx[j] = sx[j] / sn[j]
        cy[j] = sy[j] / sn[j]
      }
    }
  }
  return Array.from({ length: k }, (_, j) => [cx[j], cy[j]])
}

function nearestOf(xs: Float64Array, ys: Float64Array, x: number, y: number): number {
  let best = 0
  for (let j = 1; j < xs.length; j++) if ((xs[j] - x) ** 2 + (ys[j] - y) ** 2 < (xs[best] - x) ** 2 + (ys[best] - y) ** 2) best = j
  return best
}

function centroidOf(cells: Cells, group: number[]): [number, number] {
  let a = 0
  let x = 0
  let y = 0
  for (const c of group) {
    a += cells.area[c]
    x += cells.cx[c] * cells.area[c]
    y += cells.cy[c] * cells.area[c]
  }
  return [x / a, y / a]
}

/**
 * Sorts items into reading order: rows from north to south, each row starting
 * where an item lies more than 0.6 band below the row's first, then west to east.
 */
function readingOrder<T>(items: T[], at: (item: T) => [number, number], band: number): T[] {
  const placed = items.map((item, i) => ({ item, i, p: at(item) }))
  placed.sort((a, b) => b.p[1] - a.p[1] || a.p[0] - b.p[0] || a.i - b.i)
  const out: T[] = []
  let row: typeof placed = []
  const flush = (): void => {
    row.sort((a, b) => a.p[0] - b.p[0] || a.i - b.i)
    for (const r of row) out.push(r.item)
    row = []
  }
  for (const r of placed) {
    if (row.length > 0 && row[0].p[1] - r.p[1] > 0.6 * band) flush()
    row.push(r)
  }
  flush()
  return out
}

/** Cells of one community in numbering order: rows banded by the community's median cell size. */
function numberCells(cells: Cells, group: number[]): number[] {
  const areas = group.map((c) => cells.area[c]).sort((a, b) => a - b)
  const band = Math.sqrt(areas[Math.floor(areas.length / 2)])
  return readingOrder(group, (c) => [cells.cx[c], cells.cy[c]], band)
}

// -------------------------------------------------------------------- names

// Place-name stems of the kind Chaoyang's communities are named after
const PLACE_STEMS = [
  '安华', '安苑', '安慧', '北辰', '百子湾', '柏林', '半壁店', '碧水', '朝来', '晨光', '翠城', '大望', '定福',
  '东润', '枫林', '芳园', '光华', '广渠', '红庙', '花家地', '华威', '惠新', '和平', '金台', '金泉', '锦绣',
  '京旺', '静安', '九龙', '康家', '丽都', '利泽', '龙爪树', '南湖', '农光', '平乐园', '青年', '庆丰', '日坛',
  '瑞祥', '三元', '胜古', '石佛营', '松榆', '双龙', '水碓', '甜水园', '望花', '文化', '西坝河', '香江', '小营',
  '欣园', '星河', '延静', '阳光', '姚家园', '银河', '樱花', '永安', '裕民', '育慧', '枣营', '兆丰', '芷园',
  '紫南', '左安', '忠实', '关东店', '十里堡', '垂杨柳', '团结', '高家园', '驼房营', '芍药居', '大西洋', '首城',
  '珠江', '宏源', '世纪', '红星', '东会', '北花园', '草场地', '北皋', '善各庄', '马泉营', '西甸', '康营',
  '楼梓庄', '曹各庄', '东窑', '黎各庄', '郎各庄', '双树', '于家围', '万子营', '马家湾', '黄厂', '水牛坊',
  '周家庄', '老君堂', '吕家营', '鸿博', '牌坊', '肖村', '红寺', '小武基', '辛庄', '观音堂', '南花园', '双桥',
  '杨闸', '东柳', '西柳', '康惠园', '亮马', '霞光', '将府', '十里居', '红领巾', '甘露园', '黄木厂', '南沙滩',
  '嘉铭', '慧忠', '林萃', '安翔', '外馆', '黄寺', '樱花园', '民旺', '光熙', '曙光', '新源', '三源', '中纺',
  '幸福', '白家庄', '东大桥', '核桃园', '吉祥', '神路', '雅宝', '齐家园', '建国', '秀水', '大北窑', '光辉',
  '广泉', '百环', '劲松', '磨房', '武圣', '黄杉木店', '化工', '王村', '南平里', '望湖', '阜通', '宏昌',
  '清河营', '北苑', '立水桥', '尚家楼', '万红', '大山子', '单店', '黄渠', '兴隆', '八王坟', '天力', '燕保',
  '远洋', '富力', '保利', '金港', '国美', '奥林', '北湖', '燕莎', '东郊', '长虹', '新街', '金地', '润枫',
]
const COMMUNITY_SUFFIXES = [
  '东里', '西里', '南里', '北里', '中里', '一里', '二里', '三里', '东园', '西园', '南园', '北园', '家园', '花园',
  '嘉园', '新村', '小区', '东区', '西区', '南区', '北区', '一区', '二区', '三区', '路', '街', '苑', '雅苑',
  '新城', '东街', '西街', '南路', '北路', '里', '园', '公寓', '佳园', '馨园',
]
const VILLAGE_FIRST = ['东', '西', '南', '北', '前', '后', '大', '小', '上', '下', '新', '老', '中']
const VILLAGE_MIDDLE = [
  '辛', '马', '孙', '王', '李', '张', '高', '黄', '杨', '沙', '石', '苇', '柳', '郎', '何', '曹', '费', '楼', '皮', '索',
  '善', '刘', '赵', '冯', '于', '鲁', '史', '白', '崔', '董', '陈', '周', '吕', '郑', '田', '常', '韩', '邓', '段',
]
const VILLAGE_ENDS = ['各庄', '家庄', '庄', '营', '店', '坊', '堡', '窝', '沟', '家坟', '辛庄', '屯', '湾', '桥', '家村', '园']

function communityName(rand: Random, shortName: string, village: boolean, used: Set<string>): string {
  const own = shortName.replace(/地区$/, '')
  for (let attempt = 0; attempt < 60; attempt++) {
    let name: string
    if (village && rand.next() < 0.75) {
      const first = rand.next() < 0.5 ? rand.pick(VILLAGE_FIRST) : ''
      name = first + rand.pick(VILLAGE_MIDDLE) + rand.pick(VILLAGE_ENDS) + '村'
    } else {
      const stem = rand.next() < 0.25 ? own : rand.pick(PLACE_STEMS)
      name = stem + rand.pick(COMMUNITY_SUFFIXES) + '社区'
    }
    if (!used.has(name)) {
      used.add(name)
      return name
    }
  }
  // only very large grids get here: number the names, which always terminates
  for (let i = 2; ; i++) {
    const name = `${rand.pick(PLACE_STEMS)}第${i}社区`
    if (!used.has(name)) {
      used.add(name)
      return name
    }
  }
}

// ------------------------------------------------------------------ features

const ROUND = 1e7

function buildFeatures(
  cells: Cells,
  sub: Subdistricts,
  communities: Community[],
  proj: Projection,
  progress: (s: string, d: number, t: number) => void,
): GridFeatureCollection {
  // every vertex is converted and rounded once, so neighbours share identical coordinates
  const lonLat = new Map<number, Position>()
  const vertex = (v: number): Position => {
    let p = lonLat.get(v)
    if (!p) {
      const [lon, lat] = proj.inverse(cells.vx[v], cells.vy[v])
      p = [Math.round(lon * ROUND) / ROUND, Math.round(lat * ROUND) / ROUND]
      lonLat.set(v, p)
    }
    return p
  }
  const features: Feature<Polygon, CellProperties>[] = []
  const step = Math.max(1, Math.floor(cells.count / 10))
  for (const community of communities) {
    const s = CHAOYANG_SUBDISTRICTS[community.subdistrict]
    community.cells.forEach((c, i) => {
      if (sub.of[c] !== community.subdistrict) throw new Error('community crosses a subdistrict border')
      const code = community.code + String(i + 1).padStart(3, '0')
      const ring: Position[] = []
      for (let k = cells.ringStart[c]; k < cells.ringStart[c + 1]; k++) {
        const p = vertex(cells.ring[k])
        const last = ring[ring.length - 1]
        if (!last || last[0] !== p[0] || last[1] !== p[1]) ring.push(p)
      }
      if (ring.length > 1 && ring[0][0] === ring[ring.length - 1][0] && ring[0][1] === ring[ring.length - 1][1]) ring.pop()
      checkRing(ring, code)
      ring.push(ring[0])
      features.push({
        type: 'Feature',
        id: code,
        geometry: { type: 'Polygon', coordinates: [ring] },
        properties: {
          code,
          community_code: community.code,
          community_name: community.name,
          subdistrict_code: s.code,
          subdistrict_name: s.name,
          district_code: DISTRICT_CODE,
          district_name: DISTRICT_NAME,
        },
      })
      if (features.length % step === 0 && features.length < cells.count) progress('features', features.length, cells.count)
    })
  }
  features.sort((a, b) => (a.properties.code < b.properties.code ? -1 : a.properties.code > b.properties.code ? 1 : 0))
  return { type: 'FeatureCollection', features }
}

/** Guards the export: an open ring of ≥ 3 distinct positions, counter-clockwise. */
function checkRing(ring: Position[], code: string): void {
  let twiceArea = 0
  const [x0, y0] = ring[0]
  for (let i = 0; i < ring.length; i++) {
    const p = ring[i]
    const q = ring[(i + 1) % ring.length]
    twiceArea += (p[0] - x0) * (q[1] - y0) - (q[0] - x0) * (p[1] - y0)
    for (let j = i + 1; j < ring.length; j++) {
      if (p[0] === ring[j][0] && p[1] === ring[j][1]) throw new Error(`cell ${code}: ring repeats a vertex after rounding`)
    }
  }
  if (ring.length < 3) throw new Error(`cell ${code}: ring degenerates after rounding`)
  if (!(twiceArea > 0)) throw new Error(`cell ${code}: ring is not counter-clockwise after rounding`)
}
