-- The events table partitioned by a key each stream gets when it is created (the engine gives a campaign's streams the
-- campaign's id): a finished campaign's events can be detached, archived or dropped as one table, and a campaign's
-- indexes stay the size of that campaign. Streams outside any partition (organisations, subscriptions) and every event
-- written before this migration are in the shared partition (key '').
--
-- PostgreSQL enforces a unique key on a partitioned table only with the partition key in it: the global position and
-- (stream, version) stay unique because a sequence draws the one and a stream's key never changes; an event id is unique
-- within its partition.

ALTER TABLE event_store.streams ADD COLUMN partition_key text NOT NULL DEFAULT '';

-- The partitions there are, and the table of each.
CREATE SEQUENCE event_store.partition_seq AS integer;
CREATE TABLE event_store.partitions (
    partition_key text        PRIMARY KEY,
    table_name    text        NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE event_store.events RENAME TO events_before_partitions;
ALTER INDEX event_store.events_pkey RENAME TO events_before_partitions_pkey;
ALTER INDEX event_store.events_event_id_key RENAME TO events_before_partitions_event_id_key;
ALTER INDEX event_store.events_stream_version_unique RENAME TO events_before_partitions_stream_version_unique;
ALTER INDEX event_store.events_recorded_at RENAME TO events_before_partitions_recorded_at;

CREATE TABLE event_store.events (
    global_position bigint      NOT NULL DEFAULT nextval('event_store.global_position_seq'),
    event_id        uuid        NOT NULL,
    stream_id       text        NOT NULL,
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
    partition_key   text        NOT NULL,
    CONSTRAINT events_pkey PRIMARY KEY (global_position, partition_key),
    CONSTRAINT events_event_id_key UNIQUE (event_id, partition_key),
    CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version, partition_key)
) PARTITION BY LIST (partition_key);
CREATE INDEX events_recorded_at ON event_store.events (recorded_at);

-- Creates the partition for a key if there is none yet; returns its table. The table is made apart, with its keys named
-- after it (errors name them: *_event_id_key, *_stream_version_key) and a check of its key, then attached: attaching
-- takes a lock that lets appends and reads of the other partitions go on, and the check spares it a scan.
CREATE FUNCTION event_store.create_partition(p_key text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_table text;
BEGIN
    -- Concurrent creators of the same key wait here for the first to commit, then find its table.
    PERFORM pg_advisory_xact_lock(4242007, hashtext(p_key));
    SELECT p.table_name INTO v_table FROM event_store.partitions p WHERE p.partition_key = p_key;
    IF FOUND THEN
        RETURN v_table;
    END IF;

    v_table := CASE WHEN p_key = '' THEN 'events_shared' ELSE 'events_p' || nextval('event_store.partition_seq') END;
    EXECUTE format($ddl$
        CREATE TABLE event_store.%1$I (
            LIKE event_store.events INCLUDING DEFAULTS,
            CONSTRAINT %2$I PRIMARY KEY (global_position, partition_key),
            CONSTRAINT %3$I UNIQUE (event_id, partition_key),
            CONSTRAINT %4$I UNIQUE (stream_id, stream_version, partition_key),
            CONSTRAINT %5$I CHECK (partition_key = %6$L))
        $ddl$, v_table, v_table || '_pkey', v_table || '_event_id_key', v_table || '_stream_version_key', v_table || '_key_check', p_key);
    EXECUTE format('CREATE INDEX %I ON event_store.%I (recorded_at)', v_table || '_recorded_at', v_table);
    EXECUTE format('ALTER TABLE event_store.events ATTACH PARTITION event_store.%I FOR VALUES IN (%L)', v_table, p_key);
    INSERT INTO event_store.partitions (partition_key, table_name) VALUES (p_key, v_table);
    RETURN v_table;
END
$$;

SELECT event_store.create_partition('');
INSERT INTO event_store.events (global_position, event_id, stream_id, stream_version, event_type, schema_version, recorded_at,
    actor_id, actor_role, actor_org, correlation_id, causation_id, headers, data, hash, partition_key)
SELECT global_position, event_id, stream_id, stream_version, event_type, schema_version, recorded_at,
    actor_id, actor_role, actor_org, correlation_id, causation_id, headers, data, hash, ''
FROM event_store.events_before_partitions;
DROP TABLE event_store.events_before_partitions;

-- Appends events to one stream atomically (as before, see 0004), into the stream's partition.
-- p_partition_key: the partition a new stream is created in (NULL: the shared one). An existing stream's events go to
-- the partition it is in, whatever the append names: a stream never moves (and one created before partitioning, in the
-- shared partition, goes on there though its campaign now has a partition).
DROP FUNCTION event_store.append_events(text, text, bigint, timestamptz, text, text, text, uuid, uuid, uuid[], text[], integer[], jsonb[], jsonb[]);
CREATE FUNCTION event_store.append_events(
    p_stream_id text, p_stream_type text, p_expected_version bigint, p_recorded_at timestamptz,
    p_actor_id text, p_actor_role text, p_actor_org text, p_correlation_id uuid, p_causation_id uuid,
    p_event_ids uuid[], p_event_types text[], p_schema_versions integer[], p_headers jsonb[], p_data jsonb[], p_partition_key text)
RETURNS TABLE (stream_version bigint, global_position bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_version bigint;
    v_hash bytea;
    v_type text;
    v_partition text;
    v_count integer;
    v_digests bytea[];
    v_hashes bytea[];
    i integer;
BEGIN
    PERFORM pg_current_xact_id();

    IF p_expected_version <= 0 THEN
        INSERT INTO event_store.streams (stream_id, stream_type, version, last_hash, created_at, updated_at, partition_key)
        VALUES (p_stream_id, p_stream_type, 0, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea,
                p_recorded_at, p_recorded_at, coalesce(p_partition_key, ''))
        ON CONFLICT DO NOTHING;
        IF NOT FOUND AND p_expected_version = 0 THEN
            SELECT s.version INTO v_version FROM event_store.streams s WHERE s.stream_id = p_stream_id;
            RAISE EXCEPTION USING ERRCODE = 'CW409',
                MESSAGE = format('stream %s already exists', p_stream_id), HINT = v_version::text;
        END IF;
    END IF;

    SELECT s.version, s.last_hash, s.stream_type, s.partition_key INTO v_version, v_hash, v_type, v_partition
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
        recorded_at, actor_id, actor_role, actor_org, correlation_id, causation_id, headers, data, hash, partition_key)
    SELECT nextval('event_store.global_position_seq'), e.id, p_stream_id, v_version + e.ord, e.type, e.schema_version,
        p_recorded_at, p_actor_id, p_actor_role, p_actor_org, p_correlation_id, p_causation_id, e.headers, e.data, v_hashes[e.ord],
        v_partition
    FROM unnest(p_event_ids, p_event_types, p_schema_versions, p_headers, p_data)
         WITH ORDINALITY AS e(id, type, schema_version, headers, data, ord)
    ORDER BY e.ord
    RETURNING ev.stream_version, ev.global_position;

    v_version := v_version + v_count;
    UPDATE event_store.streams s SET version = v_version, last_hash = v_hash, updated_at = p_recorded_at
    WHERE s.stream_id = p_stream_id;
END
$$;
