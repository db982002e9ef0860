/**
 * A static k-d tree over points of the facility plane (the layout of mourner's
 * kdbush: one array sorted so that every range's middle element splits it),
 * with an exact k-nearest search and a box search. It adapts to where the
 * points are, so empty fields and points far outside the district cost a few
 * levels, where a bucket grid would walk ring after empty ring.
 */
import { ptPt } from './facility-geometry.ts'
import type { TopK } from './facility-grid.ts'

/** Leaves hold at most this many points: 12–32 measure within noise of each other for k = 1…10 on the fixture. */
const NODE_SIZE = 24

export class PointKD {
  /** Item positions, in tree order. */
  readonly ids: Int32Array
  /** x, y interleaved, in tree order. */
  readonly coords: Float64Array
  private readonly stack = new Float64Array(4 * 128)

  /** @param members item positions; @param px, py plane coordinates by position */
  constructor(members: Int32Array, px: Float64Array, py: Float64Array) {
    const n = members.length
    this.ids = Int32Array.from(members)
    this.coords = new Float64Array(2 * n)
    for (let i = 0; i < n; i++) {
      this.coords[2 * i] = px[members[i]]
      this.coords[2 * i + 1] = py[members[i]]
    }
    sortKD(this.ids, this.coords, 0, n - 1, 0)
  }

  get count(): number { return this.ids.length }

  /** Offers to `top` every point that can still make it, nearest ranges first. */
  nearest(x: number, y: number, top: TopK, maxD: number, ok: ((pos: number) => boolean) | null): void {
    const { ids, coords } = this
    if (!ids.length) return
    const stack = this.stack
    // what a point must not exceed to get in: the k-th best so far, or maxD
    let bound = Math.min(maxD, top.bound())
    // entries: left, right, axis, lower bound of the range's distance
    let sp = 0
    stack[sp++] = 0; stack[sp++] = ids.length - 1; stack[sp++] = 0; stack[sp++] = 0
    while (sp > 0) {
      const lb = stack[--sp]
      const axis = stack[--sp]
      const right = stack[--sp]
      const left = stack[--sp]
      if (lb > bound) continue
      if (right - left <= NODE_SIZE) {
        for (let i = left; i <= right; i++) {
          const dx = coords[2 * i] - x
          const dy = coords[2 * i + 1] - y
          // sqrt only for the few that can get in: ranks use the same rounded distance PostGIS does
          if (dx * dx + dy * dy > bound * bound * (1 + 1e-12)) continue
          const p = ids[i]
          if (ok !== null && !ok(p)) continue
          const d = ptPt(x, y, coords[2 * i], coords[2 * i + 1])
          if (d <= bound) {
            top.offer(d, p)
            bound = Math.min(maxD, top.bound())
          }
        }
        continue
      }
      const m = (left + right) >> 1
      const p = ids[m]
      if (ok === null || ok(p)) {
        const d = ptPt(x, y, coords[2 * m], coords[2 * m + 1])
        if (d <= bound) {
          top.offer(d, p)
          bound = Math.min(maxD, top.bound())
        }
      }
      const diff = (axis === 0 ? x : y) - coords[2 * m + axis]
      const far = Math.max(lb, Math.abs(diff))
      const next = 1 - axis
      // the far side first onto the stack, so the near side is searched first
      if (diff < 0) {
        stack[sp++] = m + 1; stack[sp++] = right; stack[sp++] = next; stack[sp++] = far
        stack[sp++] = left; stack[sp++] = m - 1; stack[sp++] = next; stack[sp++] = lb
      } else {
        stack[sp++] = left; stack[sp++] = m - 1; stack[sp++] = next; stack[sp++] = far
        stack[sp++] = m + 1; stack[sp++] = right; stack[sp++] = next; stack[sp++] = lb
      }
    }
  }

  /** Calls `visit` for every point in the plane box (edges included). */
  range(x0: number, y0: number, x1: number, y1: number, visit: (pos: number, px: number, py: number) => void): void {
    const { ids, coords } = this
    if (!ids.length) return
    const stack: number[] = [0, ids.length - 1, 0]
    while (stack.length) {
      const axis = stack.pop()!
      const right = stack.pop()!
      const left = stack.pop()!
      if (right - left <= NODE_SIZE) {
        for (let i = left; i <= right; i++) {
          const x = coords[2 * i], y = coords[2 * i + 1]
          if (x >= x0 && x <= x1 && y >= y0 && y <= y1) visit(ids[i], x, y)
        }
        continue
      }
      const m = (left + right) >> 1
      const x = coords[2 * m], y = coords[2 * m + 1]
      if (x >= x0 && x <= x1 && y >= y0 && y <= y1) visit(ids[m], x, y)
      const v = axis === 0 ? x : y
      if ((axis === 0 ? x0 : y0) <= v) stack.push(left, m - 1, 1 - axis)
      if ((axis === 0 ? x1 : y1) >= v) stack.push(m + 1, right, 1 - axis)
    }
  }
}

function sortKD(ids: Int32Array, coords: Float64Array, left: number, right: number, axis: number): void {
  if (right - left <= NODE_SIZE) return
  const m = (left + right) >> 1
  select(ids, coords, m, left, right, axis)
  sortKD(ids, coords, left, m - 1, 1 - axis)
  sortKD(ids, coords, m + 1, right, 1 - axis)
}

/** Floyd–Rivest selection: puts the k-th smallest (by axis) at k, smaller left of it, larger right. */
function select(ids: Int32Array, coords: Float64Array, k: number, left: number, right: number, axis: number): void {
  while (right > left) {
    if (right - left > 600) {
      const n = right - left + 1
      const m = k - left + 1
      const z = Math.log(n)
      const s = 0.5 * Math.exp((2 * z) / 3)
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (m - n / 2 < 0 ? -1 : 1)
      select(ids, coords, k, Math.max(left, Math.floor(k - (m * s) / n + sd)), Math.min(right, Math.floor(k + ((n - m) * s) / n + sd)), axis)
    }
    const t = coords[2 * k + axis]
    let i = left
    let j = right
    swap(ids, coords, left, k)
    if (coords[2 * right + axis] > t) swap(ids, coords, left, right)
    while (i < j) {
      swap(ids, coords, i, j)
      i++
      j--
      while (coords[2 * i + axis] < t) i++
      while (coords[2 * j + axis] > t) j--
    }
    if (coords[2 * left + axis] === t) swap(ids, coords, left, j)
    else {
      j++
      swap(ids, coords, j, right)
    }
    if (j <= k) left = j + 1
    if (k <= j) right = j - 1
  }
}

function swap(ids: Int32Array, coords: Float64Array, i: number, j: number): void {
  const a = ids[i]; ids[i] = ids[j]; ids[j] = a
  const x = coords[2 * i]; coords[2 * i] = coords[2 * j]; coords[2 * j] = x
  const y = coords[2 * i + 1]; coords[2 * i + 1] = coords[2 * j + 1]; coords[2 * j + 1] = y
}
