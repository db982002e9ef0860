/**
 * Which labels to show so that none overlap: greedy by priority, with a grid
 * hash so 500 labels cost a few hundred box tests. Screen boxes are centred on
 * (x, y). Labels are re-placed on zoom only: without rotation or pitch, panning
 * moves every label by the same offset and changes no overlap.
 */
export interface LabelBox { x: number; y: number; w: number; h: number }

/** Indices of the boxes kept, in priority order (the input is already sorted, first = most important). */
export function declutter(boxes: LabelBox[], padding = 4): number[] {
  const cell = 64
  const grid = new Map<string, LabelBox[]>()
  const kept: number[] = []
  const span = (b: LabelBox): [number, number, number, number] => [
    Math.floor((b.x - b.w / 2 - padding) / cell), Math.floor((b.y - b.h / 2 - padding) / cell),
    Math.floor((b.x + b.w / 2 + padding) / cell), Math.floor((b.y + b.h / 2 + padding) / cell),
  ]
  const overlaps = (a: LabelBox, b: LabelBox): boolean =>
    Math.abs(a.x - b.x) * 2 < a.w + b.w + 2 * padding && Math.abs(a.y - b.y) * 2 < a.h + b.h + 2 * padding
  boxes.forEach((b, i) => {
    const [x0, y0, x1, y1] = span(b)
    for (let gx = x0; gx <= x1; gx++) {
      for (let gy = y0; gy <= y1; gy++) {
        if (grid.get(`${gx},${gy}`)?.some((o) => overlaps(o, b))) return
      }
    }
    kept.push(i)
    for (let gx = x0; gx <= x1; gx++) {
      for (let gy = y0; gy <= y1; gy++) {
        const k = `${gx},${gy}`
        const list = grid.get(k)
        if (list) list.push(b)
        else grid.set(k, [b])
      }
    }
  })
  return kept
}
