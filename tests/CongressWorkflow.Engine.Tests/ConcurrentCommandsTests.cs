using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.EventStore;
using CongressWorkflow.Testing;
using static CongressWorkflow.Engine.Tests.Subtree;

namespace CongressWorkflow.Engine.Tests;

public sealed class concurrent_commands_on_one_congress(EngineDatabase db) : IClassFixture<EngineDatabase>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        await db.ResetAsync();
        await BuildTreeAsync(db);
        await PlanAllAsync(db);
        await db.Congresses.HandleAsync(new PrepareDraft(CongressOf(Centre), DraftKind.PoliticalReport, db.As(Centre)));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task without_an_expected_version_they_queue_up_and_all_land()
    {
        var before = (await db.Congresses.LoadAsync(CongressOf(Centre))).Version;

        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => Task.Run(() =>
            db.Congresses.HandleAsync(new CollectComments(CongressOf(Centre), DraftKind.PoliticalReport, 1, i, db.As(Centre))))));

        Assert.Equal(Enumerable.Range(1, 100).Select(i => before + i), results.Select(r => r.Version).Order());
        Assert.Equal(before + 100, (await db.Congresses.LoadAsync(CongressOf(Centre))).Version);
    }

    [Fact]
    public async Task with_an_expected_version_the_losers_are_told_of_the_conflict()
    {
        var before = (await db.Congresses.LoadAsync(CongressOf(Centre))).Version;

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
        {
            try
            {
                await db.Congresses.HandleAsync(new CollectComments(CongressOf(Centre), DraftKind.PoliticalReport, 1, i, db.As(Centre)), expectedVersion: before);
                return "accepted";
            }
            catch (ConcurrencyException e)
            {
                return $"conflict at {e.ActualVersion}";
            }
        })));

        Assert.Single(outcomes, o => o == "accepted");
        Assert.All(outcomes.Where(o => o != "accepted"), o => Assert.Equal($"conflict at {before + 1}", o));
    }
}
