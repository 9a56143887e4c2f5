-- Appends commit in parallel: the global ordering lock goes; readers stop at positions still in flight instead.

-- Appends events to one stream atomically.
-- p_expected_version: -1 any, 0 the stream must not exist, n the stream must be at version n.
-- No global lock: appends to different streams commit in parallel (their positions may become visible out of
-- order). The transaction gets its id before it draws positions, which is what lets readers tell a position still
-- in flight from one that never will be (see PostgresEventStore.FinalBoundAsync).
CREATE OR REPLACE FUNCTION event_store.append_events(
    p_stream_id text, p_stream_type text, p_expected_version bigint, p_recorded_at timestamptz,
    p_actor_id text, p_actor_role text, p_actor_org text, p_correlation_id uuid, p_causation_id uuid,
    p_event_ids uuid[], p_event_types text[], p_schema_versions integer[], p_headers jsonb[], p_data jsonb[])
RETURNS TABLE (stream_version bigint, global_position bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_version bigint;
    v_hash bytea;
    v_type text;
    v_count integer;
    v_digests bytea[];
    v_hashes bytea[];
    i integer;
BEGIN
    PERFORM pg_current_xact_id();

    IF p_expected_version <= 0 THEN
        INSERT INTO event_store.streams (stream_id, stream_type, version, last_hash, created_at, updated_at)
        VALUES (p_stream_id, p_stream_type, 0, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea,
                p_recorded_at, p_recorded_at)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND AND p_expected_version = 0 THEN
            SELECT s.version INTO v_version FROM event_store.streams s WHERE s.stream_id = p_stream_id;
            RAISE EXCEPTION USING ERRCODE = 'CW409',
                MESSAGE = format('stream %s already exists', p_stream_id), HINT = v_version::text;
        END IF;
    END IF;

    SELECT s.version, s.last_hash, s.stream_type INTO v_version, v_hash, v_type
    FROM event_store.streams s WHERE s.stream_id = p_stream_id FOR UPDATE;

    IF p_expected_version > 0 AND (v_version IS NULL OR v_version <> p_expected_version) THEN
        RAISE EXCEPTION USING ERRCODE = 'CW409',
            MESSAGE = format('stream %s is at version %s, not %s', p_stream_id, coalesce(v_version, 0), p_expected_version),
            HINT = coalesce(v_version, 0)::text;
    END IF;
    IF v_type <> p_stream_type THEN
        RAISE EXCEPTION USING ERRCODE = 'CW422',
            MESSAGE = format('stream %s is a %s stream, not %s', p_stream_id, v_type, p_stream_type);
    END IF;

    v_count := coalesce(array_length(p_event_ids, 1), 0);
    SELECT array_agg(event_store.event_digest(e.id, p_stream_id, v_version + e.ord, e.type, e.schema_version, p_recorded_at,
               p_actor_id, p_actor_role, p_actor_org, p_correlation_id, p_causation_id, e.headers, e.data) ORDER BY e.ord)
    INTO v_digests
    FROM unnest(p_event_ids, p_event_types, p_schema_versions, p_headers, p_data)
         WITH ORDINALITY AS e(id, type, schema_version, headers, data, ord);

    -- The chain itself is sequential: each hash covers its predecessor's.
    v_hashes := array_fill(NULL::bytea, ARRAY[v_count]);
    FOR i IN 1 .. v_count LOOP
        v_hash := sha256(v_hash || v_digests[i]);
        v_hashes[i] := v_hash;
    END LOOP;

    RETURN QUERY
    INSERT INTO event_store.events AS ev (global_position, event_id, stream_id, stream_version, event_type, schema_version,
        recorded_at, actor_id, actor_role, actor_org, correlation_id, causation_id, headers, data, hash)
    SELECT nextval('event_store.global_position_seq'), e.id, p_stream_id, v_version + e.ord, e.type, e.schema_version,
        p_recorded_at, p_actor_id, p_actor_role, p_actor_org, p_correlation_id, p_causation_id, e.headers, e.data, v_hashes[e.ord]
    FROM unnest(p_event_ids, p_event_types, p_schema_versions, p_headers, p_data)
         WITH ORDINALITY AS e(id, type, schema_version, headers, data, ord)
    ORDER BY e.ord
    RETURNING ev.stream_version, ev.global_position;

    v_version := v_version + v_count;
    UPDATE event_store.streams s SET version = v_version, last_hash = v_hash, updated_at = p_recorded_at
    WHERE s.stream_id = p_stream_id;
END
$$;

