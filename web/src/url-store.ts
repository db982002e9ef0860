/**
 * The URL hash as the app's shareable state. Writes use replaceState (a pan is
 * not a history entry, and no hashchange fires for our own writes); a hash
 * edited by hand or a pasted link fires hashchange and is applied.
 */
import { formatState, parseState, type UrlState } from './lib/url-state.ts'

export class UrlStore {
  private state: UrlState
  private listeners: ((s: UrlState, prev: UrlState) => void)[] = []
  private pending = 0

  constructor(private readonly loc: Location = window.location) {
    this.state = parseState(loc.hash, loc.search)
    window.addEventListener('hashchange', () => {
      const prev = this.state
      this.state = parseState(this.loc.hash, this.loc.search)
      for (const l of this.listeners) l(this.state, prev)
    })
  }

  get(): UrlState {
    return this.state
  }

  /** Merges and writes the hash (coalesced to one write per frame while the map moves). */
  update(patch: Partial<UrlState>): void {
    this.state = { ...this.state, ...patch }
    if (this.pending) return
    this.pending = requestAnimationFrame(() => {
      this.pending = 0
      const hash = formatState(this.state)
      if (hash !== this.loc.hash) history.replaceState(history.state, '', `${this.loc.pathname}${this.loc.search}${hash}`)
    })
  }

  /** Called when the hash was changed from outside (a pasted link, a hand edit). */
  onExternalChange(fn: (s: UrlState, prev: UrlState) => void): void {
    this.listeners.push(fn)
  }
}
