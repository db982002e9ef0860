-- Base information per cell (人地事物组织), frontage units (门前三包), monitoring
-- indicators as data with daily snapshots, and the public's evaluation (ratings of
-- closed cases, third-party surveys). Issue 10.

-- One table for the base records of places and organisations: buildings (with use,
-- floors, households and population), organisations, shops, schools, hospitals,
-- markets and other points of interest. People are counted on their building; the
-- few named residents kept (重点人员: elderly living alone, disabled …) are in
-- base_residents and shown only to roles that need them (server/base/access.ts).
CREATE TABLE base_records (
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  kind text NOT NULL CHECK (kind IN ('building', 'organisation', 'shop', 'school', 'hospital', 'market', 'poi')),
  name text NOT NULL,
  address text,
  geom geometry(Point, 4326) NOT NULL,
  -- The active cell covering the point when it was written (smallest code), like facilities.cell_code.
  cell_code char(15) NOT NULL,
  community_code char(12) NOT NULL,
  subdistrict_code char(9) NOT NULL,
  -- Buildings: residential, office, commercial, mixed, public, industrial, rural_house.
  use text CHECK (use IN ('residential', 'office', 'commercial', 'mixed', 'public', 'industrial', 'rural_house')),
  floors smallint CHECK (floors BETWEEN 1 AND 200),
  households integer CHECK (households >= 0),
  -- 户籍人口 and 常住人口.
  pop_registered integer CHECK (pop_registered >= 0),
  pop_resident integer CHECK (pop_resident >= 0),
  -- Organisations and shops: their unified social credit code; and the building they are in.
  uscc char(18),
  building_id text,
  -- Schools: pupils; hospitals: beds; markets: stalls (what a leader asks of each).
  capacity integer CHECK (capacity >= 0),
  -- The gazetteer place it was made from, when it was.
  place_id text,
  import_id integer,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX base_records_geom_idx ON base_records USING gist (geom);
-- Areas by code are ranges of cell codes (subdistrict = 9-digit prefix): one btree serves all three levels.
CREATE INDEX base_records_cell_idx ON base_records (cell_code, kind);

CREATE TABLE base_residents (
  id bigserial PRIMARY KEY,
  building_id text NOT NULL REFERENCES base_records (id) ON DELETE CASCADE,
  name text NOT NULL,
  category text NOT NULL CHECK (category IN ('elderly_alone', 'disabled', 'low_income', 'special_care')),
  birth_year smallint,
  phone text,
  cell_code char(15) NOT NULL
);
CREATE INDEX base_residents_cell_idx ON base_residents (cell_code);
CREATE INDEX base_residents_building_idx ON base_residents (building_id);

CREATE TABLE base_imports (
  id serial PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  source text NOT NULL,
  format text NOT NULL,
  crs text NOT NULL,
  rows integer NOT NULL,
  inserted integer NOT NULL,
  updated integer NOT NULL,
  skipped integer NOT NULL
);

-- The comprehensive query counts all cases in a drawn area, not only open ones
-- (003 indexes only the open ones' points): one GiST over every case point.
CREATE INDEX cases_geom_idx ON cases USING gist (geom);

-- Frontage units (门前三包责任单位): shops, offices and institutions answering for the
-- street in front of their door — cleanliness, order, greenery. Their own table, not
-- organisations: tens of thousands of them would swell every organisation list and the
-- facility snapshot, and most never log in. A unit's credit code is kept when it has one.
CREATE TABLE frontage_units (
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  uscc char(18),
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('shop', 'restaurant', 'office', 'hotel', 'bank', 'institution', 'market', 'compound', 'other')),
  address text,
  contact_person text,
  contact_phone text,
  -- The base record of the shop or organisation behind the door.
  record_id text REFERENCES base_records (id) ON DELETE SET NULL,
  -- The stretch of street: a line along the kerb or a polygon of pavement.
  frontage geometry(Geometry, 4326) NOT NULL
    CHECK (ST_GeometryType(frontage) IN ('ST_LineString', 'ST_MultiLineString', 'ST_Polygon', 'ST_MultiPolygon')),
  -- The metric plane of 002 (facility_plane): ST_DWithin in metres with the GiST index.
  frontage_m geometry GENERATED ALWAYS AS (facility_plane(frontage)) STORED,
  length_m real NOT NULL CHECK (length_m >= 0),
  cell_code char(15) NOT NULL,
  community_code char(12) NOT NULL,
  subdistrict_code char(9) NOT NULL,
  active boolean NOT NULL DEFAULT true,
  signed_on date
);
CREATE INDEX frontage_units_m_idx ON frontage_units USING gist (frontage_m);
CREATE INDEX frontage_units_cell_idx ON frontage_units (cell_code);

-- Which matters fall to a frontage unit, and how near its frontage a case must be.
-- Prefixes are of the standard's code without the district (GB/T 47678.5: major +
-- sub, '06012'), so the rules hold in any district.
CREATE TABLE frontage_rules (
  id serial PRIMARY KEY,
  name text NOT NULL,
  duty text NOT NULL CHECK (duty IN ('cleanliness', 'order', 'greenery')),
  matter_prefixes text[] NOT NULL CHECK (cardinality(matter_prefixes) > 0),
  tolerance_m real NOT NULL DEFAULT 8 CHECK (tolerance_m > 0 AND tolerance_m <= 50),
  priority integer NOT NULL DEFAULT 100,
  active boolean NOT NULL DEFAULT true
);
INSERT INTO frontage_rules (name, duty, matter_prefixes, priority) VALUES
  ('门前三包·市容环境卫生', 'cleanliness', '{06010,06011,06012,06036,07001}', 10),
  ('门前三包·秩序', 'order', '{09005,09006,09010,09021,09022,06040}', 20),
  ('门前三包·绿化', 'greenery', '{06017,06045}', 30);

