using CongressWorkflow.Testing;

namespace CongressWorkflow.EventStore.Tests;

public sealed class keeping_snapshots(EventStoreDatabase db) : StoreTestBase(db)
{
    private static readonly SnapshotShape Shape = new("roster/1");

    [Fact]
    public async Task on_a_new_installation_the_cached_plan_of_a_snapshot_read_finds_each_snapshot_by_its_key()
    {
        // As during a first plans phase: many streams, known to the planner; the first few snapshots, in a table never analysed.
        var database = await QueryPlans.NewDatabaseAsync("new-installation-snapshots", dataSource => PostgresEventStore.MigrateAsync(dataSource), """
            INSERT INTO event_store.streams (stream_id, stream_type, version, last_hash, created_at, updated_at)
            SELECT 'organization-' || n, 'organization', 1, '\x00', now(), now() FROM generate_series(1, 20000) n;
            ANALYZE event_store.streams;
            INSERT INTO event_store.snapshots (stream_id, shape, version, state, taken_at)
            SELECT 'organization-' || n, 'roster/1', 1, repeat('x', 1500), now() FROM generate_series(1, 20) n;
            """);

        var plan = await QueryPlans.GenericPlanAsync(database, PostgresEventStore.SnapshotStartsSql, "text[]", "text");

        Assert.Equal(["Index Scan on snapshots_pkey"], QueryPlans.AccessesTo(plan, "snapshots"));
    }

    [Fact]
    public async Task a_fold_starts_from_the_streams_snapshot_and_reads_only_the_events_after_it()
    {
        var (kept, plain) = (TestEvents.NewStreamId(), TestEvents.NewStreamId());
        foreach (var stream in new[] { kept, plain })
        {
            await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A"), TestEvents.Joined("B")], TestEvents.Meta);
        }

        // A snapshot unlike the events before it: a fold that read them too, or passed over the snapshot, would show it.
        await WriteAsync(new Snapshot<Roster>(kept, 2, new Roster(["from the snapshot"])));
        foreach (var stream in new[] { kept, plain })
        {
            await Store.AppendAsync(stream, "roster", ExpectedVersion.Exactly(2), [TestEvents.Joined("C")], TestEvents.Meta);
        }

        var current = TestEvents.NewStreamId();
        await Store.AppendAsync(current, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A"), TestEvents.Joined("B")], TestEvents.Meta);
        await WriteAsync(new Snapshot<Roster>(current, 2, new Roster(["current"])));

        var folded = await Store.AggregateStreamsAsync([kept, plain, current], Roster.Empty, Roster.Evolve, snapshots: Shape);
        var withoutSnapshots = await Store.AggregateStreamsAsync([kept], Roster.Empty, Roster.Evolve);

        Assert.Equal(["from the snapshot", "C"], folded[kept].State.Names);
        Assert.Equal(3, folded[kept].Version);
        Assert.Equal(["A", "B", "C"], folded[plain].State.Names);
        Assert.Equal(["A", "B", "C"], withoutSnapshots[kept].State.Names);
        Assert.Equal(["current"], folded[current].State.Names);
        Assert.Equal(2, folded[current].Version);
    }

    [Fact]
    public async Task a_snapshot_of_another_shape_or_past_the_streams_version_or_that_the_state_cannot_read_is_passed_over()
    {
        var (otherShape, pastVersion, unreadable) = (TestEvents.NewStreamId(), TestEvents.NewStreamId(), TestEvents.NewStreamId());
        foreach (var stream in new[] { otherShape, pastVersion, unreadable })
        {
            await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A"), TestEvents.Joined("B")], TestEvents.Meta);
        }

        await using (var connection = await Db.DataSource.OpenConnectionAsync())
        {
            await Store.WriteSnapshotsAsync(connection, null, new SnapshotShape("roster/0"), [new Snapshot<Roster>(otherShape, 2, new Roster(["old form"]))]);
        }

        // A stream cut back below its snapshot (by someone with SQL access): the snapshot tells of events it no longer has.
        await WriteAsync(new Snapshot<Roster>(pastVersion, 3, new Roster(["A", "B", "gone"])));

        await Db.ExecuteAsync(
            "INSERT INTO event_store.snapshots (stream_id, shape, version, state, taken_at) VALUES ($1, $2, 2, '{\"names\": 7}', now())", unreadable, Shape.Name);

        var folded = await Store.AggregateStreamsAsync([otherShape, pastVersion, unreadable], Roster.Empty, Roster.Evolve, snapshots: Shape);

        Assert.All(new[] { otherShape, pastVersion, unreadable }, stream =>
        {
            Assert.Equal(["A", "B"], folded[stream].State.Names);
            Assert.Equal(2, folded[stream].Version);
        });
    }

    [Fact]
    public async Task a_newer_snapshot_is_kept_and_an_older_one_replaced()
    {
        var stream = TestEvents.NewStreamId();
        await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A"), TestEvents.Joined("B"), TestEvents.Joined("C")], TestEvents.Meta);

        await WriteAsync(new Snapshot<Roster>(stream, 1, new Roster(["at 1"])));
        await WriteAsync(new Snapshot<Roster>(stream, 2, new Roster(["at 2"])));
        await WriteAsync(new Snapshot<Roster>(stream, 1, new Roster(["at 1, late"])));

        var folded = await Store.AggregateStreamsAsync([stream], Roster.Empty, Roster.Evolve, snapshots: Shape);

        Assert.Equal(["at 2", "C"], folded[stream].State.Names);
        Assert.Equal(1L, await Db.ScalarAsync<long>("SELECT count(*) FROM event_store.snapshots"));
    }

    private async Task WriteAsync(Snapshot<Roster> snapshot)
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await Store.WriteSnapshotsAsync(connection, null, Shape, [snapshot]);
    }
}
