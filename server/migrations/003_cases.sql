-- Cases (案件): reports from every channel, the closed loop as a state machine with
-- an append-only event log, time limits per matter and stage in working time,
-- automatic dispatch by rules held as data, users with roles and bearer tokens,
-- and photos stored by content hash.

-- Matter taxonomy (事项), GB/T 47678.5-2026: code = district (6) + major (2) + sub (3).
-- Level 1 is the major (8 digits), level 2 the standard's sub (11 digits); a district
-- may add finer levels below, 3 digits each (14, 17 … digits). Majors 01–05 are the
-- anomalies of a management component ("<component>异常"), one per component subclass.
CREATE TABLE matter_types (
  code text PRIMARY KEY CHECK (code ~ '^[0-9]{8}([0-9]{3})*$'),
  parent_code text REFERENCES matter_types (code),
  level smallint NOT NULL CHECK (level >= 1),
  name text NOT NULL,
  district_code char(6) NOT NULL,
  major char(2) NOT NULL,
  -- The component whose anomaly this is (majors 01–05); what the facility match looks for.
  component_subclass char(5) REFERENCES component_classes (code),
  -- Null: the district default in case_settings.
  duplicate_radius_m real CHECK (duplicate_radius_m > 0),
  facility_tolerance_m real CHECK (facility_tolerance_m > 0),
  active boolean NOT NULL DEFAULT true,
  description text,
  keywords text,
  CHECK (length(code) = 8 + 3 * (level - 1)),
  CHECK ((level = 1) = (parent_code IS NULL)),
  CHECK (parent_code IS NULL OR substr(code, 1, length(parent_code)) = parent_code),
  CHECK (substr(code, 1, 6) = district_code AND substr(code, 7, 2) = major)
);
CREATE INDEX matter_types_parent_idx ON matter_types (parent_code);

-- District-wide settings of the loop, one row.
CREATE TABLE case_settings (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  -- Beijing time, UTC+8, no daylight saving since 1991: the work calendar counts in it.
  utc_offset_minutes smallint NOT NULL DEFAULT 480,
  -- An open case of the same matter this close …
  duplicate_radius_m real NOT NULL DEFAULT 50 CHECK (duplicate_radius_m > 0 AND duplicate_radius_m <= 500),
  -- … and reported again within this window takes a new report as a link, not a new case.
  duplicate_window_hours real NOT NULL DEFAULT 72 CHECK (duplicate_window_hours > 0),
  -- A component anomaly is matched to the nearest component of its subclass this close.
  facility_tolerance_m real NOT NULL DEFAULT 25 CHECK (facility_tolerance_m > 0 AND facility_tolerance_m <= 500),
  -- On 立案 the case goes at once to the units its routing found (自动分拣).
  auto_dispatch boolean NOT NULL DEFAULT true,
  -- Channels whose reports are opened (立案) without an operator, e.g. a trusted camera feed.
  auto_accept_channels text[] NOT NULL DEFAULT '{}',
  -- Bumped by every change of the taxonomy, limits, rules, calendar or settings.
  revision bigint NOT NULL DEFAULT 0
);
INSERT INTO case_settings DEFAULT VALUES;

-- Time limits per matter and stage; a matter without its own inherits its parent's,
-- and a NULL matter is the default of every stage.
-- Stages: accept (report → 立案), dispatch (立案 → 派遣), handle (派遣 → 处置反馈),
-- verify (反馈 → 核查), close (核查 → 结案).
CREATE TABLE time_limits (
  id serial PRIMARY KEY,
  matter_code text REFERENCES matter_types (code) ON DELETE CASCADE,
  stage text NOT NULL CHECK (stage IN ('accept', 'dispatch', 'handle', 'verify', 'close')),
  minutes integer NOT NULL CHECK (minutes > 0),
  -- working: counted in the work calendar's hours; natural: around the clock.
  basis text NOT NULL CHECK (basis IN ('working', 'natural')),
  note text
);
CREATE UNIQUE INDEX time_limits_key ON time_limits (coalesce(matter_code, ''), stage);

-- The working week: periods of each weekday (0 = Sunday) in minutes after local midnight.
CREATE TABLE work_hours (
  weekday smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6),
  start_minute smallint NOT NULL CHECK (start_minute >= 0),
  end_minute smallint NOT NULL CHECK (end_minute <= 1440),
  PRIMARY KEY (weekday, start_minute),
  CHECK (start_minute < end_minute)
);
-- 9:00–12:00 and 13:30–17:30, Monday to Friday: a working day is 7 hours.
INSERT INTO work_hours (weekday, start_minute, end_minute)
SELECT d, p.s, p.e FROM generate_series(1, 5) d CROSS JOIN (VALUES (540, 720), (810, 1050)) p(s, e);