-- A case routed to a frontage unit as an assist unit (协办), with the rule that chose it.
CREATE TABLE case_frontage (
  case_id bigint NOT NULL REFERENCES cases (id),
  unit_id text NOT NULL REFERENCES frontage_units (id),
  rule_id integer,
  rule_name text NOT NULL,
  distance_m real NOT NULL,
  -- intake: routed when reported; backfill: matched afterwards (units loaded after the case).
  source text NOT NULL CHECK (source IN ('intake', 'backfill')),
  assigned_at timestamptz NOT NULL,
  PRIMARY KEY (case_id, unit_id)
);
CREATE INDEX case_frontage_unit_idx ON case_frontage (unit_id);

-- The public's rating of a closed case, by a reporter of it, once.
CREATE TABLE case_ratings (
  id bigserial PRIMARY KEY,
  case_id bigint NOT NULL REFERENCES cases (id),
  user_id integer NOT NULL REFERENCES users (id),
  rating text NOT NULL CHECK (rating IN ('satisfied', 'basic', 'unsatisfied')),
  comment text,
  channel text NOT NULL CHECK (channel IN ('web', 'open311')),
  -- The case was reopened for review (复核) because of this rating.
  reopened boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  UNIQUE (case_id, user_id)
);
CREATE INDEX case_ratings_created_idx ON case_ratings (created_at);

-- Third-party survey results (第三方满意度调查), per subdistrict and period.
CREATE TABLE survey_imports (
  id serial PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  source text NOT NULL,
  rows integer NOT NULL
);
CREATE TABLE survey_results (
  subdistrict_code char(9) NOT NULL REFERENCES subdistricts (code),
  period_start date NOT NULL,
  period_end date NOT NULL,
  topic text NOT NULL DEFAULT '总体',
  respondents integer NOT NULL CHECK (respondents > 0),
  satisfied integer NOT NULL CHECK (satisfied >= 0),
  basic integer NOT NULL CHECK (basic >= 0),
  unsatisfied integer NOT NULL CHECK (unsatisfied >= 0),
  surveyor text,
  import_id integer NOT NULL REFERENCES survey_imports (id),
  CHECK (period_end >= period_start),
  CHECK (satisfied + basic + unsatisfied <= respondents),
  PRIMARY KEY (subdistrict_code, period_start, period_end, topic)
);

