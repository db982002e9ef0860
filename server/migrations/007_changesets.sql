-- Grid redraws (issue 8): planners collect operations (split, merge, move a
-- boundary, move a cell to another community, regenerate a community) in a
-- draft change set, validate and preview it, and commit it as a new grid
-- version. The commit writes cells, cell_history and cell_codes as an import
-- does (001_grid.sql), in one transaction.

CREATE TABLE changesets (
  id serial PRIMARY KEY,
  title text NOT NULL,
  status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'committed', 'discarded')),
  author_id integer REFERENCES users (id),
  -- The active grid version when the draft was opened (informative; conflicts are per cell).
  base_version integer REFERENCES grid_versions (id),
  -- Cell-area bounds the draft is validated against, m².
  min_area_m2 double precision NOT NULL CHECK (min_area_m2 >= 0),
  max_area_m2 double precision NOT NULL CHECK (max_area_m2 > min_area_m2),
  committed_version integer REFERENCES grid_versions (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  committed_at timestamptz
);
CREATE INDEX changesets_status_idx ON changesets (status);

-- The operations of a draft in order, with what each did: codes removed, cells
-- made or reshaped (GeoJSON), and the active cells it read first (with the
-- version each had then: what a commit checks for conflicts).
CREATE TABLE changeset_operations (
  changeset_id integer NOT NULL REFERENCES changesets (id) ON DELETE CASCADE,
  seq integer NOT NULL CHECK (seq >= 0),
  op jsonb NOT NULL,
  result jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (changeset_id, seq)
);

-- Which change set made a grid version (null: an import).
ALTER TABLE grid_versions ADD COLUMN changeset_id integer REFERENCES changesets (id);

-- A case keeps the cell and grid version it was reported in (cases.cell_code,
-- cases.grid_version). When a commit redraws the cell of an open case, the
-- case's cell in the new version is recorded here (null: no cell covers it).
CREATE TABLE case_cell_moves (
  case_id bigint NOT NULL REFERENCES cases (id),
  grid_version integer NOT NULL REFERENCES grid_versions (id),
  from_cell char(15) NOT NULL,
  cell_code char(15),
  PRIMARY KEY (case_id, grid_version)
);
CREATE INDEX case_cell_moves_cell_idx ON case_cell_moves (cell_code);

-- The cell of every case now: its latest move, else the cell it was reported in.
CREATE VIEW case_current_cells AS
SELECT c.id AS case_id, c.cell_code AS reported_cell, c.grid_version AS reported_version,
  coalesce(m.cell_code, CASE WHEN m.case_id IS NULL THEN c.cell_code END) AS cell_code,
  coalesce(m.grid_version, c.grid_version) AS grid_version
FROM cases c
LEFT JOIN LATERAL (SELECT x.case_id, x.cell_code, x.grid_version FROM case_cell_moves x
  WHERE x.case_id = c.id ORDER BY x.grid_version DESC LIMIT 1) m ON true;
