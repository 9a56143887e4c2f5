using CongressWorkflow.EventStore.Projections;
using CongressWorkflow.Testing;
using Npgsql;

namespace CongressWorkflow.EventStore.Tests;

/// <summary>Writes one row per event it sees into its own table; can be told to crash or to fail.</summary>
public sealed class LoggingProjection(string name) : IProjection
{
    private int _concurrent;

    /// <summary>The most batches of this projection ever applied at the same moment (by any daemon sharing it).</summary>
    public int MaxConcurrent { get; private set; }

    public string Name { get; } = name;

    public IReadOnlySet<string>? EventTypes => null;

    /// <summary>Kills its own database session once, after writing its rows but before the commit.</summary>
    public bool CrashOnce { get; set; }

    /// <summary>Makes a rebuild's reset fail, as a projection whose tables cannot be emptied.</summary>
    public bool FailReset { get; set; }

    /// <summary>Throws on the member of this name, as a projection meeting an event it cannot apply.</summary>
    public string? FailOn { get; set; }

    public string Table => $"projection_log_{Name}";

    public async Task ApplyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<RecordedEvent> events, CancellationToken cancellationToken)
    {
        var now = Interlocked.Increment(ref _concurrent);
        MaxConcurrent = Math.Max(MaxConcurrent, now);
        try
        {
            foreach (var e in events)
            {
                if (e.Data is MemberJoined joined && joined.Name == FailOn)
                {
                    throw new InvalidOperationException($"cannot apply the arrival of '{joined.Name}'");
                }

                await using var insert = new NpgsqlCommand($"INSERT INTO {Table} (event_id, position, name) VALUES ($1, $2, $3)", connection, transaction);
                insert.Parameters.Add(new() { Value = e.EventId });
                insert.Parameters.Add(new() { Value = e.GlobalPosition });
                insert.Parameters.Add(new() { Value = ((MemberJoined)e.Data).Name });
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            if (CrashOnce)
            {
                CrashOnce = false;
                await using var crash = new NpgsqlCommand("SELECT pg_terminate_backend(pg_backend_pid())", connection, transaction);
                await crash.ExecuteNonQueryAsync(cancellationToken);
            }

            await Task.Delay(5, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _concurrent);
        }
    }

    public async Task ResetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        if (FailReset)
        {
            throw new InvalidOperationException("cannot empty the log table");
        }

        await using var truncate = new NpgsqlCommand($"TRUNCATE {Table}", connection, transaction);
        await truncate.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task CreateTableAsync(NpgsqlDataSource dataSource)
    {
        await using var create = dataSource.CreateCommand($"DROP TABLE IF EXISTS {Table}; CREATE TABLE {Table} (event_id uuid NOT NULL, position bigint NOT NULL, name text NOT NULL)");
        await create.ExecuteNonQueryAsync();
    }
}

public sealed class the_projection_daemon(EventStoreDatabase db) : StoreTestBase(db)
{
    private static readonly ProjectionDaemonOptions Fast = new() { BatchSize = 7, PollInterval = TimeSpan.FromMilliseconds(20) };

    private async Task<LoggingProjection> NewProjectionAsync(string name)
    {
        await Db.ExecuteAsync("DELETE FROM event_store.projection_checkpoints");
        var projection = new LoggingProjection(name);
        await projection.CreateTableAsync(Db.DataSource);
        return projection;
    }

