/**
 * Getis-Ord Gi* (Getis & Ord 1992; Ord & Getis 1995), the local statistic
 * ArcGIS's Hot Spot Analysis reports: for each unit, how far the sum over it
 * and its neighbours stands above what the district's mean would give, in
 * standard deviations. Binary weights: 1 for the unit itself and each
 * neighbour (H3: the ring around a hexagon; grid cells: cells that touch).
 *
 *   Gi*_i = (Σ_j w_ij x_j − X̄ Σ_j w_ij) / (S √((n Σ_j w_ij² − (Σ_j w_ij)²) / (n − 1)))
 *   X̄ = Σ x / n,  S = √(Σ x² / n − X̄²)
 *
 * Gi* is itself a z-score; p-values are two-sided from the normal distribution.
 */

/** Neighbours in compressed rows: unit i's are targets[offsets[i] … offsets[i+1]). Self not included. */
export interface Adjacency {
  offsets: Int32Array
  targets: Int32Array
}

/** Builds an Adjacency from neighbour lists. */
export function adjacency(lists: readonly (readonly number[])[]): Adjacency {
  const offsets = new Int32Array(lists.length + 1)
  for (let i = 0; i < lists.length; i++) offsets[i + 1] = offsets[i] + lists[i].length
  const targets = new Int32Array(offsets[lists.length])
  lists.forEach((l, i) => targets.set(l, offsets[i]))
  return { offsets, targets }
}

/**
 * Gi* z-score of every unit.
 * @example giStar([0, 0, 9, 0], adjacency([[1], [0, 2], [1, 3], [2]]))
 */
export function giStar(x: ArrayLike<number>, adj: Adjacency): Float64Array {
  const n = x.length
  const z = new Float64Array(n)
  if (n < 2) return z
  let sum = 0
  let sq = 0
  for (let i = 0; i < n; i++) { sum += x[i]; sq += x[i] * x[i] }
  const mean = sum / n
  const s = Math.sqrt(Math.max(0, sq / n - mean * mean))
  // No variation: nothing stands out.
  if (s === 0 || !Number.isFinite(s)) return z
  for (let i = 0; i < n; i++) {
    let local = x[i]
    const a = adj.offsets[i]
    const b = adj.offsets[i + 1]
    for (let k = a; k < b; k++) local += x[adj.targets[k]]
    const w = 1 + b - a
    const denom = s * Math.sqrt((n * w - w * w) / (n - 1))
    z[i] = denom > 0 ? (local - mean * w) / denom : 0
  }
  return z
}

/** erfc by W. J. Cody's rational approximation via Numerical Recipes' erfcc (|error| < 1.2e-7). */
function erfc(x: number): number {
  const t = 1 / (1 + 0.5 * Math.abs(x))
  const y = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
  return x >= 0 ? y : 2 - y
}

/** Two-sided p-value of a standard normal z. */
export function pValue(z: number): number {
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2))
}

/** Confidence levels and their two-sided critical z. */
export const CONFIDENCE: readonly { level: 99 | 95 | 90; z: number }[] = [
  { level: 99, z: 2.5758 }, { level: 95, z: 1.96 }, { level: 90, z: 1.6449 },
]

/**
 * The confidence bin, signed like ArcGIS's Gi_Bin: 99, 95, 90 for hot spots,
 * −99, −95, −90 for cold spots, 0 for not significant.
 */
export function confidence(z: number): number {
  for (const c of CONFIDENCE) if (Math.abs(z) >= c.z) return Math.sign(z) * c.level
  return 0
}