-- Monitoring indicators as data: a formula over named measures (server/base/measures.ts
-- lists them per subject; the formula is parsed, never pasted into SQL), a target,
-- a weight in its subject's composite, and which way is better.
CREATE TABLE indicator_definitions (
  code text PRIMARY KEY CHECK (code ~ '^[A-Z]{2}[0-9]{2}$'),
  name text NOT NULL,
  subject text NOT NULL CHECK (subject IN ('department', 'utility', 'subdistrict', 'frontage_unit')),
  formula text NOT NULL,
  unit text NOT NULL CHECK (unit IN ('%', 'count', 'per_10k', 'per_100m', 'per_km2', 'hours', 'score')),
  better text NOT NULL CHECK (better IN ('higher', 'lower')),
  target double precision NOT NULL CHECK (target >= 0),
  weight double precision NOT NULL CHECK (weight >= 0),
  -- Cases counted: those reported in the window_days before the snapshot.
  window_days integer NOT NULL DEFAULT 30 CHECK (window_days BETWEEN 1 AND 366),
  active boolean NOT NULL DEFAULT true,
  description text
);

-- One row per indicator, measured unit and day: the value, its 0–100 score, and the
-- numbers it came from. Units are keyed by code: credit code, subdistrict code, unit id.
CREATE TABLE indicator_snapshots (
  day date NOT NULL,
  indicator text NOT NULL,
  unit_key text NOT NULL,
  value double precision,
  score double precision,
  PRIMARY KEY (day, indicator, unit_key)
);
-- A subject's composite and rank per unit and day (what the ranking screen shows).
CREATE TABLE indicator_scores (
  day date NOT NULL,
  subject text NOT NULL,
  unit_key text NOT NULL,
  score double precision,
  rank integer,
  indicators integer NOT NULL,
  PRIMARY KEY (day, subject, unit_key)
);
CREATE INDEX indicator_scores_rank_idx ON indicator_scores (day, subject, rank);

