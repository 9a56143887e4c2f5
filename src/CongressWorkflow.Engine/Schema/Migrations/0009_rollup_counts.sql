-- Progress of a subtree as of any day without visiting its units. Each version of a unit's place is cut into segments
-- of days with one status (a member; in a campaign: not yet due, overdue, held early, on time or late), each naming
-- the unit's ancestors in that version. rollup_counts holds, for every ancestor, campaign, level and status, how many
-- units enter (+) or leave (-) that status on each day: the count on a day is the sum of the deltas up to it. A held
-- status also keeps the day it was held, for the day a whole subtree finished. Filled by a rebuild of the progress
-- projection, then kept by it batch by batch (ProgressCounts).
CREATE TABLE congress.rollup_segments (
    organization_id text     NOT NULL,
    since_position  bigint   NOT NULL,
    campaign_id     text     NOT NULL,
    status          smallint NOT NULL,
    level           smallint NOT NULL,
    ancestors       bigint[] NOT NULL,
    held_on         date,
    starts          date     NOT NULL,
    ends            date
);
CREATE INDEX rollup_segments_unit ON congress.rollup_segments (organization_id);

CREATE TABLE congress.rollup_counts (
    ancestor_key bigint   NOT NULL,
    campaign_id  text     NOT NULL,
    day          date     NOT NULL,
    level        smallint NOT NULL,
    status       smallint NOT NULL,
    held_on      date     NOT NULL,
    delta        integer  NOT NULL,
    PRIMARY KEY (ancestor_key, campaign_id, day, level, status, held_on)
);
UPDATE event_store.projection_checkpoints SET rebuild_requested = true WHERE projection = 'progress';
