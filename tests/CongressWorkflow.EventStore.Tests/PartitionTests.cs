using CongressWorkflow.EventStore.Integrity;
using CongressWorkflow.EventStore.Schema;
using CongressWorkflow.Testing;

namespace CongressWorkflow.EventStore.Tests;

public sealed class partitioning_the_events_table(EventStoreDatabase db) : StoreTestBase(db)
{
    private async Task<string> CreatePartitionAsync(string key)
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var table = await PostgresEventStore.CreatePartitionAsync(connection, transaction, key);
        await transaction.CommitAsync();
        return table;
    }

    private async Task BulkAsync(params StreamAppend[] appends)
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await Store.AppendInBulkAsync(connection, transaction, appends.Select(a => new BulkStreamAppend(a, TestEvents.Meta)));
        await transaction.CommitAsync();
    }

    /// <summary>Which table each of a stream's events is stored in.</summary>
    private Task<string[]> TablesOfAsync(string streamId) =>
        Db.ScalarAsync<string[]>("SELECT array_agg(tableoid::regclass::text ORDER BY stream_version) FROM event_store.events WHERE stream_id = $1", streamId);

    [Fact]
    public async Task a_streams_events_stay_in_the_partition_it_was_created_in_and_read_verify_and_order_like_the_others()
    {
        var campaign = await CreatePartitionAsync("campaign-2020");
        var single = TestEvents.NewStreamId();
        var bulk = TestEvents.NewStreamId();
        var shared = TestEvents.NewStreamId();

        await Store.AppendAsync(shared, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("s1")], TestEvents.Meta);
        await using (var connection = await Db.DataSource.OpenConnectionAsync())
        {
            await Store.AppendAsync(connection, null, single, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("a1")], TestEvents.Meta,
                partition: "campaign-2020");
        }

        await BulkAsync(new StreamAppend(bulk, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("b1"), TestEvents.Joined("b2")], Partition: "campaign-2020"),
            new StreamAppend(shared, "roster", ExpectedVersion.Exactly(1), [TestEvents.Joined("s2")]));
        // Later appends name no partition: they go where the stream is, by either path.
        await Store.AppendAsync(single, "roster", ExpectedVersion.Exactly(1), [TestEvents.Joined("a2")], TestEvents.Meta);
        await BulkAsync(new StreamAppend(bulk, "roster", ExpectedVersion.Exactly(2), [TestEvents.Joined("b3")]));

        Assert.Equal([$"event_store.{campaign}", $"event_store.{campaign}"], await TablesOfAsync(single));
        Assert.Equal([$"event_store.{campaign}", $"event_store.{campaign}", $"event_store.{campaign}"], await TablesOfAsync(bulk));
        Assert.Equal(["event_store.events_shared", "event_store.events_shared"], await TablesOfAsync(shared));
        Assert.Equal("campaign-2020", await Db.ScalarAsync<string>("SELECT partition_key FROM event_store.streams WHERE stream_id = $1", bulk));

        Assert.Equal(["b1", "b2", "b3"], (await Store.ReadStreamAsync(bulk)).Select(e => ((MemberJoined)e.Data).Name));
        var all = await Store.ReadAllAsync(0, 100);
        Assert.Equal(["s1", "a1", "b1", "b2", "s2", "a2", "b3"], all.Select(e => ((MemberJoined)e.Data).Name));
        Assert.Equal(Enumerable.Range(1, 7).Select(p => (long)p), all.Select(e => e.GlobalPosition));
        var report = await new IntegrityVerifier(Db.DataSource).VerifyAllAsync();
        Assert.True(report.IsIntact, string.Join("; ", report.Violations.Take(3)));
        Assert.Equal(7, report.EventsChecked);
        Assert.Contains(await Store.ListPartitionsAsync(), p => p.Key == "campaign-2020" && p.Table == campaign);
    }

    [Fact]
    public async Task a_stream_never_moves_whatever_partition_a_later_append_names_by_either_path()
    {
        var campaign = await CreatePartitionAsync("campaign-a");
        await CreatePartitionAsync("campaign-b");
        var stream = TestEvents.NewStreamId();
        // As a stream created before the table was partitioned: in the shared partition, while its campaign now has one.
        var older = TestEvents.NewStreamId();
        await Store.AppendAsync(older, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("o1")], TestEvents.Meta);
        await using (var connection = await Db.DataSource.OpenConnectionAsync())
        {
            await Store.AppendAsync(connection, null, stream, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("x")], TestEvents.Meta, partition: "campaign-a");
            await Store.AppendAsync(connection, null, stream, "roster", ExpectedVersion.Exactly(1), [TestEvents.Joined("y")], TestEvents.Meta, partition: "campaign-b");
            await Store.AppendAsync(connection, null, older, "roster", ExpectedVersion.Exactly(1), [TestEvents.Joined("o2")], TestEvents.Meta, partition: "campaign-a");
        }

        await BulkAsync(new StreamAppend(stream, "roster", ExpectedVersion.Exactly(2), [TestEvents.Joined("z")], Partition: "campaign-b"),
            new StreamAppend(older, "roster", ExpectedVersion.Exactly(2), [TestEvents.Joined("o3")], Partition: "campaign-a"));

        Assert.Equal([$"event_store.{campaign}", $"event_store.{campaign}", $"event_store.{campaign}"], await TablesOfAsync(stream));
        Assert.Equal(["event_store.events_shared", "event_store.events_shared", "event_store.events_shared"], await TablesOfAsync(older));
        Assert.Equal(["o1", "o2", "o3"], (await Store.ReadStreamAsync(older)).Select(e => ((MemberJoined)e.Data).Name));
        var report = await new IntegrityVerifier(Db.DataSource).VerifyAllAsync();
        Assert.True(report.IsIntact, string.Join("; ", report.Violations.Take(3)));
    }

    [Fact]
    public async Task an_event_moved_by_hand_into_another_partition_is_caught_by_verification()
    {
        await CreatePartitionAsync("campaign-moved");
        var stream = TestEvents.NewStreamId();
        await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("a"), TestEvents.Joined("b")], TestEvents.Meta);

        await Db.ExecuteAsync("UPDATE event_store.events SET partition_key = 'campaign-moved' WHERE stream_id = $1 AND stream_version = 2", stream);

        var report = await new IntegrityVerifier(Db.DataSource).VerifyStreamAsync(stream);
        var violation = Assert.Single(report.Violations);
        Assert.Equal((stream, 2L), (violation.StreamId, violation.StreamVersion));
        Assert.Contains("partition 'campaign-moved'", violation.Reason);
    }

    [Fact]
    public async Task a_new_stream_for_a_partition_never_created_is_refused_by_either_path_and_nothing_is_written()
    {
        var single = TestEvents.NewStreamId();
        var bulk = TestEvents.NewStreamId();
        await using (var connection = await Db.DataSource.OpenConnectionAsync())
        {
            var error = await Assert.ThrowsAsync<EventStoreException>(() => Store.AppendAsync(connection, null, single, "roster", ExpectedVersion.NoStream,
                [TestEvents.Joined("x")], TestEvents.Meta, partition: "campaign-never"));
            Assert.Equal(EventStoreErrorCodes.UnknownPartition, error.Code);
        }

        var inBulk = await Assert.ThrowsAsync<EventStoreException>(() =>
            BulkAsync(new StreamAppend(bulk, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("y")], Partition: "campaign-never")));
        Assert.Equal(EventStoreErrorCodes.UnknownPartition, inBulk.Code);
        Assert.Null(await Store.GetStreamAsync(single));
        Assert.Null(await Store.GetStreamAsync(bulk));
        Assert.Equal(0, await Db.ScalarAsync<long>("SELECT count(*) FROM event_store.events"));
    }

    [Fact]
    public async Task creators_of_one_partition_at_once_get_one_table_and_a_creator_that_rolls_back_leaves_none()
    {
        var tables = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => CreatePartitionAsync("campaign-together"))));
        Assert.Single(tables.Distinct());
        Assert.Equal(1, await Db.ScalarAsync<long>("SELECT count(*) FROM pg_inherits WHERE inhrelid = $1::regclass", $"event_store.{tables[0]}"));

        await using (var connection = await Db.DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await PostgresEventStore.CreatePartitionAsync(connection, transaction, "campaign-abandoned");
            await transaction.RollbackAsync();
        }

        Assert.DoesNotContain(await Store.ListPartitionsAsync(), p => p.Key == "campaign-abandoned");
        var error = await Assert.ThrowsAsync<EventStoreException>(() => CreatePartitionAsync("bad\u0000key"));
        Assert.Equal(EventStoreErrorCodes.InvalidAppend, error.Code);
    }
}

