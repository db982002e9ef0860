/**
 * The one place errors become HTTP answers: `{ error: { code, message, details } }`.
 * 4xx carry what went wrong and where; 5xx are logged and their internals hidden.
 */
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance } from 'fastify'
import { AppError, ErrorCode } from '../errors.ts'
import { GridRejected } from '../repositories/grid-import.ts'

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown }
}

function body(code: string, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } }
}

const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, ErrorCode.bodyTooLarge],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, ErrorCode.unsupportedMediaType],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, ErrorCode.invalidJson],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, ErrorCode.invalidJson],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, ErrorCode.badRequest],
}

export default fp(async function errors(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof AppError) {
      return reply.code(err.statusCode).send(body(err.code, err.message, err.details))
    }
    if (err instanceof GridRejected) {
      return reply.code(422).send(body(ErrorCode.invalidGrid, `the grid was not imported: ${err.problemCount} problem(s); nothing was written`,
        { problem_count: err.problemCount, problems: err.problems }))
    }
    if (err.validation) {
      const where = err.validationContext ?? 'request'
      return reply.code(400).send(body(ErrorCode.validation, err.message, err.validation.map((v) => ({
        field: `${where}${v.instancePath ? v.instancePath.replace(/\//g, '.') : ''}`,
        message: v.message,
        params: v.params,
      }))))
    }
    const known = err.code ? FASTIFY_CODES[err.code] : undefined
    if (known) return reply.code(known[0]).send(body(known[1], err.message))
    if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON/i.test(err.message))) {
      return reply.code(400).send(body(ErrorCode.invalidJson, `body is not valid JSON: ${err.message}`))
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send(body(err.code?.toLowerCase() ?? ErrorCode.badRequest, err.message))
    }
    req.log.error({ err }, 'unhandled error')
    return reply.code(500).send(body(ErrorCode.internal, 'internal error; it has been logged'))
  })
  app.setNotFoundHandler((req, reply) => {
    return reply.code(404).send(body(ErrorCode.notFound, `no route ${req.method} ${req.url.split('?')[0]}`))
  })
}, { name: 'errors' })
