-- The deadline sweep takes a campaign's due deadlines in (next step, congress, milestone, due) order, 500 at a time.
-- With an index on the next step's day alone, every batch read and sorted every deadline already due, of every
-- campaign (a finished simulation's too, due on days long past and never swept by the real sweep), to return its 500.
-- In the sweep's own order, within its campaign, a batch reads its 500 rows and stops.
CREATE INDEX deadlines_due ON congress.deadlines (campaign_id, next_step_on, congress_id, milestone, due_on) WHERE next_step_on IS NOT NULL;
DROP INDEX congress.deadlines_next_step;
