/**
 * Photos: multipart upload (JPEG, PNG or WebP by their bytes, never by name),
 * stored in the database under their SHA-256, and served back to whoever may
 * see them (their uploader, or anyone who may see a case they belong to).
 * A request is all or nothing: one bad file and none is stored.
 */
import { createHash } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import multipart from '@fastify/multipart'
import { Type } from 'typebox'
import { AppError, ErrorCode } from '../errors.ts'
import { ErrorSchema, errorResponses } from '../schemas.ts'
import { requireActor } from '../plugins/auth.ts'
import { scopeOf } from '../cases/service.ts'
import { sniffImage, type PhotoMime } from '../cases/photo-type.ts'
import { PhotoRepository } from '../repositories/case-photos.ts'
import { PhotoId, authErrors } from './case-schemas.ts'

export interface PhotoRoutesOptions {
  /** Largest photo, bytes. 8 MiB: a 12-megapixel phone JPEG is 3–6 MiB. */
  maxBytes?: number
  /** Most photos per request: a report carries up to 9, as the mobile app allows. */
  maxFiles?: number
}

const PhotoOut = Type.Object({ id: PhotoId, mime: Type.String(), size: Type.Integer(), url: Type.String() })

const routes: FastifyPluginAsyncTypebox<PhotoRoutesOptions> = async (app, opts) => {
  const maxBytes = opts.maxBytes ?? 8 * 1024 * 1024
  const maxFiles = opts.maxFiles ?? 9
  await app.register(multipart, { limits: { fileSize: maxBytes, files: maxFiles, fields: 10, parts: maxFiles + 10 } })

  app.post('/api/photos', {
    preHandler: app.requireRole('resident', 'supervisor', 'command_centre', 'dispatcher', 'handler', 'admin'),
    schema: {
      tags: ['cases'],
      summary: 'Upload photos (multipart/form-data, any field name); answers their ids to put in a report or a step',
      description: `JPEG, PNG or WebP, recognised by their first bytes; at most ${maxFiles} files of ${maxBytes} bytes each. One bad file and nothing is stored.`,
      consumes: ['multipart/form-data'],
      response: { 201: Type.Object({ photos: Type.Array(PhotoOut) }), 413: ErrorSchema, 415: ErrorSchema, ...authErrors, ...errorResponses },
    },
  }, async (req, reply) => {
    const actor = requireActor(req)
    if (!req.isMultipart()) throw new AppError(415, ErrorCode.unsupportedMediaType, 'send photos as multipart/form-data')
    const files: { id: string; mime: PhotoMime; bytes: Buffer; name: string }[] = []
    try {
      for await (const part of req.parts()) {
        if (part.type !== 'file') continue
        const bytes = await part.toBuffer()
        if (part.file.truncated) throw new AppError(413, 'photo_too_large', `${part.filename} is larger than ${maxBytes} bytes`, { field: part.fieldname, file: part.filename, max_bytes: maxBytes })
        const mime = sniffImage(bytes)
        if (!mime) throw new AppError(415, 'unsupported_photo_type', `${part.filename} is not a JPEG, PNG or WebP image (judged by its bytes, not its name or declared type)`, { field: part.fieldname, file: part.filename })
        files.push({ id: createHash('sha256').update(bytes).digest('hex'), mime, bytes, name: part.filename })
      }
    } catch (err) {
      if (err instanceof AppError) throw err
      const code = (err as { code?: string }).code
      if (code === 'FST_REQ_FILE_TOO_LARGE') throw new AppError(413, 'photo_too_large', `a photo is larger than ${maxBytes} bytes`, { max_bytes: maxBytes })
      if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT') throw new AppError(413, 'too_many_photos', `at most ${maxFiles} photos per request`, { max_files: maxFiles })
      if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') throw new AppError(415, ErrorCode.unsupportedMediaType, 'send photos as multipart/form-data')
      throw err
    }
    if (!files.length) throw new AppError(400, 'no_photo', 'the request has no file part', { field: 'body' })
    if (actor.userId === null) throw new AppError(403, 'forbidden_role', 'the system does not upload photos')
    const userId = actor.userId
    await app.db.transaction(async (tx) => new PhotoRepository(tx).insert(files, userId))
    return reply.code(201).send({ photos: files.map((f) => ({ id: f.id, mime: f.mime, size: f.bytes.length, url: `/api/photos/${f.id}` })) })
  })

  app.get('/api/photos/:id', {
    schema: {
      tags: ['cases'],
      summary: 'A photo\'s bytes, for its uploader and whoever may see a case it belongs to',
      params: Type.Object({ id: PhotoId }),
      response: { 200: Type.Unknown({ description: 'image/jpeg, image/png or image/webp' }), ...authErrors, ...errorResponses },
    },
  }, async (req, reply) => {
    const actor = requireActor(req)
    const visible = await app.cases.queries.photoVisible(req.params.id, scopeOf(actor), actor.userId, app.caseConfig.current().settings.publishResultPhotos)
    if (!visible) throw new AppError(404, ErrorCode.notFound, `photo ${req.params.id} not found`)
    const photo = await app.photos.get(req.params.id)
    if (!photo) throw new AppError(404, ErrorCode.notFound, `photo ${req.params.id} not found`)
    return reply
      .type(photo.mime)
      .header('etag', `"${photo.id}"`)
      // The id is the content's hash: the bytes at this URL never change; only who may see them can.
      .header('cache-control', 'private, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .send(Buffer.from(photo.bytes))
  })
}

export const publishRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/api/cases/:id/photos/:photo/publish', {
    preHandler: app.requireRole('command_centre', 'dispatcher', 'admin'),
    schema: {
      tags: ['cases'],
      summary: 'Publish a photo of a case to its reporters (residents), or withdraw it; null: back to the default (repair and verification photos are public while publish_result_photos is on)',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }), photo: PhotoId }),
      body: Type.Object({ published: Type.Union([Type.Boolean(), Type.Null()]) }, { additionalProperties: false }),
      response: { 200: Type.Object({ case_id: Type.Integer(), photo: PhotoId, published: Type.Union([Type.Boolean(), Type.Null()]) }), ...authErrors, ...errorResponses },
    },
  }, async (req) => {
    const r = await app.db.query('UPDATE case_photos SET published = $3 WHERE case_id = $1 AND photo_id = $2', [req.params.id, req.params.photo, req.body.published])
    if (r.affectedRows === 0) throw new AppError(404, ErrorCode.notFound, `case ${req.params.id} has no photo ${req.params.photo}`)
    return { case_id: req.params.id, photo: req.params.photo, published: req.body.published }
  })
}

export default routes
