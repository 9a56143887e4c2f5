-- Indexes found missing by simulating national campaigns (tens of thousands of organisations).

-- The deadline sweep takes a campaign's due deadlines in (next step, congress, milestone, due) order, 500 at a time.
-- With an index on the next step's day alone, every batch read and sorted every deadline already due, of every
-- campaign (a finished simulation's too, due on days long past and never swept by the real sweep), to return its 500.
-- In the sweep's own order, within its campaign, a batch reads its 500 rows and stops.
CREATE INDEX deadlines_due ON congress.deadlines (campaign_id, next_step_on, congress_id, milestone, due_on) WHERE next_step_on IS NOT NULL;
DROP INDEX congress.deadlines_next_step;

-- The progress projection recomputes the day-by-day counts of the units a batch touched, reading their congresses
-- by organisation: without this index every batch read the whole table (140 ms a batch with 160,000 congresses).
CREATE INDEX rollup_congresses_unit ON congress.rollup_congresses (organization_id);

-- The deadlines are updated row by row as steps are sent and congresses move on: their dead row versions are vacuumed
-- after 2 % of the table changed, not the default 20 % (the sweep's index scans read past them until then).
ALTER TABLE congress.deadlines SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