-- A plausible set modelled on the district's 90 (CJ/T 292 names where they exist).
-- Targets are per window (30 days); weights are within the subject's composite.
INSERT INTO indicator_definitions (code, name, subject, formula, unit, better, target, weight, description) VALUES
  ('SD01', '结案率', 'subdistrict', 'closed / due_close * 100', '%', 'higher', 95, 0.15, 'closed / due to close (handled + overdue unhandled)'),
  ('SD02', '按时结案率', 'subdistrict', 'closed_on_time / due_close * 100', '%', 'higher', 85, 0.15, 'closed with every stage on time / due to close'),
  ('SD03', '按时处置率', 'subdistrict', 'handled_on_time / due_close * 100', '%', 'higher', 90, 0.1, 'handled on time / due for handling'),
  ('SD04', '返工率', 'subdistrict', 'reworked / due_close * 100', '%', 'lower', 3, 0.1, 'failed verification at least once / due to close'),
  ('SD05', '准确立案率', 'subdistrict', 'opened / (opened + voided) * 100', '%', 'higher', 95, 0.05, 'opened / case files decided'),
  ('SD06', '漏报率', 'subdistrict', 'public_opened / opened * 100', '%', 'lower', 10, 0.1, 'opened cases the public reported first / opened'),
  ('SD07', '超期未结案件数', 'subdistrict', 'overdue_open', 'count', 'lower', 5, 0.05, 'open cases past the deadline of their stage'),
  ('SD08', '万人案件数', 'subdistrict', 'opened * 10000 / population_resident', 'per_10k', 'lower', 120, 0.05, 'cases opened per 10,000 residents (base records)'),
  ('SD09', '公众满意率', 'subdistrict', '(satisfied + basic) / rated * 100', '%', 'higher', 90, 0.1, 'reporters satisfied or basically satisfied / ratings'),
  ('SD10', '第三方调查满意率', 'subdistrict', '(survey_satisfied + survey_basic) / survey_respondents * 100', '%', 'higher', 85, 0.1, 'third-party survey: satisfied or basically / respondents'),
  ('SD11', '部件完好率', 'subdistrict', 'facilities_intact / facilities * 100', '%', 'higher', 98, 0.05, 'components intact / components in the subdistrict'),
  ('SD12', '每平方公里案件数', 'subdistrict', 'opened / area_km2', 'per_km2', 'lower', 100, 0, 'cases opened per km² (shown, not weighed)'),
  ('DP01', '结案率', 'department', 'closed / due_close * 100', '%', 'higher', 95, 0.3, 'closed / due to close, cases the department led'),
  ('DP02', '按时处置率', 'department', 'handled_on_time / due_close * 100', '%', 'higher', 90, 0.3, 'handled on time / due for handling'),
  ('DP03', '返工率', 'department', 'reworked / due_close * 100', '%', 'lower', 3, 0.15, 'failed verification at least once / due to close'),
  ('DP04', '退回率', 'department', 'returned / opened * 100', '%', 'lower', 5, 0.1, 'sent back as not theirs (退回) / cases'),
  ('DP05', '公众满意率', 'department', '(satisfied + basic) / rated * 100', '%', 'higher', 90, 0.15, 'reporters satisfied or basically / ratings'),
  ('DP06', '平均结案时长', 'department', 'close_hours / closed', 'hours', 'lower', 72, 0, 'mean hours from report to close (shown, not weighed)'),
  ('UT01', '结案率', 'utility', 'closed / due_close * 100', '%', 'higher', 95, 0.25, 'closed / due to close, cases the utility led'),
  ('UT02', '按时处置率', 'utility', 'handled_on_time / due_close * 100', '%', 'higher', 90, 0.25, 'handled on time / due for handling'),
  ('UT03', '部件完好率', 'utility', 'facilities_intact / facilities * 100', '%', 'higher', 98, 0.2, 'own components intact / own components'),
  ('UT04', '部件丢失数', 'utility', 'facilities_missing', 'count', 'lower', 0, 0.15, 'own components missing (丢失: covers first of all)'),
  ('UT05', '公众满意率', 'utility', '(satisfied + basic) / rated * 100', '%', 'higher', 90, 0.15, 'reporters satisfied or basically / ratings'),
  ('FU01', '责任区案件数', 'frontage_unit', 'opened', 'count', 'lower', 1, 0.4, 'cases opened on the frontage'),
  ('FU02', '每百米案件数', 'frontage_unit', 'opened * 100 / frontage_m', 'per_100m', 'lower', 2, 0.3, 'cases opened per 100 m of frontage'),
  ('FU03', '责任区结案率', 'frontage_unit', 'closed / due_close * 100', '%', 'higher', 95, 0.2, 'frontage cases closed / due to close'),
  ('FU04', '责任区满意率', 'frontage_unit', '(satisfied + basic) / rated * 100', '%', 'higher', 90, 0.1, 'reporters satisfied or basically / ratings, frontage cases');

-- How ratings are taken, one row.
CREATE TABLE evaluation_settings (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  -- A case may be rated this many days after it was closed.
  rate_within_days integer NOT NULL DEFAULT 30 CHECK (rate_within_days > 0),
  -- An unsatisfied rating reopens the case for review (复核重办: closed → handled, verified again).
  reopen_unsatisfied boolean NOT NULL DEFAULT true
);
INSERT INTO evaluation_settings DEFAULT VALUES;
