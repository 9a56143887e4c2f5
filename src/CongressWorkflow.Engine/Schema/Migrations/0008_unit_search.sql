-- Finding units at national scale: each version of a unit keeps its sector and its name folded for search
-- (SearchText.Fold: no diacritics, lower case), filled by a rebuild of the progress projection.
ALTER TABLE congress.rollup_units ADD COLUMN sector smallint, ADD COLUMN search_name text;
UPDATE event_store.projection_checkpoints SET rebuild_requested = true WHERE projection = 'progress';
