-- A stream's events are found through an index on the stream id alone, where a unique index on (stream id, version)
-- was. That index was the largest of the database (381 MB for 2.1 million events: every entry repeats a stream id of up
-- to 90 bytes) and every append wrote it at a random place, so at national scale its pages were read back from outside
-- the buffers for most events written. An index on the stream id alone keeps each stream's entries as one key with a
-- list of row pointers (B-tree deduplication): 46 MB for the same events.
--
-- What the unique index enforced is decided where it always was: every append locks its stream's row and takes the
-- next versions from it (event_store.append_events and the bulk append alike), and a new stream's row is inserted by
-- the transaction that writes its first events, so a second writer of the same new stream fails on the stream row's
-- key. A version stored twice by other means breaks the stream's hash chain, which verification reports.
ALTER TABLE event_store.events DROP CONSTRAINT events_stream_version_unique;
CREATE INDEX events_stream ON event_store.events (stream_id);

-- New partitions as before, without the unique index (attaching one gives it the index above).
CREATE OR REPLACE FUNCTION event_store.create_partition(p_key text) RETURNS text LANGUAGE plpgsql AS $$
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
            CONSTRAINT %4$I CHECK (partition_key = %5$L))
        $ddl$, v_table, v_table || '_pkey', v_table || '_event_id_key', v_table || '_key_check', p_key);
    EXECUTE format('CREATE INDEX %I ON event_store.%I (recorded_at)', v_table || '_recorded_at', v_table);
    EXECUTE format('ALTER TABLE event_store.events ATTACH PARTITION event_store.%I FOR VALUES IN (%L)', v_table, p_key);
    INSERT INTO event_store.partitions (partition_key, table_name) VALUES (p_key, v_table);
    RETURN v_table;
END
$$;
