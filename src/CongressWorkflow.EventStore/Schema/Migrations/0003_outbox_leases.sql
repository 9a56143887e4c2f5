-- Delivery leases and dead letters. A worker claims messages by leasing them (locked_until) in a short transaction and
-- delivers outside it, so no transaction stays open across network calls; a crashed worker's lease runs out and the
-- message is delivered again (at least once; consumers de-duplicate on message_id). After the last attempt a message
-- is dead-lettered (dead_at) until an operator redelivers it.
ALTER TABLE event_store.outbox
    ADD COLUMN locked_until timestamptz,
    ADD COLUMN locked_by    text,
    ADD COLUMN dead_at      timestamptz;

DROP INDEX event_store.outbox_pending;
CREATE INDEX outbox_pending ON event_store.outbox (destination, available_at, id) WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_dead ON event_store.outbox (dead_at) WHERE dead_at IS NOT NULL;
