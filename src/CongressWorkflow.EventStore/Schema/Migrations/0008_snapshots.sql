-- A stream's state as its aggregate folded it up to a version, written in the transaction that appended that version:
-- a read folds only the events after it. A cache, never the record: deleting any or all rows changes nothing but the
-- time reads take, and a row of another shape (the state's form or its fold changed) is not read. Rewritten in place
-- at each append, so its pages keep room for the new version (HOT updates).
CREATE TABLE event_store.snapshots (
    stream_id  text        PRIMARY KEY REFERENCES event_store.streams (stream_id),
    shape      text        NOT NULL,
    version    bigint      NOT NULL,
    state      text        NOT NULL,
    taken_at   timestamptz NOT NULL
) WITH (fillfactor = 70);
