-- Case intake in one statement (server/repositories/case-intake.ts, intakeAtOnce).
--
-- A new case used to cost four round trips to the database: BEGIN with the advisory
-- locks, the lookup, the insert, COMMIT. On two cores shared by node and PostgreSQL
-- the round trips (a socket write, a wake-up and a context switch each way) were the
-- largest part of what an intake cost. This function does the same work in one call,
-- run as its own transaction (autocommit), when everything the service must decide
-- between the lookup and the writes is already known: the component (from the
-- in-memory facility index, or none for an event matter) and the routing that follows
-- from it. The service keeps the multi-statement path for the rest (a component the
-- reporter named, a channel whose cases are accepted at once, the facility index not
-- built yet); both write the same rows.
--
-- Order, as in the multi-statement path:
-- 1. the advisory locks (idempotency key; the squares a duplicate could lie in), so
--    two reports of one problem at the same moment do not both open a case. The
--    function is VOLATILE: each statement below takes a new snapshot, so it sees
--    what a transaction that held the lock before committed;
-- 2. an earlier submission with the same key → {kind: 'replay'} (nothing written;
--    the service compares the request hash);
-- 3. photos not uploaded → {kind: 'missing_photos'} (nothing written);
-- 4. an open case of the same matter within the radius since the window's start →
--    the report is linked to it → {kind: 'linked'};
-- 5. else the case, its first report, event, routed units, photos and the frontage
--    unit (门前三包) it lies on → {kind: 'created'}.
CREATE FUNCTION intake_case(
  p_locks bigint[], p_reporter integer, p_key text, p_request_hash text, p_photos text[],
  p_matter_code text, p_matter_std text, p_lon float8, p_lat float8, p_radius float8, p_since timestamptz,
  p_channel text, p_description text, p_address text, p_cell text, p_community text, p_subdistrict text, p_district text,
  p_grid_version integer, p_facility_id text, p_facility_owner text, p_facility_maintainer text, p_facility_distance float8,
  p_at timestamptz, p_accept_due timestamptz, p_limit_minutes integer, p_basis text, p_warn_at timestamptz,
  p_contact_name text, p_contact_phone text, p_contact_email text, p_input_lon float8, p_input_lat float8, p_input_crs text,
  p_actor_role text, p_actor_org text, p_event_data jsonb,
  p_unit_orgs text[], p_unit_roles text[], p_unit_rule_ids integer[], p_unit_rule_names text[]
) RETURNS json LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  g geometry := ST_SetSRID(ST_MakePoint(p_lon, p_lat), 4326);
  prior record;
  missing text[];
  dup_id bigint;
  dup_distance float8;
  fr record;
  linked record;
  v_case bigint;
  v_report bigint;
  v_data jsonb := p_event_data;
  has_frontage boolean;
