/**
 * Photos in the database as bytea, keyed by the SHA-256 of their bytes: the
 * same picture uploaded twice is stored once, and a backup of the database
 * holds the evidence with the cases it belongs to.
 */
import type { Queryable } from '../db/types.ts'
import type { PhotoMime } from '../cases/photo-type.ts'

export interface PhotoInput {
  id: string
  mime: PhotoMime
  bytes: Buffer
}

export interface PhotoRow {
  id: string
  mime: PhotoMime
  size: number
  bytes: Uint8Array
  created_at: Date
}

export class PhotoRepository {
  constructor(private readonly db: Queryable) {}

  /** Stores photos (known ones are kept as they are) and records who uploaded them. */
  async insert(photos: readonly PhotoInput[], userId: number): Promise<void> {
    if (!photos.length) return
    for (const p of photos) {
      await this.db.query('INSERT INTO photos (id, mime, size, bytes) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING',
        [p.id, p.mime, p.bytes.length, p.bytes])
    }
    await this.db.query('INSERT INTO photo_uploads (photo_id, user_id) SELECT x, $2 FROM unnest($1::text[]) AS x ON CONFLICT DO NOTHING',
      [[...new Set(photos.map((p) => p.id))], userId])
  }

  async get(id: string): Promise<PhotoRow | null> {
    return (await this.db.query<PhotoRow>('SELECT id, mime, size, bytes, created_at FROM photos WHERE id = $1', [id])).rows[0] ?? null
  }

  async exists(id: string): Promise<boolean> {
    return (await this.db.query('SELECT 1 FROM photos WHERE id = $1', [id])).rows.length > 0
  }
}
