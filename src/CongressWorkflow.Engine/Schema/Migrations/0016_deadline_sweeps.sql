-- The day each campaign was last swept through. Every writer of a deadline's next step writes no day before its own
-- (a step whose day has passed is due today), and a sweep moves every deadline it takes past its day, so a sweep can
-- start a day before the last one's: below that, the due index holds only entries left dead by earlier moves (each
-- first batch of a day passed all of them: 89 s of a 300,000-organisation simulation).
CREATE TABLE congress.deadline_sweeps (
    campaign_id text PRIMARY KEY REFERENCES congress.campaigns ON DELETE CASCADE,
    swept_on    date NOT NULL
);
