using CongressWorkflow.Testing;

namespace CongressWorkflow.EventStore.Tests;

public sealed class appending_events(EventStoreDatabase db) : StoreTestBase(db)
{
    [Fact]
    public async Task stores_every_field_of_the_envelope()
    {
        var stream = TestEvents.NewStreamId();
        var causation = Guid.NewGuid();
        var headers = new Dictionary<string, string> { ["document"] = "10-KH/ĐU" };
        var first = new NewEvent(Guid.NewGuid(), new MemberJoined("Nguyễn Văn A", 41), headers);

        var result = await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream, [first, TestEvents.Joined("Trần Thị B")],
            TestEvents.Meta with { CausationId = causation });

        Assert.Equal(2, result.StreamVersion);
        Assert.Equal(result.FirstGlobalPosition + 1, result.LastGlobalPosition);
        var events = await Store.ReadStreamAsync(stream);
        Assert.Equal([1L, 2L], events.Select(e => e.StreamVersion));
        var stored = events[0];
        Assert.Equal(first.EventId, stored.EventId);
        Assert.Equal(stream, stored.StreamId);
        Assert.Equal("test.member-joined", stored.EventType);
        Assert.Equal(1, stored.SchemaVersion);
        Assert.Equal(TestEvents.Start, stored.RecordedAt);
        Assert.Equal(new Actor("user-1", "secretary", "org-1"), stored.Metadata.Actor);
        Assert.Equal(TestEvents.Meta.CorrelationId, stored.Metadata.CorrelationId);
        Assert.Equal(causation, stored.Metadata.CausationId);
        Assert.Equal("10-KH/ĐU", stored.Headers!["document"]);
        Assert.Equal(new MemberJoined("Nguyễn Văn A", 41), stored.Data);
        Assert.Equal(32, stored.Hash.Length);
        Assert.Null(events[1].Headers);
    }

    [Fact]
    public async Task stores_the_stable_type_name_not_the_clr_name()
    {
        var stream = TestEvents.NewStreamId();
        await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A")], TestEvents.Meta);

        var typeName = await Db.ScalarAsync<string>("SELECT event_type FROM event_store.events WHERE stream_id = $1", stream);
        var json = await Db.ScalarAsync<string>("SELECT data::text FROM event_store.events WHERE stream_id = $1", stream);

        Assert.Equal("test.member-joined", typeName);
        Assert.DoesNotContain(nameof(MemberJoined), json, StringComparison.Ordinal);
        Assert.Contains("\"name\": \"A\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task appends_at_the_expected_version_and_rejects_a_stale_one_writing_nothing()
    {
        var stream = TestEvents.NewStreamId();
        await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A")], TestEvents.Meta);
        await Store.AppendAsync(stream, "roster", ExpectedVersion.Exactly(1), [TestEvents.Joined("B")], TestEvents.Meta);

        var error = await Assert.ThrowsAsync<ConcurrencyException>(() =>
            Store.AppendAsync(stream, "roster", ExpectedVersion.Exactly(1), [TestEvents.Joined("C"), TestEvents.Joined("D")], TestEvents.Meta));

        Assert.Equal(EventStoreErrorCodes.ConcurrencyConflict, error.Code);
        Assert.Equal(2, error.ActualVersion);
        Assert.Equal(ExpectedVersion.Exactly(1), error.Expected);
        Assert.Equal(2L, await Db.ScalarAsync<long>("SELECT count(*) FROM event_store.events"));
        Assert.Equal(2L, (await Store.GetStreamAsync(stream))!.Version);
    }

    [Fact]
    public async Task rejects_starting_a_stream_that_exists_and_appending_to_one_that_does_not()
    {
        var stream = TestEvents.NewStreamId();
        await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A")], TestEvents.Meta);

        var exists = await Assert.ThrowsAsync<ConcurrencyException>(() =>
            Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("B")], TestEvents.Meta));
        var missing = await Assert.ThrowsAsync<ConcurrencyException>(() =>
            Store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.Exactly(3), [TestEvents.Joined("C")], TestEvents.Meta));

        Assert.Equal(1, exists.ActualVersion);
        Assert.Equal(0, missing.ActualVersion);
        Assert.Equal(1L, await Db.ScalarAsync<long>("SELECT count(*) FROM event_store.events"));
        Assert.Equal(1L, await Db.ScalarAsync<long>("SELECT count(*) FROM event_store.streams"));
    }

    [Fact]
    public async Task a_hundred_parallel_writers_with_any_version_produce_versions_one_to_a_hundred()
    {
        var stream = TestEvents.NewStreamId();
        var events = Enumerable.Range(0, 100).Select(i => TestEvents.Joined($"member {i}", i)).ToArray();

        await Task.WhenAll(events.Select(e => Task.Run(() =>
            Store.AppendAsync(stream, "roster", ExpectedVersion.Any, [e], TestEvents.Meta))));

        var stored = await Store.ReadStreamAsync(stream);
        Assert.Equal(Enumerable.Range(1, 100).Select(v => (long)v), stored.Select(e => e.StreamVersion));
        Assert.Equal(events.Select(e => e.EventId).Order(), stored.Select(e => e.EventId).Order());
        Assert.Equal(stored.Select(e => e.GlobalPosition).Order(), stored.Select(e => e.GlobalPosition));
    }

    [Fact]
    public async Task a_hundred_parallel_writers_racing_on_expected_versions_lose_nothing_and_duplicate_nothing()
    {
        var stream = TestEvents.NewStreamId();
        var store = Store;
        var conflicts = 0;

        async Task WriteWithRetry(NewEvent e)
        {
            while (true)
            {
                var version = (await store.GetStreamAsync(stream))?.Version ?? 0;
                try
                {
                    await store.AppendAsync(stream, "roster", ExpectedVersion.Exactly(version), [e], TestEvents.Meta);
                    return;
                }
                catch (ConcurrencyException)
                {
                    Interlocked.Increment(ref conflicts);
                }
            }
        }

        var events = Enumerable.Range(0, 100).Select(i => TestEvents.Joined($"member {i}", i)).ToArray();
        await Task.WhenAll(events.Select(e => Task.Run(() => WriteWithRetry(e))));

        var stored = await Store.ReadStreamAsync(stream);
        Assert.Equal(Enumerable.Range(1, 100).Select(v => (long)v), stored.Select(e => e.StreamVersion));
        Assert.Equal(events.Select(e => e.EventId).Order(), stored.Select(e => e.EventId).Order());
        Assert.True(conflicts > 0, "100 racing writers should have met at least one conflict");
        Assert.True((await new Integrity.IntegrityVerifier(Db.DataSource).VerifyStreamAsync(stream)).IsIntact);
    }

    [Fact]
    public async Task a_failure_in_the_middle_of_a_multi_event_append_leaves_nothing_behind()
    {
        var taken = TestEvents.Joined("already stored");
        await Store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [taken], TestEvents.Meta);
        var stream = TestEvents.NewStreamId();

        // The second of three events reuses a stored event id: the database rejects it mid-append.
        var error = await Assert.ThrowsAsync<EventStoreException>(() => Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream,
            [TestEvents.Joined("first"), taken with { Data = new MemberJoined("second", 1) }, TestEvents.Joined("third")], TestEvents.Meta,
            [new Outbox.OutboxMessage(Guid.NewGuid(), "test", "test.note", new { text = "x" })]));

        Assert.Equal(EventStoreErrorCodes.DuplicateEvent, error.Code);
        Assert.Null(await Store.GetStreamAsync(stream));
        Assert.Empty(await Store.ReadStreamAsync(stream));
        Assert.Equal(1L, await Db.ScalarAsync<long>("SELECT count(*) FROM event_store.events"));
        Assert.Equal(0L, await Db.ScalarAsync<long>("SELECT count(*) FROM event_store.outbox"));
    }

    [Fact]
    public async Task rejects_appending_to_a_stream_of_another_type()
    {
        var stream = TestEvents.NewStreamId();
        await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A")], TestEvents.Meta);

        var error = await Assert.ThrowsAsync<EventStoreException>(() =>
            Store.AppendAsync(stream, "congress", ExpectedVersion.Any, [TestEvents.Joined("B")], TestEvents.Meta));

        Assert.Equal(EventStoreErrorCodes.StreamTypeMismatch, error.Code);
        Assert.Equal(1L, (await Store.GetStreamAsync(stream))!.Version);
    }
}