-- Days that differ from the week: public holidays (working = false) and the weekend
-- days worked in exchange (调休, working = true), as the State Council publishes them.
CREATE TABLE calendar_days (
  day date PRIMARY KEY,
  working boolean NOT NULL,
  name text
);

-- Users: one role each; handlers belong to an organisation. Only the SHA-256 of a
-- bearer token is kept; a user without one (seeded history staff) cannot sign in.
CREATE TABLE users (
  id serial PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('resident', 'supervisor', 'command_centre', 'dispatcher', 'handler', 'planner', 'leader', 'admin')),
  org char(18) REFERENCES organisations (uscc),
  token_hash bytea UNIQUE CHECK (length(token_hash) = 32),
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (role <> 'handler' OR org IS NOT NULL)
);

-- Automatic dispatch (自动分拣) as data: rules in priority order. The lead unit (主办) is
-- the first active lead rule that matches and resolves to a unit; every matching assist
-- rule adds a unit (协办, e.g. the command centre's warning signs at an open manhole).
CREATE TABLE dispatch_rules (
  id serial PRIMARY KEY,
  name text NOT NULL,
  priority integer NOT NULL DEFAULT 100,
  role text NOT NULL CHECK (role IN ('lead', 'assist')),
  -- Matter codes or prefixes (a major, a standard sub); empty: every matter.
  matter_prefixes text[] NOT NULL DEFAULT '{}',
  -- 9-digit subdistrict codes; empty: everywhere.
  subdistricts text[] NOT NULL DEFAULT '{}',
  -- Channels; empty: every channel.
  channels text[] NOT NULL DEFAULT '{}',
  target text NOT NULL CHECK (target IN ('facility_maintainer', 'facility_owner', 'organisation', 'command_centre', 'cell_unit', 'subdistrict_office')),
  org char(18) REFERENCES organisations (uscc),
  active boolean NOT NULL DEFAULT true,
  note text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((target = 'organisation') = (org IS NOT NULL))
);

-- Photos by content: the id is the SHA-256 of the bytes, so one picture is stored once.
CREATE TABLE photos (
  id char(64) PRIMARY KEY CHECK (id ~ '^[0-9a-f]{64}$'),
  mime text NOT NULL CHECK (mime IN ('image/jpeg', 'image/png', 'image/webp')),
  size integer NOT NULL CHECK (size > 0),
  bytes bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Who uploaded each photo (several users may upload the same bytes).
CREATE TABLE photo_uploads (
  photo_id char(64) NOT NULL REFERENCES photos (id),
  user_id integer NOT NULL REFERENCES users (id),
  uploaded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (photo_id, user_id)
);

-- A case: one problem at one place, however many reports it had. Per stage it keeps
-- when the stage was due, when it ended and whether in time, so indicators such as
-- 按时立案率, 按时结案率 and 返工率 are plain SQL over this table.
CREATE TABLE cases (
  id bigserial PRIMARY KEY,
  matter_code text NOT NULL REFERENCES matter_types (code),
  -- The standard's level of the matter (district + major + sub): duplicates compare it.
  matter_std char(11) NOT NULL,
  status text NOT NULL CHECK (status IN ('reported', 'accepted', 'voided', 'dispatched', 'in_progress', 'handled', 'verified', 'closed', 'deferred')),
  is_open boolean GENERATED ALWAYS AS (status NOT IN ('closed', 'voided')) STORED,
  -- The status a deferred (挂账) case goes back to.
  resume_status text,
  channel text NOT NULL,
  description text NOT NULL,
  address text,
  geom geometry(Point, 4326) NOT NULL,
  cell_code char(15) NOT NULL,
  community_code char(12) NOT NULL,
  subdistrict_code char(9) NOT NULL,
  district_code char(6) NOT NULL,
  grid_version integer,
  -- The component whose anomaly it is, and who owned and maintained it then.
  facility_id char(17),
  facility_owner char(18),
  facility_maintainer char(18),
  facility_distance_m real,
  reporter_id integer REFERENCES users (id),
  -- The unit handling it now (主办).
  lead_unit char(18) REFERENCES organisations (uscc),
  report_count integer NOT NULL DEFAULT 1,
  -- Events so far: the next event's seq is event_count + 1.
  event_count integer NOT NULL DEFAULT 0,
  rework_count integer NOT NULL DEFAULT 0,
  return_count integer NOT NULL DEFAULT 0,
  defer_count integer NOT NULL DEFAULT 0,
  extension_count integer NOT NULL DEFAULT 0,
  extension_minutes integer NOT NULL DEFAULT 0,
  pending_extension_minutes integer,
  pending_extension_reason text,
  pending_extension_at timestamptz,
  reported_at timestamptz NOT NULL,
  last_reported_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  accept_due_at timestamptz,
  accepted_at timestamptz,
  accept_on_time boolean,
  voided_at timestamptz,
  dispatch_due_at timestamptz,
  dispatched_at timestamptz,
  dispatch_on_time boolean,
  started_at timestamptz,
  handle_due_at timestamptz,
  handled_at timestamptz,
  handle_on_time boolean,
  verify_due_at timestamptz,
  verified_at timestamptz,
  verify_on_time boolean,
  close_due_at timestamptz,
  closed_at timestamptz,
  close_on_time boolean,
  -- The running clock of the current stage; a deferred case's clock is stopped
  -- (clock_started_at null) with the minutes it had used kept.
  stage text CHECK (stage IN ('accept', 'dispatch', 'handle', 'verify', 'close')),
  clock_started_at timestamptz,
  clock_used_minutes double precision NOT NULL DEFAULT 0,
  clock_limit_minutes integer,
  clock_basis text CHECK (clock_basis IN ('working', 'natural')),
  -- When 80 % and 100 % of the limit will have been used: green before warn_at, yellow to due_at, red after.
  warn_at timestamptz,
  due_at timestamptz
);
-- Few indexes: each one costs every intake. Lists by status, matter or cell filter the
-- open cases (partial indexes) or a time range; residents find theirs through case_reports.
CREATE INDEX cases_open_geom_idx ON cases USING gist (geom) WHERE is_open;
CREATE INDEX cases_open_due_idx ON cases (due_at) WHERE is_open;
CREATE INDEX cases_reported_at_idx ON cases (reported_at);
CREATE INDEX cases_subdistrict_idx ON cases (subdistrict_code);
CREATE INDEX cases_lead_unit_idx ON cases (lead_unit);

-- Every submission: the one that opened the case and those linked to it as duplicates.
CREATE TABLE case_reports (
  id bigserial PRIMARY KEY,
  case_id bigint NOT NULL REFERENCES cases (id),
  created_case boolean NOT NULL,
  channel text NOT NULL,
  reporter_id integer REFERENCES users (id),
  contact_name text,
  contact_phone text,
  contact_email text,
  description text,
  address text,
  geom geometry(Point, 4326) NOT NULL,
  input_lon double precision NOT NULL,
  input_lat double precision NOT NULL,
  input_crs text NOT NULL,
  photos text[] NOT NULL DEFAULT '{}',
  -- From a linked report to its case's point.
  distance_m real,
  idempotency_key text,
  request_hash text,
  reported_at timestamptz NOT NULL
);
CREATE INDEX case_reports_case_idx ON case_reports (case_id);
CREATE INDEX case_reports_reporter_idx ON case_reports (reporter_id);
CREATE UNIQUE INDEX case_reports_idempotency_idx ON case_reports (reporter_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Units a case went to, with the rule that chose each (rule_id null: chosen by a dispatcher).
-- planned: routed at intake, not yet dispatched; active: dispatched; returned: sent back
-- by the unit (退回); done: the loop closed; cancelled: dispatched elsewhere or voided.
CREATE TABLE case_assignments (
  id bigserial PRIMARY KEY,
  case_id bigint NOT NULL REFERENCES cases (id),
  org char(18) NOT NULL REFERENCES organisations (uscc),
  role text NOT NULL CHECK (role IN ('lead', 'assist')),
  state text NOT NULL CHECK (state IN ('planned', 'active', 'returned', 'done', 'cancelled')),
  rule_id integer,
  rule_name text,
  assigned_at timestamptz NOT NULL,
  ended_at timestamptz
);
CREATE INDEX case_assignments_case_idx ON case_assignments (case_id);
CREATE INDEX case_assignments_org_idx ON case_assignments (org, case_id);

-- The loop's history, one row per step, never changed or removed.
CREATE TABLE case_events (
  case_id bigint NOT NULL REFERENCES cases (id),
  seq integer NOT NULL,
  at timestamptz NOT NULL,
  action text NOT NULL,
  from_status text,
  to_status text,
  actor_id integer REFERENCES users (id),
  actor_role text NOT NULL,
  actor_org char(18),
  note text,
  photos text[] NOT NULL DEFAULT '{}',
  data jsonb,
  PRIMARY KEY (case_id, seq)
);

-- Which cases each photo belongs to (through a report or an event): who may see a photo.
CREATE TABLE case_photos (
  photo_id char(64) NOT NULL REFERENCES photos (id),
  case_id bigint NOT NULL REFERENCES cases (id),
  PRIMARY KEY (photo_id, case_id)
);

CREATE FUNCTION case_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'case_events is append-only: % refused', TG_OP; END $$;
CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events
  FOR EACH ROW EXECUTE FUNCTION case_events_append_only();
