-- The event store: streams, events with a global position and a per-stream hash chain, and the outbox.

CREATE SEQUENCE event_store.global_position_seq AS bigint;

CREATE TABLE event_store.streams (
    stream_id    text        PRIMARY KEY,
    stream_type  text        NOT NULL,
    version      bigint      NOT NULL,
    last_hash    bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

CREATE TABLE event_store.events (
    global_position bigint      PRIMARY KEY,
    event_id        uuid        NOT NULL UNIQUE,
    stream_id       text        NOT NULL REFERENCES event_store.streams (stream_id),
    stream_version  bigint      NOT NULL,
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL,
    recorded_at     timestamptz NOT NULL,
    actor_id        text        NOT NULL,
    actor_role      text        NOT NULL,
    actor_org       text,
    correlation_id  uuid        NOT NULL,
    causation_id    uuid,
    headers         jsonb,
    data            jsonb       NOT NULL,
    hash            bytea       NOT NULL,
    CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
);

CREATE INDEX events_recorded_at ON event_store.events (recorded_at);

-- The canonical content of one event: every stored field but the global position and the chain hash,
-- rendered by PostgreSQL itself so that the append path and the verifier agree byte for byte.
CREATE FUNCTION event_store.event_digest(
    p_event_id uuid, p_stream_id text, p_stream_version bigint, p_event_type text, p_schema_version integer,
    p_recorded_at timestamptz, p_actor_id text, p_actor_role text, p_actor_org text,
    p_correlation_id uuid, p_causation_id uuid, p_headers jsonb, p_data jsonb)
RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(convert_to(jsonb_build_array(
        p_event_id, p_stream_id, p_stream_version, p_event_type, p_schema_version,
        (extract(epoch FROM p_recorded_at) * 1000000)::bigint,
        p_actor_id, p_actor_role, p_actor_org, p_correlation_id, p_causation_id, p_headers, p_data)::text, 'UTF8'))
$$;

-- Appends events to one stream atomically.
-- p_expected_version: -1 any, 0 the stream must not exist, n the stream must be at version n.
-- A global advisory lock is taken first and held to commit, so global positions become visible in
-- strictly increasing order: a reader following positions can never skip an event that commits later.
-- Lock order (global, then stream row) is the same for every append, so appends cannot deadlock.
CREATE FUNCTION event_store.append_events(
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
    PERFORM pg_advisory_xact_lock(4242001);

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

-- Messages to deliver after the events that caused them commit; written in the same transaction.
CREATE TABLE event_store.outbox (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id      uuid        NOT NULL UNIQUE,
    destination     text        NOT NULL,
    message_type    text        NOT NULL,
    payload         jsonb       NOT NULL,
    correlation_id  uuid,
    created_at      timestamptz NOT NULL,
    available_at    timestamptz NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    delivered_at    timestamptz
);

CREATE INDEX outbox_pending ON event_store.outbox (available_at, id) WHERE delivered_at IS NULL;
