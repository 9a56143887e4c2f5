using System.Collections.Concurrent;
using CongressWorkflow.EventStore.Outbox;
using CongressWorkflow.Testing;

namespace CongressWorkflow.EventStore.Tests;

public sealed class the_transactional_outbox(EventStoreDatabase db) : StoreTestBase(db)
{
    [Fact]
    public async Task a_message_is_written_with_its_events_and_delivered_once()
    {
        var message = new OutboxMessage(Guid.NewGuid(), "notifications", "member.welcome", new { name = "A" });
        await Store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A")], TestEvents.Meta, [message]);
        var delivered = new List<PendingOutboxMessage>();
        var dispatcher = new OutboxDispatcher(Db.DataSource, Clock);

        var first = await dispatcher.DispatchBatchAsync(["notifications"], (m, _) => { delivered.Add(m); return Task.CompletedTask; });
        var second = await dispatcher.DispatchBatchAsync(["notifications"], (m, _) => { delivered.Add(m); return Task.CompletedTask; });

        Assert.Equal(1, first);
        Assert.Equal(0, second);
        var only = Assert.Single(delivered);
        Assert.Equal(message.MessageId, only.MessageId);
        Assert.Equal("notifications", only.Destination);
        Assert.Equal(TestEvents.Meta.CorrelationId, only.CorrelationId);
        Assert.Contains("\"name\": \"A\"", only.PayloadJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task when_the_events_are_rejected_the_message_is_not_written_either()
    {
        var stream = TestEvents.NewStreamId();
        await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A")], TestEvents.Meta);

        await Assert.ThrowsAsync<ConcurrencyException>(() => Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream,
            [TestEvents.Joined("B")], TestEvents.Meta, [new OutboxMessage(Guid.NewGuid(), "notifications", "x", new { })]));

        Assert.Equal(0L, await Db.ScalarAsync<long>("SELECT count(*) FROM event_store.outbox"));
    }

    [Fact]
    public async Task when_the_message_is_rejected_the_events_are_not_written_either()
    {
        var duplicateId = Guid.NewGuid();
        await Store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A")], TestEvents.Meta,
            [new OutboxMessage(duplicateId, "notifications", "x", new { })]);
        var stream = TestEvents.NewStreamId();

        await Assert.ThrowsAsync<EventStoreException>(() => Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream,
            [TestEvents.Joined("B")], TestEvents.Meta, [new OutboxMessage(duplicateId, "notifications", "x", new { })]));

