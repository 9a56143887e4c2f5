-- Simulated campaigns (congress simulate): which exist, and the last simulated day each finished, so a run that
-- stopped carries on from the next day.
CREATE TABLE congress.simulations (
    simulation_id  text        PRIMARY KEY,
    size           integer     NOT NULL,
    seed           integer     NOT NULL,
    day_reached    date,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz
);
