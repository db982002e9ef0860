/**
 * Signing in by token: the user pastes the bearer token they were given
 * (`npm start` prints the demo users' tokens; POST /api/users makes real ones),
 * GET /api/me says whose it is, and it is kept in localStorage so a reload
 * stays signed in. Parts of the client that need a role listen for changes.
 */
import { ApiError, type Api } from './api.ts'
import type { Me } from './types.ts'

const KEY = 'wangge.token'

export class Auth {
  private current: { token: string; me: Me } | null = null
  private listeners: (() => void)[] = []
  /** Resolves once a stored token has been checked (or there was none). */
  readonly ready: Promise<void>

  constructor(private readonly api: Api, private readonly storage: Storage = window.localStorage) {
    const stored = storage.getItem(KEY)
    this.ready = stored ? this.signIn(stored).then(() => undefined, () => undefined) : Promise.resolve()
  }

  get token(): string | null {
    return this.current?.token ?? null
  }

  get me(): Me | null {
    return this.current?.me ?? null
  }

  /** Checks the token with GET /api/me; keeps it when valid, else throws the API's error. */
  async signIn(raw: string): Promise<Me> {
    const token = raw.trim().replace(/^Bearer\s+/i, '')
    try {
      const me = await this.api.me(token)
      this.current = { token, me }
      this.storage.setItem(KEY, token)
      this.emit()
      return me
    } catch (err) {
      // A revoked token is forgotten; a network failure keeps it for the next try.
      if (err instanceof ApiError && err.status === 401) this.storage.removeItem(KEY)
      throw err
    }
  }

  signOut(): void {
    this.current = null
    this.storage.removeItem(KEY)
    this.emit()
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn)
  }

  private emit(): void {
    for (const l of this.listeners) l()
  }
}
