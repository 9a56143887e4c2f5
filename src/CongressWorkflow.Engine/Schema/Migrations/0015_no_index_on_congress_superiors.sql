-- No query looks congresses up by their superior: this index was only ever written. Worse, a cached plan chosen while
-- congress.congresses was empty (a new installation, before its first plans) used it to find one congress by campaign
-- and organisation, reading every congress of the campaign under it: the plan cascade's followers lookup took 4 to 17 s
-- a statement in a 100,000-organisation plans phase (45 s of 81 s). Without it, the unique (campaign, organisation)
-- index is the one that fits.
DROP INDEX IF EXISTS congress.congresses_superior;
