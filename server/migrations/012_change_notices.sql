-- Change notices between server processes (server/plugins/cluster.ts). Each process keeps
-- state derived from the database in memory — the geocoder's cell index, the facility
-- index, the case configuration, tile and analysis caches — and must refresh it when any
-- process (another server, the CLI, psql) changes what it was built from. A trigger on the
-- row that already records each such change sends a notice on channel wangge_changes in
-- the writer's own transaction, so it is delivered when (and only if) that commits, and no
-- writer can forget it:
--   grid        a new row in grid_versions (grid import, change-set commit)     version = its id
--   facilities  facility_state.revision moved (facility import, cells moved)     version = revision
--   config      case_settings.revision moved (taxonomy, limits, rules, calendar,
--               settings: server/repositories/case-config.ts bumps it)           version = revision
-- The payload is JSON {kind, version, sender}; sender is the writer's application_name
-- (each server's pool sets its own, server/db/postgres.ts), so a process skips the notices
-- of its own writes, which it has already applied. On the embedded database nobody
-- listens and the notices are dropped.
CREATE FUNCTION wangge_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('wangge_changes', json_build_object(
    'kind', TG_ARGV[0],
    'version', (to_jsonb(NEW) ->> TG_ARGV[1])::bigint,
    'sender', current_setting('application_name', true))::text);
  RETURN NULL;
END $$;

CREATE TRIGGER grid_versions_notify AFTER INSERT ON grid_versions
  FOR EACH ROW EXECUTE FUNCTION wangge_notify_change('grid', 'id');
CREATE TRIGGER facility_state_notify AFTER UPDATE OF revision ON facility_state
  FOR EACH ROW WHEN (NEW.revision IS DISTINCT FROM OLD.revision) EXECUTE FUNCTION wangge_notify_change('facilities', 'revision');
CREATE TRIGGER case_settings_notify AFTER UPDATE OF revision ON case_settings
  FOR EACH ROW WHEN (NEW.revision IS DISTINCT FROM OLD.revision) EXECUTE FUNCTION wangge_notify_change('config', 'revision');
