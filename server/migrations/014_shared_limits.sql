-- What several server processes on one database must agree on that is not a cache:
-- the public routes' rate-limit counters and the human check's used questions. Both
-- were kept in each process's memory, so behind a load balancer a limit of 5 guest
-- accounts an hour per address allowed 5 per process, and a question answered at one
-- process could be answered again at another.
--
-- rate_limits: one row per limited route and key (address, or resident account), the
-- count in the current window and when the window ends (server/db/rate-limit-store.ts,
-- the @fastify/rate-limit store). Rows past their window are deleted as the store goes.
CREATE TABLE rate_limits (
  key text PRIMARY KEY,
  count integer NOT NULL,
  reset_at timestamptz NOT NULL
);
CREATE INDEX rate_limits_reset_at ON rate_limits (reset_at);

-- used_challenges: a human-check question's nonce once it was answered (rightly or not),
-- until the question expires (server/routes/public.ts). A question is good once.
CREATE TABLE used_challenges (
  nonce text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX used_challenges_expires_at ON used_challenges (expires_at);
