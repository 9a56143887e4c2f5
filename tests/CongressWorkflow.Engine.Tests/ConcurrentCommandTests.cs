using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.EventStore;
using CongressWorkflow.Testing;
using Npgsql;
using static CongressWorkflow.Engine.Tests.Subtree;

namespace CongressWorkflow.Engine.Tests;

/// <summary>
/// Commands racing on the tree: each test holds the other side's write open in a transaction of its own (as the
/// other command would, mid-flight), runs the command, then commits the other side. A command that read its facts
/// outside its transaction decides on the world before the other write and gets it wrong; ours waits for the row
/// lock and decides on what committed.
/// </summary>
public sealed class commands_racing_on_the_tree(EngineDatabase db) : IClassFixture<EngineDatabase>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        await db.ResetAsync();
        await BuildTreeAsync(db);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Runs a command while another transaction's write is in flight, then commits that write and returns the command's outcome.</summary>
    private async Task<Exception?> WhileInFlightAsync(string otherWrite, Func<Task> command)
    {
        await using var other = await db.DataSource.OpenConnectionAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await using (var write = new NpgsqlCommand(otherWrite, other, transaction))
        {
            await write.ExecuteNonQueryAsync();
        }

        var running = Task.Run(command);
        await Task.WhenAny(running, Task.Delay(700));
        await transaction.CommitAsync();
        try
        {
            await running;
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static string InsertChild(string id, string parent) => $"""
        INSERT INTO congress.organizations (organization_id, name, level, parent_id, path, version)
        SELECT '{id}', 'Chi bộ mới', {(short)OrganizationLevel.Branch}, organization_id, path || '999999', 1
        FROM congress.organizations WHERE organization_id = '{parent}'
        """;

    [Fact]
    public async Task a_registration_racing_another_of_the_same_id_is_decided_again_and_refused_as_a_rule()
    {
        // The other registration mid-flight: its tree row and its stream written, not yet committed.
        await using var other = await db.DataSource.OpenConnectionAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await using (var row = new NpgsqlCommand(InsertChild("chi-bo-dua", Ministry), other, transaction))
        {
            await row.ExecuteNonQueryAsync();
        }

        await db.Store.AppendAsync(other, transaction, Organization.StreamId("chi-bo-dua"), OrganizationService.Aggregate.StreamType, ExpectedVersion.NoStream,
            [new NewEvent(Guid.NewGuid(), new OrganizationRegistered("chi-bo-dua", "Chi bộ mới", OrganizationLevel.Branch, null, Ministry, DateTimeOffset.UtcNow))],
            new EventMetadata(new Actor("other", "admin"), Guid.NewGuid()));

        // Ours decided on the tree without it; its tree row waits on the other's, which then commits.
        var running = Task.Run(() => db.Organizations.RegisterAsync("chi-bo-dua", "Chi bộ Đua", OrganizationLevel.Branch, Sector.StateManagement, Ministry, db.As(Central)));
        await Task.WhenAny(running, Task.Delay(700));
        Assert.False(running.IsCompleted, "the registration should wait on the other's uncommitted tree row");
        await transaction.CommitAsync();

        var refused = await Assert.ThrowsAsync<CommandRejectedException>(() => running);
        Assert.Equal(OrganizationErrors.AlreadyRegistered, refused.Code);
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM event_store.events WHERE stream_id = 'org-chi-bo-dua'"));
        Assert.Equal("Chi bộ mới", (await db.Tree.GetAsync("chi-bo-dua"))!.Name);
    }

    [Fact]
    public async Task a_registration_under_a_parent_being_dissolved_waits_for_it_and_is_refused()
    {
        await db.Organizations.RegisterAsync("dang-bo-moi", "Đảng bộ mới", OrganizationLevel.Grassroots, Sector.StateManagement, Ministry, db.As(Central));

        var outcome = await WhileInFlightAsync(
            "UPDATE congress.organizations SET is_dissolved = true WHERE organization_id = 'dang-bo-moi'",
            () => db.Organizations.RegisterAsync("chi-bo-a", "Chi bộ A", OrganizationLevel.Branch, Sector.StateManagement, "dang-bo-moi", db.As(Central)));

        var refused = Assert.IsType<CommandRejectedException>(outcome);
        Assert.Equal(OrganizationErrors.Dissolved, refused.Code);
        Assert.Null(await db.Tree.GetAsync("chi-bo-a"));
    }

    [Fact]
    public async Task a_dissolution_while_a_child_registers_waits_for_it_and_is_refused()
    {
        await db.Organizations.RegisterAsync("dang-bo-moi", "Đảng bộ mới", OrganizationLevel.Grassroots, Sector.StateManagement, Ministry, db.As(Central));

        var outcome = await WhileInFlightAsync(InsertChild("chi-bo-a", "dang-bo-moi"),
            () => db.Organizations.DissolveAsync("dang-bo-moi", "sáp nhập", db.As(Central)));

        var refused = Assert.IsType<CommandRejectedException>(outcome);
        Assert.Equal(OrganizationErrors.HasChildren, refused.Code);
        Assert.False((await db.Tree.GetAsync("dang-bo-moi"))!.IsDissolved);
    }

    [Fact]
    public async Task a_congress_convening_while_a_subordinate_registers_waits_and_counts_it()
    {
        await db.Organizations.RegisterAsync("to-chuc-goc", "Tổ chức gốc", OrganizationLevel.Central, null, null, db.As(Central));
        await db.Congresses.HandleAsync(Plan(db, "to-chuc-goc", "01-KH/TW", D(2020, 1, 20), new(D(2020, 1, 1), D(2020, 1, 31)), null));
        MoveClockTo(db, D(2020, 1, 20));

        var outcome = await WhileInFlightAsync(InsertChild("chi-bo-a", "to-chuc-goc"),
            () => db.Congresses.HandleAsync(Convene(db, "to-chuc-goc", D(2020, 1, 20))));

        var refused = Assert.IsType<CommandRejectedException>(outcome);
        Assert.Equal(CongressErrors.SubordinatesIncomplete, refused.Code);
        Assert.Equal(CongressStage.Preparing, (await db.Congresses.LoadAsync(CongressOf("to-chuc-goc"))).State.Stage);
    }

    [Fact]
    public async Task commands_sent_without_an_expected_version_to_one_congress_all_land()
    {
        await PlanAllAsync(db);
        var congress = CongressOf(Centre);
        await db.Congresses.HandleAsync(new PrepareDraft(congress, DraftKind.PoliticalReport, db.As(Centre)));
        var before = (await db.Congresses.LoadAsync(congress)).Version;

        var results = await Task.WhenAll(Enumerable.Range(1, 24).Select(i =>
            Task.Run(() => db.Congresses.HandleAsync(new CollectComments(congress, DraftKind.PoliticalReport, i, i, db.As(Centre))))));

        Assert.Equal(24, results.Select(r => r.Version).Distinct().Count());
        Assert.Equal(before + 24, (await db.Congresses.LoadAsync(congress)).Version);
    }
}
