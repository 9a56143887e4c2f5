-- A deadline replaced by a later plan version has no step after its last day in force (NotificationSchedule.Pending).
-- Older versions kept the next step's day of such rows: the sweep never took them (they are out of force), but every
-- one of its batches passed over them in the deadlines_due index. Their next step goes; they leave the index.
UPDATE congress.deadlines SET next_step_on = NULL WHERE next_step_on > effective_until;
