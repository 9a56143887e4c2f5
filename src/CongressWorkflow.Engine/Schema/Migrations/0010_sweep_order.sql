-- The deadline sweep takes the due deadlines in (next step, congress, milestone, due) order, 500 at a time. With an
-- index on the next step's day alone, every batch read and sorted every deadline already due (most of a national
-- campaign's on a busy day) to return the first 500; in the sweep's own order the batch stops at its 500th row.
CREATE INDEX deadlines_due ON congress.deadlines (next_step_on, congress_id, milestone, due_on) WHERE next_step_on IS NOT NULL;
DROP INDEX congress.deadlines_next_step;
