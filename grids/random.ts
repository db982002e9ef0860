/**
 * Seeded randomness for generators and benchmarks, so that runs compare.
 *
 * Two kinds are offered. `createRandom` is a stream (sfc32): cheap and good,
 * but what it returns depends on how many numbers were drawn before. `hash32`
 * and `createNoise2D` are stateless: their value depends only on the seed and
 * the arguments, so a generator that changes how much it draws in one part
 * does not reshuffle everything else.
 */

/** A seeded stream of pseudo-random numbers. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
  /** Uniform in [min, max). */
  range(min: number, max: number): number
  /** Standard normal (Box–Muller). */
  normal(): number
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T
  /** Shuffles the array in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[]
}

/**
 * Mixes integers (any safe integer) into one well-spread 32-bit unsigned
 * integer. Fractions are dropped, so pass lattice indices, ids or seeds.
 *
 * @example hash32(seed, ix, iy) // the same three numbers always give the same hash
 */
export function hash32(...values: number[]): number {
  let h = 0x9e3779b9
  for (const v of values) {
    h = fold(h, v)
    // a seed may be any safe integer: its high bits count too
    if (v >= 2147483648 || v < -2147483648) h = fold(h, Math.floor(v / 4294967296))
  }
  return finalise(h)
}

// murmur3-style mixing: each value is folded into the state, then the state is finalised
function fold(h: number, v: number): number {
  let k = Math.imul(v | 0, 0xcc9e2d51)
  k = (k << 15) | (k >>> 17)
  k = Math.imul(k, 0x1b873593)
  h ^= k
  h = (h << 13) | (h >>> 19)
  return (Math.imul(h, 5) + 0xe6546b64) | 0
}

function finalise(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Like `hash32`, scaled to a float in [0, 1). */
export function hashUnit(...values: number[]): number {
  return hash32(...values) / 4294967296
}

/**
 * A seeded sfc32 stream. sfc32 passes PractRand to large sizes and needs only
 * 32-bit integer arithmetic, which JavaScript does exactly on every engine.
 *
 * @example const rand = createRandom(42); rand.int(6) + 1 // a die
 */
export function createRandom(seed: number): Random {
  // the four state words come from the seed through the hash, so nearby seeds diverge at once
  let a = hash32(seed, 1)
  let b = hash32(seed, 2)
  let c = hash32(seed, 3)
  let d = hash32(seed, 4)
  const nextUint = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  // discard the first outputs: sfc32 is weakly mixed just after seeding
  for (let i = 0; i < 12; i++) nextUint()

  const next = (): number => nextUint() / 4294967296
  let spare: number | undefined
  return {
    next,
    int: (n) => Math.floor(next() * n),
    range: (min, max) => min + (max - min) * next(),
    normal: () => {
      if (spare !== undefined) {
        const s = spare
        spare = undefined
        return s
      }
      // 1 - next() is in (0, 1], so the logarithm is finite
      const r = Math.sqrt(-2 * Math.log(1 - next()))
      const t = 2 * Math.PI * next()
      spare = r * Math.sin(t)
      return r * Math.cos(t)
    },
    pick: (items) => {
      if (items.length === 0) throw new RangeError('pick from an empty array')
      return items[Math.floor(next() * items.length)]
    },
    shuffle: (items) => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1))
        const t = items[i]
        items[i] = items[j]
        items[j] = t
      }
      return items
    },
  }
}

/**
 * Seeded 2D gradient noise (Perlin-style) with unit lattice spacing: smooth,
 * roughly in [-1, 1], zero at lattice points. Scale the arguments to set the
 * feature size, and sum octaves for detail.
 *
 * @example const n = createNoise2D(7); n(x / 2000, y / 2000) // features ~2 km across
 */
export function createNoise2D(seed: number): (x: number, y: number) => number {
  const grad = (ix: number, iy: number, dx: number, dy: number): number => {
    // the same as hashUnit(seed, ix, iy), without the rest-argument array on this hot path
    const angle = (finalise(fold(fold(fold(0x9e3779b9, seed), ix), iy)) / 4294967296) * 2 * Math.PI
    return Math.cos(angle) * dx + Math.sin(angle) * dy
  }
  // quintic fade: continuous second derivative, so no creases at cell borders
  const fade = (t: number): number => t * t * t * (t * (t * 6 - 15) + 10)
  return (x, y) => {
    const x0 = Math.floor(x)
    const y0 = Math.floor(y)
    const fx = x - x0
    const fy = y - y0
    const u = fade(fx)
    const v = fade(fy)
    const n00 = grad(x0, y0, fx, fy)
    const n10 = grad(x0 + 1, y0, fx - 1, fy)
    const n01 = grad(x0, y0 + 1, fx, fy - 1)
    const n11 = grad(x0 + 1, y0 + 1, fx - 1, fy - 1)
    const nx0 = n00 + u * (n10 - n00)
    const nx1 = n01 + u * (n11 - n01)
    // a 2D gradient noise peaks at about ±0.7; scale so the range is about ±1
    return Math.SQRT2 * (nx0 + v * (nx1 - nx0))
  }
}
