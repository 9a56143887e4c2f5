using System.Collections.Concurrent;
using CongressWorkflow.Testing;
using Npgsql;

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

        // A fast writer arrives meanwhile and commits first (appends no longer wait for each other); a reader must not
        // pass the slow one's position while it is in flight, however many times it looks.
        var fastResult = await store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [TestEvents.Joined("fast")], TestEvents.Meta);
        var whileInFlight = new List<RecordedEvent>();
        for (var look = 0; look < 5; look++)
        {
            whileInFlight.AddRange(await store.ReadAllAsync(checkpoint, 10));
            await Task.Delay(50);
        }

        await slow.CommitAsync();
        var afterCommit = await store.ReadAllAsync(checkpoint, 10);

        Assert.Empty(whileInFlight);
        Assert.True(slowResult.LastGlobalPosition < fastResult.FirstGlobalPosition);
        Assert.Equal(["slow", "fast"], afterCommit.Select(e => ((MemberJoined)e.Data).Name));
    }

    [Fact]
    public async Task a_reader_does_not_pass_a_position_whose_transaction_took_its_id_after_the_last_commit_it_saw()
    {
        var store = Store;
        await store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [TestEvents.Joined("before")], TestEvents.Meta);
        var checkpoint = (await store.ReadAllAsync(0, 10)).Single().GlobalPosition;

        // The later writer takes its transaction id first (as a command does when it locks the rows it decides on), the
        // earlier one afterwards, but the earlier one draws its position first. When the later one has committed, the
        // in-flight earlier transaction is younger than every transaction a snapshot knows to have ended, so it appears
        // in no snapshot's list of running transactions: only an id drawn after the gap was seen is sure to be newer.
        await using var laterConnection = await Db.DataSource.OpenConnectionAsync();
        await using var later = await laterConnection.BeginTransactionAsync();
        await using (var takeId = new NpgsqlCommand("SELECT pg_current_xact_id()", laterConnection, later))
        {
            await takeId.ExecuteScalarAsync();
        }

        await using var earlierConnection = await Db.DataSource.OpenConnectionAsync();
        await using var earlier = await earlierConnection.BeginTransactionAsync();
        await store.AppendAsync(earlierConnection, earlier, TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [TestEvents.Joined("earlier")], TestEvents.Meta);
        await store.AppendAsync(laterConnection, later, TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [TestEvents.Joined("later")], TestEvents.Meta);
        await later.CommitAsync();

        var whileInFlight = new List<RecordedEvent>();
        for (var look = 0; look < 5; look++)
        {
            whileInFlight.AddRange(await store.ReadAllAsync(checkpoint, 10));
            await Task.Delay(20);
        }

        await earlier.CommitAsync();
        var afterCommit = await store.ReadAllAsync(checkpoint, 10);

        Assert.Empty(whileInFlight);
        Assert.Equal(["earlier", "later"], afterCommit.Select(e => ((MemberJoined)e.Data).Name));
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

    [Fact]
    public async Task a_reader_tailing_thirty_two_writers_with_random_commit_delays_and_rollbacks_sees_every_committed_event_once_in_order()
    {
        var store = Store;
        var committed = new ConcurrentBag<Guid>();
        using var writersDone = new CancellationTokenSource();

        async Task Writer(int writer)
        {
            var random = new Random(writer);
            for (var i = 0; i < 15; i++)
            {
                await using var connection = await Db.DataSource.OpenConnectionAsync();
                await using var transaction = await connection.BeginTransactionAsync();
                var e = TestEvents.Joined($"w{writer}-{i}");
                await store.AppendAsync(connection, transaction, TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [e], TestEvents.Meta);
                await Task.Delay(random.Next(0, 25));
                if (random.Next(10) == 0)
                {
                    await transaction.RollbackAsync(); // leaves a gap in the global order for good
                    continue;
                }

                await transaction.CommitAsync();
                committed.Add(e.EventId);
            }
        }

        var seen = new List<RecordedEvent>();
        using var giveUp = new CancellationTokenSource();
        async Task Tail()
        {
            long checkpoint = 0;
            while (!giveUp.IsCancellationRequested)
            {
                var finished = writersDone.IsCancellationRequested;
                var page = await store.ReadAllAsync(checkpoint, 25);
                seen.AddRange(page);
                checkpoint = page.Count > 0 ? page[^1].GlobalPosition : checkpoint;
                if (finished && seen.Count == committed.Count)
                {
                    return;
                }

                await Task.Delay(page.Count == 0 ? 5 : 0);
            }
        }

        var tail = Task.Run(Tail);
        await Task.WhenAll(Enumerable.Range(0, 32).Select(w => Task.Run(() => Writer(w))));
        await writersDone.CancelAsync();
        // A reader that skipped an event would wait for it forever: stop it after a while and let the assertions name the loss.
        giveUp.CancelAfter(TimeSpan.FromSeconds(60));
        await tail;

        Assert.Empty(committed.Except(seen.Select(e => e.EventId)));
        Assert.Equal(committed.Order(), seen.Select(e => e.EventId).Order());
        Assert.Equal(seen.Select(e => e.GlobalPosition).Order(), seen.Select(e => e.GlobalPosition));
        Assert.True(await Db.ScalarAsync<long>("SELECT max(global_position) FROM event_store.events") > seen.Count, "some appends were rolled back");
    }
}
