-- Audit log: one row per mutating request (POST, PUT, PATCH, DELETE) that reached a
-- route, refused ones included (401, 403, 409 …): who, with which role, which route and
-- target, the answer's status, when, and the request id that ties it to the server log.
--
-- Written right after the answer by an onResponse hook (server/plugins/audit.ts), not in
-- each action's transaction: one place covers every route, refusals are recorded too
-- (they never open a transaction), and the caller does not wait for it. The price: a
-- crash between an action's commit and this insert loses that row — the action's own
-- records (case_events, grid_versions, change sets) still say what happened.
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  request_id text NOT NULL,
  user_id integer,
  user_name text,
  role text,
  method text NOT NULL,
  route text NOT NULL,
  -- The path asked for, without the query string (Open311's api_key can travel there).
  path text NOT NULL,
  target text,
  status smallint NOT NULL,
  ip text,
  duration_ms integer NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at DESC);
CREATE INDEX audit_log_user ON audit_log (user_id, at DESC);
CREATE INDEX audit_log_route ON audit_log (route, at DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP; END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
