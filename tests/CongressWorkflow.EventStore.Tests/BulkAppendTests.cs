using CongressWorkflow.EventStore.Integrity;
using CongressWorkflow.Testing;

namespace CongressWorkflow.EventStore.Tests;

public sealed class appending_new_streams_in_bulk(EventStoreDatabase db) : StoreTestBase(db)
{
    private static StreamAppend NewRoster(string id, params string[] names) =>
        new(id, "roster", ExpectedVersion.NoStream, [.. names.Select(n => TestEvents.Joined(n))]);

    [Fact]
    public async Task bulk_streams_read_and_verify_like_appended_ones_and_later_appends_extend_their_chains()
    {
        var store = Store;
        var streams = Enumerable.Range(0, 4_500).Select(i => NewRoster($"bulk-{i}", $"a{i}", $"b{i}", $"c{i}")).ToList();
        await using (var connection = await Db.DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var result = await store.AppendNewStreamsAsync(connection, transaction, streams, TestEvents.Meta);
            await transaction.CommitAsync();
            Assert.Equal(new BulkAppendResult(4_500, 13_500), result);
        }

        var read = await store.ReadStreamAsync("bulk-4321");
        Assert.Equal(["a4321", "b4321", "c4321"], read.Select(e => ((MemberJoined)e.Data).Name));
        Assert.Equal([1L, 2L, 3L], read.Select(e => e.StreamVersion));
        await store.AppendAsync("bulk-4321", "roster", ExpectedVersion.Exactly(3), [TestEvents.Joined("d")], TestEvents.Meta);

        var report = await new IntegrityVerifier(Db.DataSource).VerifyAllAsync();
        Assert.True(report.IsIntact, string.Join("; ", report.Violations.Take(3)));
        Assert.Equal(13_501, report.EventsChecked);
        var all = await store.ReadAllAsync(0, 20_000);
        Assert.Equal(13_501, all.Count);
        Assert.Equal(all.Select(e => e.GlobalPosition).Order(), all.Select(e => e.GlobalPosition));
    }

    [Fact]
    public async Task a_stream_that_exists_fails_the_whole_bulk_append_and_nothing_is_written()
    {
        var store = Store;
        await store.AppendAsync("bulk-taken", "roster", ExpectedVersion.NoStream, [TestEvents.Joined("first")], TestEvents.Meta);

        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var error = await Assert.ThrowsAnyAsync<EventStoreException>(() => store.AppendNewStreamsAsync(connection, transaction,
            [NewRoster("bulk-new", "x"), NewRoster("bulk-taken", "y")], TestEvents.Meta));
        await transaction.RollbackAsync();

        Assert.Equal(EventStoreErrorCodes.ConcurrencyConflict, error.Code);
        Assert.Contains("bulk-taken", error.Message);
        Assert.Equal(1, await Db.ScalarAsync<long>("SELECT count(*) FROM event_store.events"));
        Assert.Null(await store.GetStreamAsync("bulk-new"));
    }

    [Fact]
    public async Task a_bulk_append_that_waited_on_another_creating_the_same_stream_is_a_concurrency_conflict()
    {
        var store = Store;
        await using var first = await Db.DataSource.OpenConnectionAsync();
        await using var firstTransaction = await first.BeginTransactionAsync();
        await store.AppendNewStreamsAsync(first, firstTransaction, [NewRoster("bulk-raced", "first")], TestEvents.Meta);

        await using var second = await Db.DataSource.OpenConnectionAsync();
        await using var secondTransaction = await second.BeginTransactionAsync();
        // Its insert of the stream's row waits on the first's uncommitted one, and fails on the key once that is committed.
        var racing = store.AppendNewStreamsAsync(second, secondTransaction, [NewRoster("bulk-raced", "second")], TestEvents.Meta);
        await Task.Delay(300);
        Assert.False(racing.IsCompleted, "the second bulk append should wait on the first's uncommitted stream");
        await firstTransaction.CommitAsync();
        var error = await Assert.ThrowsAnyAsync<EventStoreException>(() => racing);
        await secondTransaction.RollbackAsync();

        Assert.Equal(EventStoreErrorCodes.ConcurrencyConflict, error.Code);
        Assert.Equal(["first"], (await store.ReadStreamAsync("bulk-raced")).Select(e => ((MemberJoined)e.Data).Name));
    }

    [Fact]
    public async Task a_bulk_append_refuses_streams_that_are_not_new()
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var error = await Assert.ThrowsAsync<EventStoreException>(() => Store.AppendNewStreamsAsync(connection, transaction,
            [new StreamAppend("bulk-any", "roster", ExpectedVersion.Any, [TestEvents.Joined("x")])], TestEvents.Meta));

