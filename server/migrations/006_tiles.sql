-- Vector tiles (server/tiles/): a version per source table, bumped by a statement-level
-- trigger in the same transaction as every write to that table, whoever writes it (the
-- grid import, the facility import and the CLI, the case loop, psql). A tile cached under
-- the versions it was built from is stale as soon as a version moves.
--
-- Why a counter row and not a sequence: nextval is visible before the writer commits, so
-- a reader could cache old data under the new number and keep it. The row's new value
-- becomes visible with the data, atomically. The price is that writers of one table queue
-- on its row from their first write to their commit (the facility import already does the
-- same on facility_state); writers of different tables do not meet.
-- Statements that change no row bump too (a harmless extra rebuild); TRUNCATE bumps.
CREATE TABLE tile_sources (
  name text PRIMARY KEY,
  version bigint NOT NULL DEFAULT 0
);
INSERT INTO tile_sources (name) VALUES ('cells'), ('communities'), ('subdistricts'), ('facilities'), ('cases');

CREATE FUNCTION tile_source_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tile_sources SET version = version + 1 WHERE name = TG_TABLE_NAME;
  RETURN NULL;
END $$;

CREATE TRIGGER cells_tile_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cells
  FOR EACH STATEMENT EXECUTE FUNCTION tile_source_bump();
CREATE TRIGGER communities_tile_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON communities
  FOR EACH STATEMENT EXECUTE FUNCTION tile_source_bump();
CREATE TRIGGER subdistricts_tile_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON subdistricts
  FOR EACH STATEMENT EXECUTE FUNCTION tile_source_bump();
CREATE TRIGGER facilities_tile_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON facilities
  FOR EACH STATEMENT EXECUTE FUNCTION tile_source_bump();
CREATE TRIGGER cases_tile_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cases
  FOR EACH STATEMENT EXECUTE FUNCTION tile_source_bump();

-- Facility tiles find their rows through the GiST index on geom_m (facility_plane, see
-- 002): no second index on geom is needed, which keeps the import's index rebuild as it is.