BEGIN
  PERFORM pg_advisory_xact_lock(k) FROM unnest(p_locks) AS k;

  IF p_key IS NOT NULL THEN
    SELECT r.case_id, r.request_hash, r.created_case, r.id INTO prior
      FROM case_reports r WHERE r.reporter_id = p_reporter AND r.idempotency_key = p_key;
    IF FOUND THEN
      RETURN json_build_object('kind', 'replay', 'case_id', prior.case_id, 'request_hash', prior.request_hash,
        'created_case', prior.created_case, 'report_id', prior.id);
    END IF;
  END IF;

  IF cardinality(p_photos) > 0 THEN
    SELECT array_agg(x) INTO missing FROM unnest(p_photos) AS x WHERE NOT EXISTS (SELECT 1 FROM photos ph WHERE ph.id = x);
    IF missing IS NOT NULL THEN
      RETURN json_build_object('kind', 'missing_photos', 'missing', missing);
    END IF;
  END IF;

  SELECT c.id, ST_Distance(c.geom::geography, g::geography) INTO dup_id, dup_distance
    FROM cases c
    WHERE c.is_open AND c.matter_std = p_matter_std AND c.last_reported_at >= p_since
      AND c.geom && ST_Expand(g, p_radius / (111320 * cos(radians(p_lat))), p_radius / 110574)
      AND ST_DWithin(c.geom::geography, g::geography, p_radius)
    ORDER BY ST_Distance(c.geom::geography, g::geography), c.id LIMIT 1;

  IF dup_id IS NOT NULL THEN
    UPDATE cases SET report_count = report_count + 1, last_reported_at = p_at, updated_at = p_at, event_count = event_count + 1
      WHERE id = dup_id RETURNING id, event_count, status INTO linked;
    INSERT INTO case_reports (case_id, created_case, channel, reporter_id, contact_name, contact_phone, contact_email, description, address,
        geom, input_lon, input_lat, input_crs, photos, distance_m, idempotency_key, request_hash, reported_at)
      VALUES (dup_id, false, p_channel, p_reporter, p_contact_name, p_contact_phone, p_contact_email, p_description, p_address,
        g, p_input_lon, p_input_lat, p_input_crs, p_photos, dup_distance, p_key, p_request_hash, p_at)
      RETURNING id INTO v_report;
    INSERT INTO case_events (case_id, seq, at, action, from_status, to_status, actor_id, actor_role, actor_org, note, photos, data)
      VALUES (dup_id, linked.event_count, p_at, 'link_report', linked.status, linked.status, p_reporter, p_actor_role, p_actor_org,
        p_description, p_photos, jsonb_build_object('report_id', v_report, 'channel', p_channel, 'distance_m', dup_distance));
    INSERT INTO case_photos (photo_id, case_id) SELECT DISTINCT x, dup_id FROM unnest(p_photos) AS x ON CONFLICT DO NOTHING;
    RETURN json_build_object('kind', 'linked', 'case_id', dup_id, 'report_id', v_report, 'distance_m', dup_distance);
  END IF;

  -- 门前三包: the nearest active unit within the first matching rule's tolerance (base-frontage.ts, FRONTAGE_MATCH_JSON).
  SELECT u.id AS unit_id, u.name, r.id AS rule_id, r.name AS rule_name, ST_Distance(u.frontage_m, facility_plane(g))::float8 AS distance_m INTO fr
    FROM (SELECT id, name, tolerance_m FROM frontage_rules
      WHERE active AND EXISTS (SELECT 1 FROM unnest(matter_prefixes) x WHERE starts_with(substr(p_matter_code, 7), x))
      ORDER BY priority, id LIMIT 1) r, frontage_units u
    WHERE u.active AND ST_DWithin(u.frontage_m, facility_plane(g), r.tolerance_m)
    ORDER BY ST_Distance(u.frontage_m, facility_plane(g)), u.id LIMIT 1;
  has_frontage := FOUND;
  IF has_frontage THEN
    v_data := v_data || jsonb_build_object('frontage', jsonb_build_object('unit_id', fr.unit_id, 'name', fr.name, 'role', 'assist',
      'rule_id', fr.rule_id, 'rule_name', fr.rule_name, 'distance_m', round(fr.distance_m::numeric, 2)::float8));
  END IF;

  INSERT INTO cases (matter_code, matter_std, status, channel, description, address, geom, cell_code, community_code, subdistrict_code,
      district_code, grid_version, facility_id, facility_owner, facility_maintainer, facility_distance_m, reporter_id, event_count,
      reported_at, last_reported_at, updated_at, accept_due_at, stage, clock_started_at, clock_used_minutes, clock_limit_minutes,
      clock_basis, warn_at, due_at)
    VALUES (p_matter_code, p_matter_std, 'reported', p_channel, p_description, p_address, g, p_cell, p_community, p_subdistrict,
      p_district, p_grid_version, p_facility_id, p_facility_owner, p_facility_maintainer, p_facility_distance, p_reporter, 1,
      p_at, p_at, p_at, p_accept_due, 'accept', p_at, 0, p_limit_minutes,
      p_basis, p_warn_at, p_accept_due)
    RETURNING id INTO v_case;
  INSERT INTO case_reports (case_id, created_case, channel, reporter_id, contact_name, contact_phone, contact_email, description, address,
      geom, input_lon, input_lat, input_crs, photos, idempotency_key, request_hash, reported_at)
    VALUES (v_case, true, p_channel, p_reporter, p_contact_name, p_contact_phone, p_contact_email, p_description, p_address,
      g, p_input_lon, p_input_lat, p_input_crs, p_photos, p_key, p_request_hash, p_at)
    RETURNING id INTO v_report;
  INSERT INTO case_events (case_id, seq, at, action, from_status, to_status, actor_id, actor_role, actor_org, note, photos, data)
    VALUES (v_case, 1, p_at, 'report', NULL, 'reported', p_reporter, p_actor_role, p_actor_org, NULL, p_photos, v_data);
  INSERT INTO case_assignments (case_id, org, role, state, rule_id, rule_name, assigned_at)
    SELECT v_case, u.org, u.role, 'planned', u.rule_id, u.rule_name, p_at
    FROM unnest(p_unit_orgs, p_unit_roles, p_unit_rule_ids, p_unit_rule_names) AS u(org, role, rule_id, rule_name);
  INSERT INTO case_photos (photo_id, case_id) SELECT DISTINCT x, v_case FROM unnest(p_photos) AS x;
  IF has_frontage THEN
    INSERT INTO case_frontage (case_id, unit_id, rule_id, rule_name, distance_m, source, assigned_at)
      VALUES (v_case, fr.unit_id, fr.rule_id, fr.rule_name, fr.distance_m, 'intake', p_at);
  END IF;
  RETURN json_build_object('kind', 'created', 'case_id', v_case, 'report_id', v_report);
END $$;
