-- The tree as it stood on any day: a unit keeps a row per version of its place and name. A move closes the versions
-- of the moved subtree and opens new ones under the new parent; a rename closes and opens the unit's own. A version
-- is in force from valid_from (the recording of the event that opened it, since_position) until valid_until.
-- The progress projection is rebuilt to fill them.
ALTER TABLE congress.rollup_units DROP CONSTRAINT rollup_units_pkey;
ALTER TABLE congress.rollup_units DROP CONSTRAINT rollup_units_unit_key_key;
ALTER TABLE congress.rollup_units ADD COLUMN since_position bigint, ADD COLUMN valid_from timestamptz, ADD COLUMN valid_until timestamptz;
UPDATE congress.rollup_units SET since_position = unit_key, valid_from = registered_at;
ALTER TABLE congress.rollup_units ALTER COLUMN since_position SET NOT NULL, ALTER COLUMN valid_from SET NOT NULL;
ALTER TABLE congress.rollup_units ADD PRIMARY KEY (organization_id, since_position);
CREATE INDEX rollup_units_current ON congress.rollup_units (organization_id) WHERE valid_until IS NULL;
UPDATE event_store.projection_checkpoints SET rebuild_requested = true WHERE projection = 'progress';
