namespace CongressWorkflow.Engine.Tests;

public sealed class upgrading_a_database_with_replaced_deadlines_still_timed
{
    [Fact]
    public async Task the_migration_takes_the_next_step_from_those_out_of_force_by_then_and_leaves_the_others()
    {
        await using var dataSource = await UpgradedDatabase.BeforeMigrationAsync("deadline_upgrade", 13);
        // What an older version left: a due date replaced on 09/06 still timed for its 23/06 reminder; one replaced on
        // 30/06, whose 23/06 reminder is still to come; and the due date in force now.
        await using (var command = dataSource.CreateCommand("""
            INSERT INTO congress.deadlines (congress_id, milestone, due_on, campaign_id, organization_id, responsible_id, effective_from, effective_until,
                is_met, next_step_on) VALUES
                ('c-1', 'congress-held', '2020-06-30', 'c', 'u1', 'u1', '2020-01-01', '2020-06-09', false, '2020-06-23'),
                ('c-2', 'congress-held', '2020-06-30', 'c', 'u2', 'u2', '2020-01-01', '2020-06-30', false, '2020-06-23'),
                ('c-1', 'congress-held', '2020-07-31', 'c', 'u1', 'u1', '2020-06-10', NULL, false, '2020-07-01');
            """))
        {
            await command.ExecuteNonQueryAsync();
        }

        await EngineSchema.MigrateAsync(dataSource);

        await using var check = dataSource.CreateCommand(
            "SELECT string_agg(congress_id || ' ' || due_on || ' ' || coalesce(next_step_on::text, 'none'), '; ' ORDER BY congress_id, due_on) FROM congress.deadlines");
        Assert.Equal("c-1 2020-06-30 none; c-1 2020-07-31 2020-07-01; c-2 2020-06-30 2020-06-23", await check.ExecuteScalarAsync());
    }
}
