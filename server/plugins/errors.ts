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
    // The database went away (restart, failover): 503 with Retry-After, so clients retry (with their Idempotency-Key) instead of giving up.
    const dbCode = (err as { code?: unknown }).code
    if ((typeof dbCode === 'string' && (/^08[0-9A-Z]{3}$/.test(dbCode) || /^57P0[1-3]$/.test(dbCode) || dbCode === 'ECONNREFUSED' || dbCode === 'ECONNRESET'))
      || /^Connection terminated|Client has encountered a connection error|connect ECONNREFUSED/.test(err.message ?? '')) {
      req.log.warn({ err: err.message }, 'database unavailable')
      return reply.code(503).header('retry-after', '1').send(body(ErrorCode.unavailable, 'the database is not answering; retry shortly'))
    }
    // A multipart body that breaks off or has no boundary: busboy throws plain errors with no status.
    if (/^(Multipart: |Unexpected end of (multipart data|form)|Malformed (part header|urlencoded form))/.test(err.message ?? '')) {
      return reply.code(400).send(body(ErrorCode.invalidMultipart, `the multipart body is broken: ${err.message}`))
    }
    // A value that passed validation but not the database's types (an id past bigint, "Infinity" coerced to a
    // number, a NUL byte in text): SQLSTATE class 22, data exception. The caller's input, so 400; not division by zero (22012), which is ours.
    const sqlstate = (err as { code?: unknown }).code
    if (typeof sqlstate === 'string' && /^22[0-9A-Z]{3}$/.test(sqlstate) && sqlstate !== '22012') {
      req.log.info({ sqlstate, msg: err.message }, 'database refused a value')
      return reply.code(400).send(body(ErrorCode.invalidValue, 'a value is out of range or malformed', { sqlstate }))
    }
    req.log.error({ err }, 'unhandled error')
    return reply.code(500).send(body(ErrorCode.internal, 'internal error; it has been logged'))
  })
  app.setNotFoundHandler((req, reply) => {
    return reply.code(404).send(body(ErrorCode.notFound, `no route ${req.method} ${req.url.split('?')[0]}`))
  })
}, { name: 'errors' })
