-- Service outlets (the 15-minute community life circle, 15分钟社区生活圈): a layer of
-- points beside the management components, of kinds a resident should reach on foot.
-- Coverage (server/analysis/coverage-repository.ts) counts, for each cell, the outlets of
-- each kind within a walking distance of the cell's inner point.

CREATE TABLE service_kinds (
  code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,31}$'),
  name text NOT NULL,
  -- Null: the distance the request asks for (1,000 m by default).
  walk_m real CHECK (walk_m > 0 AND walk_m <= 5000),
  -- Components of this subclass count as outlets of the kind too (public toilets are 部件 03001).
  component_subclass char(5) REFERENCES component_classes (code),
  -- A cell without an outlet of a required kind in reach is under-served.
  required boolean NOT NULL DEFAULT true,
  sort smallint NOT NULL DEFAULT 0
);
-- The kinds of Beijing's 一刻钟便民生活圈 and the community service circle most plans name.
INSERT INTO service_kinds (code, name, component_subclass, sort) VALUES
  ('community_service', '社区综合服务站', NULL, 1),
  ('health', '社区卫生服务站', NULL, 2),
  ('elderly_care', '养老服务驿站', NULL, 3),
  ('grocery', '便民菜店/生鲜超市', NULL, 4),
  ('kindergarten', '幼儿园', NULL, 5),
  ('public_toilet', '公共厕所', '03001', 6);

CREATE TABLE service_outlets (
  id bigserial PRIMARY KEY,
  kind text NOT NULL REFERENCES service_kinds (code),
  name text NOT NULL,
  geom geometry(Point, 4326) NOT NULL,
  -- Metric plane of 002 (facility_plane): ST_DWithin in metres with a GiST index.
  geom_m geometry GENERATED ALWAYS AS (facility_plane(geom)) STORED,
  address text,
  org char(18) REFERENCES organisations (uscc),
  source text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX service_outlets_geom_m_idx ON service_outlets USING gist (geom_m);
CREATE INDEX service_outlets_kind_idx ON service_outlets (kind);
