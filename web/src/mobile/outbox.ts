/**
 * Reports and verification steps made on the phone wait here (IndexedDB, with
 * their photos as Blobs) until they are sent: offline, they stay queued across
 * reloads; online, they go one by one, photos first, each with its own
 * Idempotency-Key so a retry after a lost answer never makes a second case.
 * A 4xx other than 408/429 is the server's final word: the item is kept,
 * marked failed with the reason, for the user to see and discard.
 */

export type OutboxItem = {
  key: string
  created: number
  photos: Blob[]
  /** Photo ids once uploaded (content hashes: uploading again is harmless). */
  photoIds?: string[]
  attempts: number
  error?: string
  failed?: boolean
} & (
  | { kind: 'report'; body: Record<string, unknown> }
  | { kind: 'action'; caseId: number; action: 'verify' | 'rework'; note: string }
)

export interface SentRecord { key: string; kind: OutboxItem['kind']; caseId: number; linked: boolean; at: number; summary: string }

const DB = 'wangge-outbox'
const STORE = 'items'

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1)
    req.onupgradeneeded = () => { req.result.createObjectStore(STORE, { keyPath: 'key' }) }
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error ?? new Error('IndexedDB unavailable'))
  })
}

async function tx<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open()
  try {
    return await new Promise<T>((resolve, reject) => {
      const t = db.transaction(STORE, mode)
      const req = fn(t.objectStore(STORE))
      t.oncomplete = () => resolve(req.result)
      t.onerror = () => reject(t.error ?? new Error('IndexedDB write failed'))
    })
  } finally {
    db.close()
  }
}

export const outbox = {
  add: (item: OutboxItem): Promise<IDBValidKey> => tx('readwrite', (s) => s.put(item)),
  put: (item: OutboxItem): Promise<IDBValidKey> => tx('readwrite', (s) => s.put(item)),
  remove: (key: string): Promise<undefined> => tx('readwrite', (s) => s.delete(key)),
  async all(): Promise<OutboxItem[]> {
    const items = await tx<OutboxItem[]>('readonly', (s) => s.getAll() as IDBRequest<OutboxItem[]>)
    return items.sort((a, b) => a.created - b.created)
  },
}

export interface SendDeps {
  token: () => string | null
  /** Called after every change of the queue (to redraw the count). */
  changed: () => void
  sent: (r: SentRecord) => void
}

class Final extends Error {}

async function send(item: OutboxItem, token: string): Promise<SentRecord> {
  const auth = { authorization: `Bearer ${token}` }
  const answer = async (res: Response): Promise<unknown> => {
    const text = await res.text()
    const body: unknown = text ? JSON.parse(text) : null
    if (res.ok) return body
    const msg = (body as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${res.status}`
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new Final(msg)
    throw new Error(msg)
  }
  if (item.photos.length && !item.photoIds) {
    const form = new FormData()
    item.photos.forEach((p, i) => form.append('photo', p, `photo-${i + 1}.jpg`))
    const up = await answer(await fetch('/api/photos', { method: 'POST', headers: auth, body: form })) as { photos: { id: string }[] }
    item.photoIds = up.photos.map((p) => p.id)
    await outbox.put(item)
  }
  const photos = item.photoIds ?? []
  if (item.kind === 'report') {
    const res = await fetch('/api/cases', {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': item.key },
      body: JSON.stringify({ ...item.body, ...(photos.length ? { photos } : {}) }),
    })
    const r = await answer(res) as { case: { id: number; matter_name?: string }; linked: boolean }
    return { key: item.key, kind: 'report', caseId: r.case.id, linked: r.linked, at: Date.now(), summary: String(item.body.description ?? '') }
  }
  const res = await fetch(`/api/cases/${item.caseId}/${item.action}`, {
    method: 'POST', headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ note: item.note || undefined, photos }),
  })
  await answer(res)
  return { key: item.key, kind: 'action', caseId: item.caseId, linked: false, at: Date.now(), summary: item.action }
}

let flushing: Promise<void> | null = null

/** Sends what is queued, oldest first; stops at the first network failure (the rest waits for the next try). */
export function flush(deps: SendDeps): Promise<void> {
  if (flushing) return flushing
  flushing = (async () => {
    const token = deps.token()
    if (!token || !navigator.onLine) return
    for (const item of await outbox.all()) {
      if (item.failed) continue
      try {
        const r = await send(item, token)
        await outbox.remove(item.key)
        deps.sent(r)
      } catch (err) {
        item.attempts++
        item.error = err instanceof Error ? err.message : String(err)
        if (err instanceof Final) item.failed = true
        await outbox.put(item)
        deps.changed()
        if (!(err instanceof Final)) break
      }
      deps.changed()
    }
  })().finally(() => { flushing = null })
  return flushing
}

/** Sends on start, whenever the connection comes back, and every 20 s while anything waits. */
export function startSender(deps: SendDeps): void {
  const go = (): void => { void flush(deps) }
  window.addEventListener('online', go)
  setInterval(() => { void outbox.all().then((xs) => { if (xs.some((x) => !x.failed)) go() }) }, 20_000)
  go()
}