        Assert.Null(await Store.GetStreamAsync(stream));
        Assert.Equal(1L, await Db.ScalarAsync<long>("SELECT count(*) FROM event_store.events"));
    }

    [Fact]
    public async Task two_dispatchers_draining_at_once_deliver_every_message_exactly_once()
    {
        var messages = Enumerable.Range(0, 200)
            .Select(i => new OutboxMessage(Guid.NewGuid(), "notifications", "n", new { i }))
            .ToArray();
        foreach (var chunk in messages.Chunk(20))
        {
            await Store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A")], TestEvents.Meta, chunk);
        }

        var deliveries = new ConcurrentBag<Guid>();
        async Task Drain()
        {
            var dispatcher = new OutboxDispatcher(Db.DataSource, Clock);
            while (await dispatcher.DispatchBatchAsync(["notifications"], async (m, ct) => { deliveries.Add(m.MessageId); await Task.Delay(1, ct); }, batchSize: 10) > 0)
            {
            }
        }

        await Task.WhenAll(Task.Run(Drain), Task.Run(Drain));

        Assert.Equal(messages.Select(m => m.MessageId).Order(), deliveries.Order());
    }

    [Fact]
    public async Task a_failed_delivery_is_retried_after_its_back_off_and_a_delayed_message_waits_for_its_time()
    {
        var failing = new OutboxMessage(Guid.NewGuid(), "webhook", "n", new { });
        var delayed = new OutboxMessage(Guid.NewGuid(), "webhook", "n", new { }, TestEvents.Start.AddDays(3));
        await Store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A")], TestEvents.Meta,
            [failing, delayed]);
        var dispatcher = new OutboxDispatcher(Db.DataSource, Clock, new OutboxDispatcherOptions { Backoff = n => TimeSpan.FromMinutes(n) });
        var delivered = new List<Guid>();
        Task Deliver(PendingOutboxMessage m, CancellationToken _)
        {
            delivered.Add(m.MessageId);
            return Task.CompletedTask;
        }

        await dispatcher.DispatchBatchAsync(["webhook"], (_, _) => throw new InvalidOperationException("receiver down"));
        var errorAfterFirstAttempt = await Db.ScalarAsync<string>(
            "SELECT attempts || ':' || last_error FROM event_store.outbox WHERE message_id = $1", failing.MessageId);
        var beforeBackoff = await dispatcher.DispatchBatchAsync(["webhook"], Deliver);
        Clock.Advance(TimeSpan.FromMinutes(1));
        await dispatcher.DispatchBatchAsync(["webhook"], Deliver);
        Clock.Advance(TimeSpan.FromDays(3));
        await dispatcher.DispatchBatchAsync(["webhook"], Deliver);

        Assert.Equal(0, beforeBackoff);
        Assert.Equal([failing.MessageId, delayed.MessageId], delivered);
        Assert.Equal("1:receiver down", errorAfterFirstAttempt);
        Assert.Equal("2:delivered", await Db.ScalarAsync<string>(
            "SELECT attempts || ':' || coalesce(last_error, 'delivered') FROM event_store.outbox WHERE message_id = $1 AND delivered_at IS NOT NULL",
            failing.MessageId));
    }

    [Fact]
    public async Task after_the_last_attempt_a_message_is_dead_lettered_until_redelivered()
    {
        var message = new OutboxMessage(Guid.NewGuid(), "webhook", "n", new { });
        await Store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A")], TestEvents.Meta, [message]);
        var dispatcher = new OutboxDispatcher(Db.DataSource, Clock, new OutboxDispatcherOptions { MaxAttempts = 3, Backoff = _ => TimeSpan.FromMinutes(5) });
        var outcomes = new List<DeliveryOutcome>();
        Task Record(Npgsql.NpgsqlConnection c, Npgsql.NpgsqlTransaction t, IReadOnlyList<DeliveryAttempt> attempts, CancellationToken ct)
        {
            outcomes.AddRange(attempts.Select(a => a.Outcome));
            return Task.CompletedTask;
        }

        for (var i = 0; i < 5; i++)
        {
            await dispatcher.DispatchBatchAsync(["webhook"], (_, _) => throw new InvalidOperationException("500"), Record);
            Clock.Advance(TimeSpan.FromMinutes(5));
        }

        var redelivered = await dispatcher.RedeliverAsync([message.MessageId]);
        await dispatcher.DispatchBatchAsync(["webhook"], (_, _) => Task.CompletedTask, Record);

        Assert.Equal([DeliveryOutcome.WillRetry, DeliveryOutcome.WillRetry, DeliveryOutcome.DeadLettered, DeliveryOutcome.Delivered], outcomes);
        Assert.Equal(1, redelivered);
        Assert.Equal(1L, await Db.ScalarAsync<long>(
            "SELECT count(*) FROM event_store.outbox WHERE message_id = $1 AND delivered_at IS NOT NULL AND dead_at IS NULL", message.MessageId));
    }

    [Fact]
    public async Task a_worker_that_dies_holding_a_lease_leaves_the_message_to_another_once_the_lease_runs_out()
    {
        var message = new OutboxMessage(Guid.NewGuid(), "webhook", "n", new { });
        await Store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A")], TestEvents.Meta, [message]);
        using var dies = new CancellationTokenSource();
        var options = new OutboxDispatcherOptions { Lease = TimeSpan.FromMinutes(2) };
        var dying = new OutboxDispatcher(Db.DataSource, Clock, options with { WorkerId = "dying" });
        var survivor = new OutboxDispatcher(Db.DataSource, Clock, options with { WorkerId = "survivor" });
        var delivered = new List<Guid>();

        // The first worker claims the message and is killed before it settles (its delivery never returns).
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dying.DispatchBatchAsync(["webhook"], async (_, ct) =>
        {
            await dies.CancelAsync();
            ct.ThrowIfCancellationRequested();
        }, cancellationToken: dies.Token));
        var whileLeased = await survivor.DispatchBatchAsync(["webhook"], (m, _) => { delivered.Add(m.MessageId); return Task.CompletedTask; });
        Clock.Advance(TimeSpan.FromMinutes(2));
        var afterLease = await survivor.DispatchBatchAsync(["webhook"], (m, _) => { delivered.Add(m.MessageId); return Task.CompletedTask; });

        Assert.Equal((0, 1), (whileLeased, afterLease));
        Assert.Equal([message.MessageId], delivered);
    }
}
