-- Every campaign started before the events table was partitioned (event store migration 0007) gets its partition, as a
-- campaign started now does: the streams it creates from now on go there; those it had stay in the shared partition.
SELECT event_store.create_partition(campaign_id) FROM congress.campaigns ORDER BY started_at;
