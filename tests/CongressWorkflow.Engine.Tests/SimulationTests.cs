using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Engine.Monitoring;
using CongressWorkflow.Engine.Simulation;
using CongressWorkflow.EventStore.Projections;
using CongressWorkflow.Testing;
using Xunit.Abstractions;

namespace CongressWorkflow.Engine.Tests;

public sealed class simulating_a_campaign(EngineDatabase db, ITestOutputHelper output) : IClassFixture<EngineDatabase>, IAsyncLifetime
{
    public Task InitializeAsync() => db.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public void the_generated_tree_has_the_level_mix_of_the_central_agencies_bloc_and_is_the_same_for_the_same_seed()
    {
        var campaign = new SimulatedCampaign(13_077, 7);
        var again = new SimulatedCampaign(13_077, 7);

        var levels = campaign.Units.GroupBy(u => u.Level).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(13_077, campaign.Units.Count);
        Assert.Equal((1, 2), (levels[OrganizationLevel.Central], levels[OrganizationLevel.Bloc]));
        Assert.Equal((122, 2_136), (levels[OrganizationLevel.Ministry], levels[OrganizationLevel.Grassroots]));
        Assert.Equal(campaign.Units.Select(u => (u.Id, u.ParentId, u.PlannedDate, u.HeldOn)), again.Units.Select(u => (u.Id, u.ParentId, u.PlannedDate, u.HeldOn)));
        Assert.Contains(campaign.Units, u => u.PostponedOn is not null);
        Assert.Equal(122 * 3, campaign.Units.Count(u => u.IsPilot));
        // The same seed at another size is another campaign, with organisations of its own.
        var smaller = new SimulatedCampaign(240, 7);
        Assert.NotEqual(campaign.CampaignId, smaller.CampaignId);
        Assert.Empty(smaller.Units.Select(u => u.Id).Intersect(campaign.Units.Select(u => u.Id)));
    }

    [Fact]
    public async Task a_small_campaign_plays_through_the_command_handlers_and_a_stopped_run_carries_on_where_it_stopped()
    {
        var campaign = new SimulatedCampaign(240, 11);
        using var stop = new CancellationTokenSource();
        var halfway = new DateOnly(2020, 5, 1);
        var progress = new OnReport(p =>
        {
            if (p.Day >= halfway)
            {
                stop.Cancel();
            }
        });

        // The tree goes in files of 100 rows (three here), the second run imports them again.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new CampaignSimulation(db.DataSource, campaign, treeFileRows: 100).RunAsync(progress, stop.Token));
        var reached = await db.ScalarAsync<DateOnly>("SELECT day_reached FROM congress.simulations WHERE simulation_id = $1", campaign.CampaignId);
        var resumed = new CampaignSimulation(db.DataSource, campaign, treeFileRows: 100);
        await resumed.RunAsync();

        Assert.InRange(reached, halfway, halfway.AddDays(1));
        var counts = await EventCountsAsync();
        output.WriteLine(string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}")));
        Assert.Equal(campaign.Units.Count, counts["organization.registered"]);
        Assert.Equal(campaign.Units.Count, counts["congress.plan-issued"]);
        Assert.Equal(campaign.Units.Count, counts["congress.convened"]);
        Assert.True(counts["congress.postponed"] > 0 && counts["congress.rescheduled"] == counts["congress.postponed"]);
        Assert.True(counts["congress.submission-returned"] > 0);
        Assert.True(counts["notification.recorded"] > 0);
        Assert.True(await db.ScalarAsync<long>("SELECT count(*) FROM event_store.events WHERE event_type = 'congress.plan-amended' AND data->>'followsSuperior' IS NOT NULL") > 0,
            "a committee hit by the wave widens its branches' window, and they follow");
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM congress.congresses WHERE campaign_id = $1 AND convened_on IS NULL", campaign.CampaignId));
        // The batches, the cascades they set off and the stopped run's retaken days each left every congress's snapshot at its stream's version.
        Assert.Equal(campaign.Units.Count, await SnapshotChecks.AssertEveryCongressSnapshotIsItsWholeFoldAsync(db));
        // The campaign's streams (its own, its congresses' by every path, the sweep's ledgers) are in its partition, the tree's in the shared one.
        var partitions = await db.ScalarAsync<string[]>("""
            SELECT array_agg(DISTINCT s.stream_type || ' ' || CASE WHEN e.tableoid = ('event_store.' || p.table_name)::regclass THEN 'campaign' ELSE e.tableoid::regclass::text END)
            FROM event_store.events e JOIN event_store.streams s USING (stream_id)
            JOIN event_store.partitions p ON p.partition_key = $1
            """, campaign.CampaignId);
        Assert.Equal(["campaign campaign", "congress campaign", "ledger campaign", "organization event_store.events_shared"], partitions);
        // The simulation keeps its own time: the real sweep (today, years after) leaves its open deadlines (the resolutions to disseminate) alone.
        Assert.True(await db.ScalarAsync<long>("SELECT count(*) FROM congress.deadlines WHERE campaign_id = $1 AND NOT is_met", campaign.CampaignId) > 0);
        Assert.Equal(0, (await new Deadlines.DeadlineSweep(db.Store, db.DataSource, TimeProvider.System).RunAsync()).Deadlines);

        // Every congress was recorded on its simulated day: the progress report as of the day before the national congress has
        // every unit below it held, with early, on-time and late ones.
        await using var daemon = new ProjectionDaemon(db.DataSource, db.Store, [new ProgressProjection()],
            new ProjectionDaemonOptions { BatchSize = 2000, PollInterval = TimeSpan.FromMilliseconds(20) });
        daemon.Start();
        var head = await db.Store.ReadHeadPositionAsync();
        while ((await ProjectionDaemon.StatusAsync(db.DataSource)).SingleOrDefault() is not { Position: var position } || position < head)
        {
            await Task.Delay(50);
        }

        var report = (await new ProgressQueries(db.DataSource).RollupAsync(campaign.CampaignId, campaign.RootId, new DateOnly(2021, 1, 24)))!;
        Assert.All(report.Levels, l => Assert.Equal(l.Total, l.Held));
        Assert.Equal(campaign.Units.Count - 1, report.Levels.Sum(l => l.Total));
        Assert.True(report.Levels.Sum(l => l.Early) > 0 && report.Levels.Sum(l => l.OnTime) > 0 && report.Levels.Sum(l => l.Late) > 0);
    }

    private async Task<Dictionary<string, long>> EventCountsAsync()
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var command = db.DataSource.CreateCommand("SELECT event_type, count(*) FROM event_store.events GROUP BY 1 ORDER BY 1");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    /// <summary>Progress reported on the simulation's own thread, so a test can stop it at an exact day.</summary>
    private sealed class OnReport(Action<SimulationProgress> report) : IProgress<SimulationProgress>
    {
        public void Report(SimulationProgress value) => report(value);
    }
}
