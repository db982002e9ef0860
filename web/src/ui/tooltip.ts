/** One hover tooltip over the map, placed beside the pointer and kept inside the map. */
import type { Tooltip } from '../context.ts'

export function createTooltip(container: HTMLElement): Tooltip {
  const el = document.createElement('div')
  el.className = 'tooltip'
  el.dataset.testid = 'tooltip'
  el.hidden = true
  container.append(el)
  return {
    show(x, y, content) {
      el.replaceChildren(content)
      el.hidden = false
      const w = container.clientWidth
      const hgt = container.clientHeight
      const r = el.getBoundingClientRect()
      el.style.left = `${Math.min(x + 14, w - r.width - 4)}px`
      el.style.top = `${Math.min(y + 14, hgt - r.height - 4)}px`
    },
    hide() {
      el.hidden = true
    },
  }
}
