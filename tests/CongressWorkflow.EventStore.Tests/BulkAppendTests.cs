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
        var error = await Assert.ThrowsAsync<EventStoreException>(() => store.AppendNewStreamsAsync(connection, transaction,
            [NewRoster("bulk-new", "x"), NewRoster("bulk-taken", "y")], TestEvents.Meta));
        await transaction.RollbackAsync();

        Assert.Equal(EventStoreErrorCodes.ConcurrencyConflict, error.Code);
        Assert.Contains("bulk-taken", error.Message);
        Assert.Equal(1, await Db.ScalarAsync<long>("SELECT count(*) FROM event_store.events"));
        Assert.Null(await store.GetStreamAsync("bulk-new"));
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
}
