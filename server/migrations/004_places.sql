-- The gazetteer: named places (subdistricts, communities, roads, buildings, points of
-- interest) that address text is matched against. Each has a representative point
-- inside the district; roads also keep their centreline.
CREATE TABLE places (
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('subdistrict', 'community', 'road', 'building', 'poi')),
  name text NOT NULL,
  aliases text[] NOT NULL DEFAULT '{}',
  address text,
  subdistrict_code char(9) NOT NULL,
  community_code char(12),
  geom geometry(Point, 4326) NOT NULL,
  line geometry(LineString, 4326)
);
CREATE INDEX places_geom_idx ON places USING gist (geom);
CREATE INDEX places_kind_idx ON places (kind);
