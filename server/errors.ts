/**
 * Errors a handler may throw. One error handler (server/plugins/errors.ts) turns
 * them into `{ error: { code, message, details } }` with their status.
 */

export const ErrorCode = {
  badRequest: 'bad_request',
  validation: 'validation_failed',
  notFound: 'not_found',
  invalidGrid: 'invalid_grid',
  bodyTooLarge: 'body_too_large',
  unsupportedMediaType: 'unsupported_media_type',
  invalidJson: 'invalid_json',
  invalidBbox: 'invalid_bbox',
  invalidValue: 'invalid_value',
  invalidMultipart: 'invalid_multipart',
  internal: 'internal_error',
  unavailable: 'service_unavailable',
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode] | (string & {})

export class AppError extends Error {
  readonly statusCode: number
  readonly code: ErrorCode
  readonly details?: unknown
  constructor(statusCode: number, code: ErrorCode, message: string, details?: unknown) {
    super(message)
    this.name = 'AppError'
    this.statusCode = statusCode
    this.code = code
    this.details = details
  }
}

export const notFound = (what: string): AppError => new AppError(404, ErrorCode.notFound, `${what} not found`)
export const badRequest = (code: ErrorCode, message: string, details?: unknown): AppError => new AppError(400, code, message, details)