        Assert.Equal(EventStoreErrorCodes.InvalidAppend, error.Code);
    }

    [Fact]
    public async Task a_reader_waits_at_the_positions_of_a_bulk_append_in_flight()
    {
        var store = Store;
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await store.AppendNewStreamsAsync(connection, transaction, [NewRoster("bulk-slow", "s1", "s2")], TestEvents.Meta);
        await store.AppendAsync("fast", "roster", ExpectedVersion.NoStream, [TestEvents.Joined("fast")], TestEvents.Meta);

        var whileInFlight = await store.ReadAllAsync(0, 10);
        await transaction.CommitAsync();
        var afterCommit = await store.ReadAllAsync(0, 10);

        Assert.Empty(whileInFlight);
        Assert.Equal(["s1", "s2", "fast"], afterCommit.Select(e => ((MemberJoined)e.Data).Name));
    }

    [Fact]
    public async Task existing_streams_extended_in_bulk_carry_on_their_chains_with_each_streams_actor_and_outbox()
    {
        var store = Store;
        await store.AppendAsync("bulk-old-1", "roster", ExpectedVersion.NoStream, [TestEvents.Joined("a"), TestEvents.Joined("b")], TestEvents.Meta);
        await store.AppendAsync("bulk-old-2", "roster", ExpectedVersion.NoStream, [TestEvents.Joined("c")], TestEvents.Meta);
        var secretary = new EventMetadata(new Actor("secretary-2", "secretariat", "org-2"), Guid.NewGuid());
        var note = new Outbox.OutboxMessage(Guid.NewGuid(), "test", "test.note", new { text = "x" });

        await using (var connection = await Db.DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var result = await store.AppendInBulkAsync(connection, transaction,
            [
                new BulkStreamAppend(new StreamAppend("bulk-old-1", "roster", ExpectedVersion.Exactly(2), [TestEvents.Joined("d")]), TestEvents.Meta),
                new BulkStreamAppend(new StreamAppend("bulk-old-2", "roster", ExpectedVersion.Any, [TestEvents.Joined("e"), TestEvents.Joined("f")], [note]), secretary),
                new BulkStreamAppend(new StreamAppend("bulk-fresh", "roster", ExpectedVersion.Any, [TestEvents.Joined("g")]), secretary),
            ]);
            await transaction.CommitAsync();
            Assert.Equal(new BulkAppendResult(3, 4), result);
        }

        Assert.Equal([1L, 2L, 3L], (await store.ReadStreamAsync("bulk-old-1")).Select(e => e.StreamVersion));
        var second = await store.ReadStreamAsync("bulk-old-2");
        Assert.Equal(["c", "e", "f"], second.Select(e => ((MemberJoined)e.Data).Name));
        Assert.Equal(["user-1", "secretary-2", "secretary-2"], second.Select(e => e.Metadata.Actor.UserId));
        Assert.Equal(3, (await store.GetStreamAsync("bulk-old-2"))!.Version);
        Assert.Equal(1, (await store.GetStreamAsync("bulk-fresh"))!.Version);
        Assert.Equal(secretary.CorrelationId, await Db.ScalarAsync<Guid>($"SELECT correlation_id FROM event_store.outbox WHERE message_id = '{note.MessageId}'"));

        // A single append after the bulk one links to the chain the bulk append left.
        await store.AppendAsync("bulk-old-2", "roster", ExpectedVersion.Exactly(3), [TestEvents.Joined("h")], TestEvents.Meta);
        var report = await new IntegrityVerifier(Db.DataSource).VerifyAllAsync();
        Assert.True(report.IsIntact, string.Join("; ", report.Violations.Take(3)));
        Assert.Equal(8, report.EventsChecked);
    }

    [Fact]
    public async Task a_stream_at_another_version_a_stream_of_another_type_or_a_stream_twice_fails_the_whole_bulk_append()
    {
        var store = Store;
        await store.AppendAsync("bulk-at-1", "roster", ExpectedVersion.NoStream, [TestEvents.Joined("a")], TestEvents.Meta);

        async Task<EventStoreException> Refused(params StreamAppend[] appends)
        {
            await using var connection = await Db.DataSource.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            var error = await Assert.ThrowsAnyAsync<EventStoreException>(() =>
                store.AppendInBulkAsync(connection, transaction, [.. appends.Select(a => new BulkStreamAppend(a, TestEvents.Meta))]));
            await transaction.RollbackAsync();
            return error;
        }

        var stale = await Refused(NewRoster("bulk-other", "x"), new StreamAppend("bulk-at-1", "roster", ExpectedVersion.Exactly(2), [TestEvents.Joined("b")]));
        var conflict = Assert.IsType<ConcurrencyException>(stale);
        Assert.Equal(("bulk-at-1", 1L), (conflict.StreamId, conflict.ActualVersion));
        var taken = await Refused(NewRoster("bulk-at-1", "x"));
        Assert.Equal(EventStoreErrorCodes.ConcurrencyConflict, taken.Code);
        var missing = Assert.IsType<ConcurrencyException>(await Refused(new StreamAppend("bulk-nowhere", "roster", ExpectedVersion.Exactly(1), [TestEvents.Joined("b")])));
        Assert.Equal(0, missing.ActualVersion);
        Assert.Equal(EventStoreErrorCodes.StreamTypeMismatch,
            (await Refused(new StreamAppend("bulk-at-1", "ledger", ExpectedVersion.Any, [TestEvents.Joined("b")]))).Code);
        Assert.Equal(EventStoreErrorCodes.InvalidAppend,
            (await Refused(NewRoster("bulk-twice", "x"), new StreamAppend("bulk-twice", "roster", ExpectedVersion.Any, [TestEvents.Joined("y")]))).Code);

        Assert.Equal(1, await Db.ScalarAsync<long>("SELECT count(*) FROM event_store.events"));
        Assert.Equal(1, await Db.ScalarAsync<long>("SELECT count(*) FROM event_store.streams"));
    }
}
