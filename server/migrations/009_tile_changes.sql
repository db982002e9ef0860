-- Tile data versions without a queue (replaces 006's counter rows for writers).
--
-- 006 bumped one row of tile_sources per table in every writer's transaction: correct,
-- but concurrent writers of a table (case intake on 16 connections) then waited on that
-- row from their first write to their commit, one fsync after another. Now each write
-- statement appends a row to tile_changes; inserts never wait on each other. A source's
-- version is its tile_sources.version plus its committed rows in tile_changes — visible
-- atomically with the data, as before. A count and not max(id): a transaction that
-- commits later with a smaller id still moves the count. Readers now and then fold the
-- rows they see into tile_sources in one statement (server/tiles/versions.ts), so the sum
-- never goes back and the table stays small.
CREATE TABLE tile_changes (
  id bigserial PRIMARY KEY,
  name text NOT NULL
);

CREATE OR REPLACE FUNCTION tile_source_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO tile_changes (name) VALUES (TG_TABLE_NAME);
  RETURN NULL;
END $$;