    private async Task AppendMembersAsync(int count, string prefix = "m")
    {
        for (var i = 0; i < count; i++)
        {
            await Store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [TestEvents.Joined($"{prefix}{i}")], TestEvents.Meta);
        }
    }

    private async Task WaitForAsync(string projection, long position)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var status = (await ProjectionDaemon.StatusAsync(Db.DataSource)).SingleOrDefault(s => s.Name == projection);
            if (status is { State: ProjectionState.Running } && status.Position >= position)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{projection} did not reach {position}: {status}");
            await Task.Delay(20);
        }
    }

    private async Task<(long Rows, long Distinct)> CountAsync(LoggingProjection projection) =>
        (await Db.ScalarAsync<long>($"SELECT count(*) FROM {projection.Table}"),
         await Db.ScalarAsync<long>($"SELECT count(DISTINCT event_id) FROM {projection.Table}"));

    [Fact]
    public async Task a_checkpoint_beyond_the_head_stops_the_projection_loudly_instead_of_skipping_new_events()
    {
        var projection = await NewProjectionAsync("ahead");
        await AppendMembersAsync(5);
        var errors = new List<Exception>();
        await using var daemon = new ProjectionDaemon(Db.DataSource, Store, [projection], Fast, (_, e) => errors.Add(e));
        daemon.Start();
        await WaitForAsync("ahead", 5);

        // An event's position is edited far ahead for a moment (the checkpoint follows it there), then put back.
        await Db.ExecuteAsync("UPDATE event_store.events SET global_position = 1000 WHERE global_position = 5");
        await WaitForAsync("ahead", 1000);
        await Db.ExecuteAsync("UPDATE event_store.events SET global_position = 5 WHERE global_position = 1000");
        await AppendMembersAsync(3, "new");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        ProjectionStatus status;
        while ((status = (await ProjectionDaemon.StatusAsync(Db.DataSource)).Single()).State != ProjectionState.Failed)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the projection went on: {status}");
            await Task.Delay(20);
        }

        Assert.Contains("the checkpoint 1000 is beyond the store's head", status.Error, StringComparison.Ordinal);
        Assert.Equal(1000, status.FailedPosition);
        Assert.Contains(errors, e => e.Message.Contains("beyond the store's head", StringComparison.Ordinal));
        Assert.Equal(0L, await Db.ScalarAsync<long>($"SELECT count(*) FROM {projection.Table} WHERE name LIKE 'new%'"));
    }

    [Fact]
    public async Task each_daemon_reports_the_lag_of_its_own_projections()
    {
        var first = await NewProjectionAsync("first");
        var second = new LoggingProjection("second");
        await second.CreateTableAsync(Db.DataSource);
        await AppendMembersAsync(3);

        await using var one = new ProjectionDaemon(Db.DataSource, Store, [first], Fast);
        await using var two = new ProjectionDaemon(Db.DataSource, Store, [second], Fast);
        one.Start();
        two.Start();
        await WaitForAsync("first", 3);
        await WaitForAsync("second", 3);

        Assert.Equal(["first"], one.Lags.Keys);
        Assert.Equal(["second"], two.Lags.Keys);
    }

    [Fact]
    public async Task a_crash_between_batch_and_checkpoint_applies_each_event_exactly_once()
    {
        var projection = await NewProjectionAsync("crash");
        projection.CrashOnce = true;
        await AppendMembersAsync(30);
        var errors = new List<Exception>();

        await using (var daemon = new ProjectionDaemon(Db.DataSource, Store, [projection], Fast, (_, e) => errors.Add(e)))
        {
            daemon.Start();
            await WaitForAsync("crash", 30);
        }

        Assert.NotEmpty(errors);
        Assert.Equal((30L, 30L), await CountAsync(projection));
    }

    [Fact]
    public async Task after_a_restart_it_catches_up_from_its_checkpoint()
    {
        var projection = await NewProjectionAsync("restart");
        await AppendMembersAsync(10);
        await using (var first = new ProjectionDaemon(Db.DataSource, Store, [projection], Fast))
        {
            first.Start();
            await WaitForAsync("restart", 10);
        }

        await AppendMembersAsync(15, "later");
        await using (var second = new ProjectionDaemon(Db.DataSource, Store, [projection], Fast))
        {
            second.Start();
            await WaitForAsync("restart", 25);
        }

        Assert.Equal((25L, 25L), await CountAsync(projection));
    }

    [Fact]
    public async Task a_rebuild_reproduces_the_read_model_exactly_while_another_projection_keeps_running()
    {
        var rebuilt = await NewProjectionAsync("rebuilt");
        var other = new LoggingProjection("other");
        await other.CreateTableAsync(Db.DataSource);
        await AppendMembersAsync(40);
        await using var daemon = new ProjectionDaemon(Db.DataSource, Store, [rebuilt, other], Fast);
        daemon.Start();
        await WaitForAsync("rebuilt", 40);
        var live = await DumpAsync(rebuilt);

        await ProjectionDaemon.RequestRebuildAsync(Db.DataSource, "rebuilt");
        await AppendMembersAsync(5, "during");
        await WaitForAsync("other", 45);
        await WaitForAsync("rebuilt", 45);
        await Db.ExecuteAsync($"DELETE FROM {rebuilt.Table} WHERE name LIKE 'during%'");

        Assert.Equal(live, await DumpAsync(rebuilt));
        Assert.Equal((45L, 45L), await CountAsync(other));
    }

    [Fact]
    public async Task a_requested_rebuild_reads_as_rebuilding_until_the_rebuilt_model_has_caught_up()
    {
        var projection = await NewProjectionAsync("pending");
        await AppendMembersAsync(10);
        await using (var daemon = new ProjectionDaemon(Db.DataSource, Store, [projection], Fast))
        {
            daemon.Start();
            await WaitForAsync("pending", 10);
        }

        // No daemon runs it now: the old model still sits at the head, but its position no longer speaks for the rebuilt one.
        await ProjectionDaemon.RequestRebuildAsync(Db.DataSource, "pending");
        var requested = (await ProjectionDaemon.StatusAsync(Db.DataSource)).Single(s => s.Name == "pending");
        Assert.Equal(ProjectionState.Rebuilding, requested.State);

        await using (var daemon = new ProjectionDaemon(Db.DataSource, Store, [projection], Fast))
        {
            daemon.Start();
            await WaitForAsync("pending", 10);
        }

        Assert.Equal((10L, 10L), await CountAsync(projection));
    }

    [Fact]
    public async Task two_daemons_never_run_a_projection_at_once_and_the_second_takes_over_when_the_first_stops()
    {
        var projection = await NewProjectionAsync("shared");
        await AppendMembersAsync(20);
        var first = new ProjectionDaemon(Db.DataSource, Store, [projection], Fast with { NodeId = "node-a" });
        await using var second = new ProjectionDaemon(Db.DataSource, Store, [projection], Fast with { NodeId = "node-b" });
        first.Start();
        await WaitForAsync("shared", 20);
        second.Start();
        await AppendMembersAsync(20, "more");
        await WaitForAsync("shared", 40);
        var ownerWhileBoth = (await ProjectionDaemon.StatusAsync(Db.DataSource)).Single().Owner;

        await first.DisposeAsync();
        await AppendMembersAsync(10, "after");
        await WaitForAsync("shared", 50);
        var ownerAfter = (await ProjectionDaemon.StatusAsync(Db.DataSource)).Single().Owner;

        Assert.Equal("node-a", ownerWhileBoth);
        Assert.Equal("node-b", ownerAfter);
        Assert.Equal(1, projection.MaxConcurrent);
        Assert.Equal((50L, 50L), await CountAsync(projection));
    }

    [Fact]
    public async Task an_event_it_cannot_apply_stops_that_projection_with_a_visible_reason_until_resumed()
    {
        var failing = await NewProjectionAsync("failing");
        failing.FailOn = "m3";
        var healthy = new LoggingProjection("healthy");
        await healthy.CreateTableAsync(Db.DataSource);
        await AppendMembersAsync(10);
        await using var daemon = new ProjectionDaemon(Db.DataSource, Store, [failing, healthy], Fast with { BatchSize = 2 });
        daemon.Start();
        await WaitForAsync("healthy", 10);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        ProjectionStatus status;
        while ((status = (await ProjectionDaemon.StatusAsync(Db.DataSource)).Single(s => s.Name == "failing")).State != ProjectionState.Failed)
        {
            Assert.True(DateTime.UtcNow < deadline);
            await Task.Delay(20);
        }

        Assert.Contains("cannot apply the arrival of 'm3'", status.Error, StringComparison.Ordinal);
        Assert.Equal(3, status.FailedPosition);
        Assert.Equal(2, status.Position);
        Assert.Equal(8, status.Lag);
        Assert.Equal((2L, 2L), await CountAsync(failing));

        failing.FailOn = null;
        await ProjectionDaemon.ResumeAsync(Db.DataSource, "failing");
        await WaitForAsync("failing", 10);
        Assert.Equal((10L, 10L), await CountAsync(failing));
    }

    [Fact]
    public async Task a_rebuild_whose_reset_fails_stops_the_projection_with_the_reason()
    {
        var projection = await NewProjectionAsync("reset");
        await AppendMembersAsync(5);
        await using var daemon = new ProjectionDaemon(Db.DataSource, Store, [projection], Fast);
        daemon.Start();
        await WaitForAsync("reset", 5);
        projection.FailReset = true;

        await ProjectionDaemon.RequestRebuildAsync(Db.DataSource, "reset");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        ProjectionStatus status;
        while ((status = (await ProjectionDaemon.StatusAsync(Db.DataSource)).Single()).State != ProjectionState.Failed)
        {
            Assert.True(DateTime.UtcNow < deadline);
            await Task.Delay(20);
        }

        Assert.Contains("cannot empty the log table", status.Error, StringComparison.Ordinal);
        Assert.Equal((5L, 5L), await CountAsync(projection));
    }

    private Task<string> DumpAsync(LoggingProjection projection) =>
        Db.ScalarAsync<string>($"SELECT coalesce(string_agg(event_id::text || ':' || position || ':' || name, ',' ORDER BY position), '') FROM {projection.Table}");
}
