using System.Diagnostics;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Engine;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Congresses;
using CongressWorkflow.Engine.Simulation;
using CongressWorkflow.Engine.Time;
using CongressWorkflow.EventStore;
using Npgsql;

namespace CongressWorkflow.Benchmarks;

/// <summary>
/// A Central amendment that moves most of a national campaign's plans: a simulated campaign (100,000 organisations at
/// scale 1) imported and planned, then Central pulls the end of its window for subordinates in from 31/12/2020 to
/// 30/06/2020, in one command as the API sends it. Every plan that no longer fits is derived again down the tree, in
/// that command's transaction. The baseline, in the same run: the plans themselves, written by the batch path (the same
/// inline read models, one plan event per congress). Then the window conflicts the API answers an amendment with, for
/// the whole tree.
/// </summary>
public static class CascadeBenchmark
{
    public static async Task RunAsync(string connectionString, double scale)
    {
        await using var dataSource = StoreDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = 0 }.ConnectionString);
        await EngineSchema.MigrateAsync(dataSource);
        var campaign = new SimulatedCampaign(Math.Max(1_000, (int)(100_000 * scale)), seed: 1);
        Console.WriteLine($"Cascade at scale {scale}: {campaign.Size:N0} organisations");

        var planning = new Stopwatch();
        var importing = Stopwatch.StartNew();
        await new CampaignSimulation(dataSource, campaign).PrepareAsync(new Progress<SimulationProgress>(p =>
        {
            if (p.Phase == CampaignSimulation.PhasePlans && !planning.IsRunning)
            {
                importing.Stop();
                planning.Start();
            }
        }));
        planning.Stop();
        Console.WriteLine($"tree imported in {importing.Elapsed.TotalSeconds:N1} s");
        var plans = campaign.Units.Count;

        var amendedOn = new DateOnly(2020, 1, 25);
        var clock = new ManualTimeProvider(new DateTimeOffset(amendedOn.ToDateTime(new TimeOnly(9, 0)), TimeSpan.Zero));
        var congresses = new CongressService(new CommandPipeline(new PostgresEventStore(dataSource, DomainEventTypes.CreateRegistry(), clock), dataSource));
        var root = campaign.Root;
        // The plans' dirty pages written out first, so that a checkpoint of theirs does not land in the amendment's time.
        await Sql.ExecuteAsync(dataSource, "CHECKPOINT");

        var before = await Sql.ScalarAsync(dataSource, "SELECT count(*) FROM event_store.events");
        var watch = Stopwatch.StartNew();
        await congresses.HandleAsync(new AmendPlan(Congress.StreamId(campaign.CampaignId, root.Id), DocumentReference.Parse("244-KH/TW"), amendedOn,
            root.PlannedDate, root.Window, new DateWindow(root.SubordinateWindow!.Start, new DateOnly(2020, 6, 30)), [], null,
            new CommandContext("bench", Roles.Committee, root.Id, clock.GetUtcNow())));
        var amendment = watch.Elapsed;
        var followers = await Sql.ScalarAsync(dataSource, "SELECT count(*) FROM event_store.events") - before - 1;
        if (followers < plans / 10)
        {
            throw new InvalidOperationException($"the amendment moved {followers:N0} plans of {plans:N0}: too few to measure a cascade");
        }

        watch.Restart();
        var conflicts = await congresses.FindWindowConflictsAsync(campaign.CampaignId, root.Id);
        var conflictSeconds = watch.Elapsed.TotalSeconds;

        var perPlan = planning.Elapsed.TotalMilliseconds / plans;
        var perFollower = amendment.TotalMilliseconds / followers;
        Console.WriteLine();
        Console.WriteLine($"{"",-48} {"plans",8} {"s",7} {"ms/plan",8}");
        Console.WriteLine($"{"plans issued in batches (baseline)",-48} {plans,8:N0} {planning.Elapsed.TotalSeconds,7:N1} {perPlan,8:N2}");
        Console.WriteLine($"{"plans moved by Central's amendment (one command)",-48} {followers,8:N0} {amendment.TotalSeconds,7:N1} {perFollower,8:N2}");
        Console.WriteLine($"{"cascade / batch, per plan",-48} {perFollower / perPlan,8:N2}×");
        Console.WriteLine($"{"window conflicts of the whole tree",-48} {conflicts.Count,8:N0} {conflictSeconds,7:N2}");
    }
}