public sealed class partitioning_a_store_that_has_events
{
    [Fact]
    public async Task the_migration_keeps_every_event_position_and_chain_in_the_shared_partition_and_appends_go_on()
    {
        await using var dataSource = StoreDataSource.Create(await TestCluster.CreateDatabaseAsync("partition_upgrade"));
        var before = PostgresEventStore.Migrations.Where(m => m.Version < 7).ToList();
        Assert.Equal(6, before.Count);
        await SchemaMigrator.MigrateAsync(dataSource, PostgresEventStore.SchemaName, before);
        var store = new PostgresEventStore(dataSource, TestEvents.Registry(), TimeProvider.System);
        // The schema as it was: appends through its function, and its bulk path's table without a partition key.
        await using (var append = dataSource.CreateCommand("""
            SELECT count(*) FROM event_store.append_events($1, 'roster', 0, now(), 'user-1', 'secretary', NULL, gen_random_uuid(), NULL,
                ARRAY[gen_random_uuid(), gen_random_uuid()], ARRAY['test.member-joined', 'test.member-joined'], ARRAY[1, 1], ARRAY[NULL, NULL]::jsonb[],
                ARRAY['{"name": "a", "age": 1}', '{"name": "b", "age": 2}']::jsonb[])
            """))
        {
            append.Parameters.Add(new() { Value = "old-roster" });
            Assert.Equal(2L, await append.ExecuteScalarAsync());
        }

        await using (var snapshot = dataSource.CreateCommand("SELECT array_agg(global_position::text || ':' || encode(hash, 'hex') ORDER BY global_position) FROM event_store.events"))
        {
            var stored = (string[])(await snapshot.ExecuteScalarAsync())!;

            await PostgresEventStore.MigrateAsync(dataSource);

            Assert.Equal(stored, (string[])(await snapshot.ExecuteScalarAsync())!);
        }

        // Counted by the later migration that indexes the moved events by stream (an index build counts the table's rows).
        Assert.Equal([new PartitionInfo("", "events_shared", 2, default)], (await store.ListPartitionsAsync()).Select(p => p with { CreatedAt = default }));
        await store.AppendAsync("old-roster", "roster", ExpectedVersion.Exactly(2), [TestEvents.Joined("c")], TestEvents.Meta);
        Assert.Equal(["a", "b", "c"], (await store.ReadStreamAsync("old-roster")).Select(e => ((MemberJoined)e.Data).Name));
        Assert.Equal([1L, 2L, 3L], (await store.ReadAllAsync(0, 10)).Select(e => e.GlobalPosition));
        var report = await new IntegrityVerifier(dataSource).VerifyAllAsync();
        Assert.True(report.IsIntact, string.Join("; ", report.Violations.Take(3)));
    }
}
