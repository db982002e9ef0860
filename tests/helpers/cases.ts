/** Helpers for the case tests: demo tokens, photo uploads, a clock the test moves, a power cover to break. */
import type { FastifyInstance } from 'fastify'
import { randomBytes } from 'node:crypto'
import { demoToken } from '../../fixtures/users.ts'
import type { Queryable } from '../../server/db/types.ts'

export const auth = (key: string): Record<string, string> => ({ authorization: `Bearer ${demoToken(key)}` })

/** Bytes that start like a JPEG (what the server sniffs), different each call. */
export function fakeJpeg(size = 2048): Buffer {
  const b = randomBytes(size)
  b[0] = 0xff; b[1] = 0xd8; b[2] = 0xff; b[3] = 0xe0
  return b
}

export function pngBytes(size = 512): Buffer {
  const b = randomBytes(size)
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b)
  return b
}

/** A multipart/form-data body with these files. */
export function multipart(files: { field?: string; name: string; type: string; bytes: Buffer }[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----wangge${randomBytes(8).toString('hex')}`
  const parts: Buffer[] = []
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.field ?? 'file'}"; filename="${f.name}"\r\nContent-Type: ${f.type}\r\n\r\n`))
    parts.push(f.bytes, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

/** Uploads photos as `key`; returns their ids. */
export async function upload(app: FastifyInstance, key: string, files: Buffer[] = [fakeJpeg()]): Promise<string[]> {
  const body = multipart(files.map((bytes, i) => ({ name: `photo${i}.jpg`, type: 'image/jpeg', bytes })))
  const r = await app.inject({ method: 'POST', url: '/api/photos', payload: body.payload, headers: { ...body.headers, ...auth(key) } })
  if (r.statusCode !== 201) throw new Error(`upload failed: ${r.statusCode} ${r.body}`)
  return (r.json() as { photos: { id: string }[] }).photos.map((p) => p.id)
}

/** A clock the test sets; installs itself on the app's case service. */
export function testClock(app: FastifyInstance, start: Date): { now: Date; set(d: Date): void; advance(minutes: number): Date } {
  const c = {
    now: start,
    set(d: Date) { c.now = d },
    advance(minutes: number) { c.now = new Date(c.now.getTime() + minutes * 60_000); return c.now },
  }
  app.cases.setClock(() => c.now)
  return c
}

/** A component of a subclass in a subdistrict, with no open case of its matter nearby. */
export async function component(db: Queryable, subclass: string, subdistrict: string, skip = 0): Promise<{ id: string; lon: number; lat: number; owner: string; maintainer: string | null; cell: string }> {
  const r = (await db.query<{ id: string; lon: number; lat: number; owner: string; maintainer: string | null; cell: string }>(
    `SELECT f.id, ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat, f.owner, f.maintainer, f.cell_code AS cell FROM facilities f
     WHERE f.subclass = $1 AND f.cell_code LIKE $2 || '%' AND GeometryType(f.geom) = 'POINT'
       AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.is_open AND ST_DWithin(c.geom::geography, f.geom::geography, 200))
     ORDER BY f.id OFFSET $3 LIMIT 1`, [subclass, subdistrict, skip])).rows[0]
  if (!r) throw new Error(`no ${subclass} in ${subdistrict}`)
  return r
}

/** Metres east as degrees of longitude at Beijing. */
export const east = (m: number): number => m / 85_200
