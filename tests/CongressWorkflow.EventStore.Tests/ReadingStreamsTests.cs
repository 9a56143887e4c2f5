using CongressWorkflow.Testing;

namespace CongressWorkflow.EventStore.Tests;

public sealed class reading_streams_and_time_travel(EventStoreDatabase db) : StoreTestBase(db)
{
    [Fact]
    public async Task folds_a_stream_whole_up_to_a_version_and_as_of_a_moment()
    {
        var stream = TestEvents.NewStreamId();
        await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A")], TestEvents.Meta);
        Clock.Advance(TimeSpan.FromDays(10));
        await Store.AppendAsync(stream, "roster", ExpectedVersion.Exactly(1), [TestEvents.Joined("B")], TestEvents.Meta);
        Clock.Advance(TimeSpan.FromDays(10));
        await Store.AppendAsync(stream, "roster", ExpectedVersion.Exactly(2), [TestEvents.Joined("C")], TestEvents.Meta);

        var now = await Store.AggregateStreamAsync(stream, Roster.Empty, Roster.Evolve);
        var atVersion2 = await Store.AggregateStreamAsync(stream, Roster.Empty, Roster.Evolve, new StreamReadOptions(UpToVersion: 2));
        var asOfDay5 = await Store.AggregateStreamAsync(stream, Roster.Empty, Roster.Evolve,
            new StreamReadOptions(AsOf: TestEvents.Start.AddDays(5)));
        var asOfExactlyDay10 = await Store.AggregateStreamAsync(stream, Roster.Empty, Roster.Evolve,
            new StreamReadOptions(AsOf: TestEvents.Start.AddDays(10)));
        var beforeItExisted = await Store.AggregateStreamAsync(stream, Roster.Empty, Roster.Evolve,
            new StreamReadOptions(AsOf: TestEvents.Start.AddDays(-1)));

        Assert.Equal(["A", "B", "C"], now.State.Names);
        Assert.Equal(3, now.Version);
        Assert.Equal(["A", "B"], atVersion2.State.Names);
        Assert.Equal(["A"], asOfDay5.State.Names);
        Assert.Equal(1, asOfDay5.Version);
        Assert.Equal(["A", "B"], asOfExactlyDay10.State.Names);
        Assert.Empty(beforeItExisted.State.Names);
        Assert.Equal(0, beforeItExisted.Version);
    }

    [Fact]
    public async Task a_stream_is_read_through_the_index_on_its_id()
    {
        // Two thousand streams of ten events in the shared partition, known to the planner.
        var database = await QueryPlans.NewDatabaseAsync("stream-index", dataSource => PostgresEventStore.MigrateAsync(dataSource), """
            INSERT INTO event_store.events (event_id, stream_id, stream_version, event_type, schema_version, recorded_at, actor_id, actor_role,
                correlation_id, data, hash, partition_key)
            SELECT gen_random_uuid(), 'roster-' || (n / 10), n % 10 + 1, 'test.member-joined', 1, now(), 'someone', 'admin', gen_random_uuid(),
                '{}', '\x00', ''
            FROM generate_series(0, 19999) n;
            ANALYZE event_store.events;
            """);

        var plan = await QueryPlans.GenericPlanAsync(database, PostgresEventStore.ReadStreamSql, "text", "bigint", "timestamptz");

        Assert.Equal(["Index Scan on events_shared_stream_id_idx"], QueryPlans.AccessesTo(plan, "events_shared"));
    }

    [Fact]
    public async Task folds_many_streams_in_one_read_each_in_version_order_and_a_damaged_one_over_what_it_has()
    {
        var (a, b, damaged, none) = (TestEvents.NewStreamId(), TestEvents.NewStreamId(), TestEvents.NewStreamId(), TestEvents.NewStreamId());
        foreach (var (name, version) in new[] { ("A1", 0), ("A2", 1), ("A3", 2) })
        {
            // Interleaved with the other streams, so no stream's events are together in global order.
            await Store.AppendAsync(a, "roster", ExpectedVersion.Exactly(version), [TestEvents.Joined(name)], TestEvents.Meta);
            await Store.AppendAsync(b, "roster", ExpectedVersion.Exactly(version), [TestEvents.Joined(name.Replace('A', 'B'))], TestEvents.Meta);
            await Store.AppendAsync(damaged, "roster", ExpectedVersion.Exactly(version), [TestEvents.Joined(name.Replace('A', 'D'))], TestEvents.Meta);
        }

        await Db.ExecuteAsync("DELETE FROM event_store.events WHERE stream_id = $1 AND stream_version = 2", damaged);

        var folded = await Store.AggregateStreamsAsync([a, b, damaged, none], Roster.Empty, Roster.Evolve);

        Assert.Equal(["A1", "A2", "A3"], folded[a].State.Names);
        Assert.Equal(["B1", "B2", "B3"], folded[b].State.Names);
        Assert.Equal(["D1", "D3"], folded[damaged].State.Names);
        Assert.Empty(folded[none].State.Names);
        Assert.Equal([3L, 3L, 3L, 0L], new[] { a, b, damaged, none }.Select(s => folded[s].Version));
    }

    [Fact]
    public async Task reads_all_events_in_global_order_from_a_checkpoint()
    {
        var a = TestEvents.NewStreamId();
        var b = TestEvents.NewStreamId();
        await Store.AppendAsync(a, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A1"), TestEvents.Joined("A2")], TestEvents.Meta);
        await Store.AppendAsync(b, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("B1")], TestEvents.Meta);
        await Store.AppendAsync(a, "roster", ExpectedVersion.Exactly(2), [TestEvents.Joined("A3")], TestEvents.Meta);

        var firstPage = await Store.ReadAllAsync(0, 2);
        var rest = await Store.ReadAllAsync(firstPage[^1].GlobalPosition, 100);

        Assert.Equal(["A1", "A2"], firstPage.Select(e => ((MemberJoined)e.Data).Name));
        Assert.Equal(["B1", "A3"], rest.Select(e => ((MemberJoined)e.Data).Name));
        Assert.Equal(4, await Store.ReadHeadPositionAsync());
        Assert.Empty(await Store.ReadAllAsync(4, 10));
    }
}
