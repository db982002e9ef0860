/** Small helpers shared by routes. */
import type { FastifyReply } from 'fastify'

/**
 * Sends a body that is already serialised (GeoJSON built by json_agg in SQL).
 * The route's response schema still documents it; re-parsing it only to
 * serialise it again would cost more than building it did.
 */
export function sendText(reply: FastifyReply, contentType: string, body: string): FastifyReply {
  return (reply as FastifyReply).type(contentType).send(body)
}

/** Sends a stream (batch results): the response schema documents the rows, not a JSON body. */
export function sendStream(reply: FastifyReply, contentType: string, body: NodeJS.ReadableStream): FastifyReply {
  return (reply as FastifyReply).type(contentType).send(body)
}
