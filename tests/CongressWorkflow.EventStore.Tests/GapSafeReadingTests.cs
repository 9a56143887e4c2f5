using System.Collections.Concurrent;
using CongressWorkflow.Testing;

namespace CongressWorkflow.EventStore.Tests;

public sealed class reading_all_events_safely_while_transactions_are_in_flight(EventStoreDatabase db) : StoreTestBase(db)
{
    [Fact]
    public async Task a_reader_does_not_skip_an_event_that_a_slower_transaction_commits_late()
    {
        var store = Store;
        await store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [TestEvents.Joined("before")], TestEvents.Meta);
        var checkpoint = (await store.ReadAllAsync(0, 10)).Single().GlobalPosition;

        // The slow transaction takes the next position and then dawdles before committing.
        await using var slowConnection = await Db.DataSource.OpenConnectionAsync();
        await using var slow = await slowConnection.BeginTransactionAsync();
        var slowResult = await store.AppendAsync(slowConnection, slow, TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream,
            [TestEvents.Joined("slow")], TestEvents.Meta);

        // A fast writer arrives meanwhile; it must not become visible ahead of the slow one.
        var fast = Task.Run(() => store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream,
            [TestEvents.Joined("fast")], TestEvents.Meta));
        await WaitUntilAsync(async () => await Db.ScalarAsync<long>(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") == 1);

        var whileInFlight = await store.ReadAllAsync(checkpoint, 10);
        await slow.CommitAsync();
        var fastResult = await fast;
        var afterCommit = await store.ReadAllAsync(checkpoint, 10);

        Assert.Empty(whileInFlight);
        Assert.True(slowResult.LastGlobalPosition < fastResult.FirstGlobalPosition);
        Assert.Equal(["slow", "fast"], afterCommit.Select(e => ((MemberJoined)e.Data).Name));
    }

    [Fact]
    public async Task a_filtered_page_never_scans_past_a_position_still_in_flight()
    {
        var store = Store;
        await store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [TestEvents.Joined("before")], TestEvents.Meta);
        await using var slowConnection = await Db.DataSource.OpenConnectionAsync();
        await using var slow = await slowConnection.BeginTransactionAsync();
        await store.AppendAsync(slowConnection, slow, TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream,
            [new NewEvent(Guid.NewGuid(), new MemberRenamed("slow", "late commit"))], TestEvents.Meta);

        var whileInFlight = await store.ReadPageAsync(0, 100, ["test.member-renamed"]);
        await slow.CommitAsync();
        var afterCommit = await store.ReadPageAsync(whileInFlight.ScannedTo, 100, ["test.member-renamed"]);

        Assert.Empty(whileInFlight.Events);
        Assert.Equal(1, whileInFlight.ScannedTo);
        Assert.Equal("slow", ((MemberRenamed)Assert.Single(afterCommit.Events).Data).FullName);
        Assert.Equal(2, afterCommit.ScannedTo);
    }

    [Fact]
    public async Task a_reader_tailing_eight_concurrent_writers_sees_every_event_once_in_order()
    {
        var store = Store;
        var written = new ConcurrentBag<Guid>();
        using var writersDone = new CancellationTokenSource();

        async Task Writer(int writer)
        {
            for (var i = 0; i < 40; i++)
            {
                var e = TestEvents.Joined($"w{writer}-{i}");
                await store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [e], TestEvents.Meta);
                written.Add(e.EventId);
            }
        }

        var seen = new List<RecordedEvent>();
        async Task Tail()
        {
            long checkpoint = 0;
            while (true)
            {
                var finished = writersDone.IsCancellationRequested;
                var page = await store.ReadAllAsync(checkpoint, 25);
                seen.AddRange(page);
                checkpoint = page.Count > 0 ? page[^1].GlobalPosition : checkpoint;
                if (page.Count == 0 && finished)
                {
                    return;
                }
            }
        }

        var tail = Task.Run(Tail);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(() => Writer(w))));
        await writersDone.CancelAsync();
        await tail;

        Assert.Equal(320, seen.Count);
        Assert.Equal(written.Order(), seen.Select(e => e.EventId).Order());
        Assert.Equal(seen.Select(e => e.GlobalPosition).Order(), seen.Select(e => e.GlobalPosition));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached within 30 s");
            await Task.Delay(20);
        }
    }
}
