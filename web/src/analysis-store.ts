/**
 * The analysis filters shared by the heatmap, hexagon, hot-spot and score
 * layers and the leader view: the time window (length and a slider over the
 * case history) and the matter. Analysis needs a role that reads it (leader,
 * dispatcher, command centre, planner, admin): without one, nothing is asked.
 */
import type { AnalysisQuery, Api } from './api.ts'
import type { Auth } from './auth.ts'
import { windowOf, type WindowState } from './lib/window.ts'

/** Roles that may read the district-wide analysis (server/routes/analysis.ts READERS). */
export const ANALYSIS_ROLES = ['leader', 'admin', 'command_centre', 'dispatcher', 'planner']

export class AnalysisStore {
  state: WindowState = { offsetDays: 0, days: 30, matter: null }
  /** Report time of the newest case the signed-in user can see; null until known. */
  latest: Date | null = null
  /** Bumped by reload(): layers include it in what they cache, so a refresh asks again. */
  generation = 0
  private listeners: (() => void)[] = []
  private loading: Promise<void> | null = null

  constructor(private readonly api: Api, private readonly auth: Auth) {
    auth.onChange(() => {
      this.latest = null
      this.loading = null
      void this.ensure().then(() => this.emit())
    })
  }

  /** Can the signed-in user read the analysis? */
  get allowed(): boolean {
    const role = this.auth.me?.role
    return role !== undefined && ANALYSIS_ROLES.includes(role)
  }

  /** Finds the newest case once per sign-in. */
  ensure(): Promise<void> {
    if (!this.allowed || !this.auth.token) return Promise.resolve()
    this.loading ??= this.api.cases(this.auth.token, { sort: 'newest', limit: 1 }).then((r) => {
      this.latest = r.items[0] ? new Date(r.items[0].reported_at) : new Date()
    }, () => {
      this.loading = null
    })
    return this.loading
  }

  /** The query for the current filters, or null when the analysis cannot be read. */
  query(): AnalysisQuery | null {
    if (!this.allowed || !this.latest) return null
    return { ...windowOf(this.latest, this.state), matter: this.state.matter }
  }

  /** Asks again for everything (the big screen's periodic refresh): the newest case, then every layer. */
  async reload(): Promise<void> {
    this.loading = null
    this.latest = null
    await this.ensure()
    this.generation++
    this.emit()
  }

  set(patch: Partial<WindowState>): void {
    this.state = { ...this.state, ...patch }
    this.emit()
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn)
  }

  private emit(): void {
    for (const l of this.listeners) l()
  }
}
