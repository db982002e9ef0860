-- The grid: district → subdistrict (街道/地区) → community (社区) → unit cell (单元网格),
-- stored as WGS84 polygons, with every grid layout kept as a numbered version.
CREATE EXTENSION IF NOT EXISTS postgis;

-- Units that own, maintain or answer for things: subdistrict command centres now,
-- utilities and departments later. Identified by the 18-character unified social
-- credit code (统一社会信用代码, GB 32100).
CREATE TABLE organisations (
  uscc char(18) PRIMARY KEY CHECK (uscc ~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'),
  name text NOT NULL,
  kind text NOT NULL,
  subdistrict_code char(9),
  contact_phone text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per grid layout. The newest committed version is the active one.
CREATE TABLE grid_versions (
  id serial PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  effective_at timestamptz NOT NULL DEFAULT now(),
  source text NOT NULL,
  note text,
  cell_count integer NOT NULL DEFAULT 0
);

CREATE TABLE districts (
  code char(6) PRIMARY KEY CHECK (code ~ '^[0-9]{6}$'),
  name text NOT NULL,
  geom geometry(MultiPolygon, 4326),
  area_m2 double precision
);

CREATE TABLE subdistricts (
  code char(9) PRIMARY KEY CHECK (code ~ '^[0-9]{9}$'),
  district_code char(6) NOT NULL REFERENCES districts (code),
  name text NOT NULL,
  pinyin text,
  command_centre char(18) REFERENCES organisations (uscc),
  geom geometry(MultiPolygon, 4326),
  area_m2 double precision
);
CREATE INDEX subdistricts_geom_idx ON subdistricts USING gist (geom);

CREATE TABLE communities (
  code char(12) PRIMARY KEY CHECK (code ~ '^[0-9]{12}$'),
  subdistrict_code char(9) NOT NULL REFERENCES subdistricts (code),
  name text NOT NULL,
  geom geometry(MultiPolygon, 4326),
  area_m2 double precision
);
CREATE INDEX communities_subdistrict_idx ON communities (subdistrict_code);
CREATE INDEX communities_geom_idx ON communities USING gist (geom);

-- The cells of the active layout. Older layouts live in cell_history.
CREATE TABLE cells (
  code char(15) PRIMARY KEY CHECK (code ~ '^[0-9]{15}$'),
  community_code char(12) NOT NULL REFERENCES communities (code),
  subdistrict_code char(9) NOT NULL REFERENCES subdistricts (code),
  district_code char(6) NOT NULL REFERENCES districts (code),
  geom geometry(Geometry, 4326) NOT NULL
    CHECK (ST_GeometryType(geom) IN ('ST_Polygon', 'ST_MultiPolygon') AND ST_SRID(geom) = 4326),
  area_m2 double precision NOT NULL,
  responsible_unit char(18) NOT NULL REFERENCES organisations (uscc),
  version integer NOT NULL REFERENCES grid_versions (id),
  CHECK (substr(code, 1, 12) = community_code AND substr(code, 1, 9) = subdistrict_code
         AND substr(code, 1, 6) = district_code)
);
CREATE INDEX cells_geom_idx ON cells USING gist (geom);
CREATE INDEX cells_community_idx ON cells (community_code);
CREATE INDEX cells_subdistrict_idx ON cells (subdistrict_code);

-- Every layout a cell had, with the versions it was valid in ([version_from, version_to)).
CREATE TABLE cell_history (
  code char(15) NOT NULL,
  version_from integer NOT NULL REFERENCES grid_versions (id),
  version_to integer REFERENCES grid_versions (id),
  community_code char(12) NOT NULL,
  geom geometry(Geometry, 4326) NOT NULL,
  area_m2 double precision NOT NULL,
  responsible_unit char(18) NOT NULL,
  PRIMARY KEY (code, version_from)
);
CREATE INDEX cell_history_geom_idx ON cell_history USING gist (geom);

-- Every cell code ever issued. A code whose cell was retired is never issued again.
CREATE TABLE cell_codes (
  code char(15) PRIMARY KEY,
  first_version integer NOT NULL REFERENCES grid_versions (id),
  retired_version integer REFERENCES grid_versions (id)
);
