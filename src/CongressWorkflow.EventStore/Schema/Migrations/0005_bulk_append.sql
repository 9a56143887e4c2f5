-- For the bulk append (binary COPY of many new streams).

-- The events no longer reference the streams table through a foreign key. Every append writes the stream row
-- itself in the same transaction, so the key only ever refused what no code path writes, while checking it cost
-- every inserted event a lookup and a row lock on its stream (a fifth of the bulk path's time). An event left
-- without its stream row (a row deleted by hand) is reported by verification instead.
ALTER TABLE event_store.events DROP CONSTRAINT events_stream_id_fkey;

-- A COPY that leaves out the global position draws it from the sequence row by row, in the order it writes them.
ALTER TABLE event_store.events ALTER COLUMN global_position SET DEFAULT nextval('event_store.global_position_seq');
