-- The second axis of time for the monitoring reports: besides the day facts refer to (asOf), what the system had
-- recorded by a moment (knownAt). A congress held, and each plan version, keep when they were recorded. The progress
-- projection is rebuilt to fill them; until it has, a row without the moment counts as known.
ALTER TABLE congress.rollup_congresses ADD COLUMN held_recorded_at timestamptz;
ALTER TABLE congress.rollup_plans ADD COLUMN recorded_at timestamptz;
UPDATE event_store.projection_checkpoints SET rebuild_requested = true WHERE projection = 'progress';
