-- Every delivered message updates its outbox row, leaving a dead version in the pending index, which the next claims
-- read past until it is vacuumed: with the default threshold (20 % of the table) a large outbox was claimed at 13 ms a
-- batch. Vacuumed after 2 %.
ALTER TABLE event_store.outbox SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
