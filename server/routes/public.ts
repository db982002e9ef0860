/**
 * Reporting without an account (市民随手拍): a resident's phone asks for a
 * simple human check, answers it, and receives a guest account of its own — a
 * resident user with a bearer token the phone keeps. From then on the phone is
 * an ordinary resident: it uploads photos, reports (channel `web`), follows its
 * own cases and rates them through the same API as everyone else, and sees
 * only its own cases. Nothing here bypasses the case loop's checks.
 *
 * Doors: the check is a signed, expiring, single-use arithmetic question
 * (stateless but for the used nonces, kept in the database until their
 * question expires, so a question answered at one server process cannot be
 * answered again at another: migration 014); guest accounts are limited per
 * address, and a guest's reports per account (`config.rateLimit` on
 * /api/cases, server/routes/cases.ts), counted in the database too. The key
 * that signs the questions is WANGGE_SECRET — the same on every process —
 * or, when it is not set, drawn by each process at start: then a restart
 * forgets outstanding questions (a phone simply asks again), and several
 * processes cannot check each other's.
 */
import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError } from '../errors.ts'
import { ErrorSchema, errorResponses } from '../schemas.ts'
import { newToken } from '../repositories/case-users.ts'

export interface PublicRoutesOptions {
  /** HMAC key of the questions (WANGGE_SECRET); random per process when null or not given. */
  secret?: string | null
  /** Guest accounts per address per hour. */
  guestsPerHour?: number
  /** Questions per address per minute. */
  challengesPerMinute?: number
  /** How long a question may be answered, ms. */
  challengeTtlMs?: number
  now?: () => number
}

interface Payload { n: string; exp: number; h: string }

const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64url')

const routes: FastifyPluginAsyncTypebox<PublicRoutesOptions> = async (app, opts) => {
  const secret = opts.secret ?? randomBytes(32).toString('hex')
  const ttl = opts.challengeTtlMs ?? 10 * 60_000
  const now = opts.now ?? Date.now
  const sign = (s: string): string => createHmac('sha256', secret).update(s).digest('base64url')
  const answerHash = (nonce: string, answer: number): string => createHmac('sha256', secret).update(`${nonce}:${answer}`).digest('base64url')

  app.get('/api/public/challenge', {
    config: { rateLimit: { max: opts.challengesPerMinute ?? 30, timeWindow: 60_000 } },
    schema: {
      tags: ['public'],
      summary: 'A simple human check for reporting without an account: an arithmetic question and a signed token to send back with the answer',
      response: {
        200: Type.Object({
          challenge: Type.String({ description: 'send back unchanged with the answer' }),
          question: Type.String({ description: 'e.g. "7 + 5 = ?"' }),
          expires_at: Type.String({ format: 'date-time' }),
        }),
        429: ErrorSchema,
      },
    },
  }, async () => {
    const a = randomInt(2, 10)
    const b = randomInt(2, 10)
    const plus = randomInt(0, 2) === 0
    const [x, y] = plus ? [a, b] : [Math.max(a, b) + 5, Math.min(a, b)]
    const answer = plus ? x + y : x - y
    const nonce = b64(randomBytes(12))
    const exp = now() + ttl
    const body = b64(JSON.stringify({ n: nonce, exp, h: answerHash(nonce, answer) } satisfies Payload))
    return { challenge: `${body}.${sign(body)}`, question: `${x} ${plus ? '+' : '−'} ${y} = ?`, expires_at: new Date(exp).toISOString() }
  })

  app.post('/api/public/guest', {
    config: { rateLimit: { max: opts.guestsPerHour ?? 5, timeWindow: 3_600_000 } },
    schema: {
      tags: ['public'],
      summary: 'Answer the human check and get a guest resident account for this phone; the token is shown this once',
      description: 'The phone keeps the token and sends it as Authorization: Bearer on every later request (upload photos, POST /api/cases with channel web, '
        + 'GET /api/cases to follow its reports, rate a closed case). Limited per address; each guest\'s reports are limited too.',
      body: Type.Object({
        challenge: Type.String({ minLength: 10, maxLength: 1000 }),
        answer: Type.Integer({ minimum: -1000, maximum: 1000 }),
      }, { additionalProperties: false }),
      response: {
        201: Type.Object({ token: Type.String(), user_id: Type.Integer(), role: Type.Literal('resident') }),
        422: ErrorSchema, 429: ErrorSchema, ...errorResponses,
      },
    },
  }, async (req, reply) => {
    const [body, mac] = req.body.challenge.split('.')
    const expected = body ? sign(body) : ''
    if (!body || !mac || mac.length !== expected.length || !timingSafeEqual(Buffer.from(mac), Buffer.from(expected))) {
      throw new AppError(422, 'invalid_challenge', 'the challenge was not issued here (or was changed): ask GET /api/public/challenge again', { field: 'body.challenge' })
    }
    let p: Payload
    try {
      p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Payload
    } catch {
      throw new AppError(422, 'invalid_challenge', 'the challenge cannot be read', { field: 'body.challenge' })
    }
    const t = now()
    if (p.exp < t) throw new AppError(422, 'challenge_expired', 'the question expired: ask for a new one', { field: 'body.challenge' })
    // A question is good once, on every process: the first answer (right or wrong) uses it up.
    const fresh = await app.db.query(`WITH gone AS (DELETE FROM used_challenges WHERE expires_at < $3)
      INSERT INTO used_challenges (nonce, expires_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING RETURNING 1`, [p.n, new Date(p.exp), new Date(t)])
    if (fresh.rows.length === 0) throw new AppError(422, 'challenge_used', 'this question was answered already: ask for a new one', { field: 'body.challenge' })
    if (answerHash(p.n, req.body.answer) !== p.h) {
      throw new AppError(422, 'human_check_failed', 'the answer is not right: ask for a new question', { field: 'body.answer' })
    }
    const token = newToken()
    const user = await app.users.create({ name: '市民（手机匿名）', role: 'resident', org: null, token })
    return reply.code(201).send({ token, user_id: user.id, role: 'resident' as const })
  })
}

/** The phone app's icon: the grid's square and a pin, drawn as SVG (no binary asset to keep). */
const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><rect width="512" height="512" rx="96" fill="#1f5fa8"/>`
  + `<path d="M96 176h320M96 336h320M176 96v320M336 96v320" stroke="#9ec3ee" stroke-width="18"/>`
  + `<path d="M256 112c-62 0-104 46-104 102 0 78 104 186 104 186s104-108 104-186c0-56-42-102-104-102z" fill="#ffcc33" stroke="#fff" stroke-width="14"/>`
  + `<circle cx="256" cy="214" r="38" fill="#1f5fa8"/></svg>`

/** What makes /m/ installable (Add to Home Screen): the web app manifest, and its icon. */
export const mobileAppRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/m/manifest.webmanifest', { schema: { hide: true } }, async (_req, reply) => reply
    .type('application/manifest+json; charset=utf-8').header('cache-control', 'no-cache')
    .send(JSON.stringify({
      name: '城管通 · 朝阳区网格化管理', short_name: '城管通', lang: 'zh-CN', start_url: '/m/', scope: '/m/', display: 'standalone',
      background_color: '#f3f5f8', theme_color: '#1f5fa8',
      icons: [{ src: '/m/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
    })))
  app.get('/m/icon.svg', { schema: { hide: true } }, async (_req, reply) => reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(ICON))
}

export default routes
