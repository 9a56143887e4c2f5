using CongressWorkflow.EventStore.Integrity;
using CongressWorkflow.Testing;

namespace CongressWorkflow.EventStore.Tests;

public sealed class verifying_the_hash_chain(EventStoreDatabase db) : StoreTestBase(db)
{
    private IntegrityVerifier Verifier => new(Db.DataSource);

    [Fact]
    public async Task an_untouched_store_verifies()
    {
        var (a, b) = await TwoStreamsOfThree();

        var report = await Verifier.VerifyAllAsync();

        Assert.True(report.IsIntact);
        Assert.Equal(2, report.StreamsChecked);
        Assert.Equal(6, report.EventsChecked);
        Assert.True((await Verifier.VerifyStreamAsync(a)).IsIntact);
        Assert.True((await Verifier.VerifyStreamAsync(b)).IsIntact);
    }

    /// <summary>
    /// Verifications side by side with other readers on a pool of two connections, as the projection daemon reads beside
    /// an auditor: the verifier once disposed its reader twice, and the second dispose closed whoever had the connection
    /// next, so two users shared one connection and one waited forever (a verify hanging until its client gave up).
    /// </summary>
    [Fact]
    public async Task verifying_beside_other_readers_on_a_small_pool_neither_hangs_nor_breaks_them()
    {
        await TwoStreamsOfThree();
        await using var pool = StoreDataSource.Create(new Npgsql.NpgsqlConnectionStringBuilder(Db.ConnectionString) { MaxPoolSize = 2 }.ConnectionString);
        var verifier = new IntegrityVerifier(pool);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var verifications = 0;
        var reads = 0;

        async Task Verify()
        {
            while (!stop.IsCancellationRequested)
            {
                Assert.True((await verifier.VerifyAllAsync().WaitAsync(TimeSpan.FromSeconds(10))).IsIntact);
                Interlocked.Increment(ref verifications);
            }
        }

        async Task Read()
        {
            while (!stop.IsCancellationRequested)
            {
                await using var command = pool.CreateCommand("SELECT global_position, stream_id FROM event_store.events ORDER BY global_position");
                await using var reader = await command.ExecuteReaderAsync().WaitAsync(TimeSpan.FromSeconds(10));
                var rows = 0;
                while (await reader.ReadAsync().WaitAsync(TimeSpan.FromSeconds(10)))
                {
                    rows++;
                }

                Assert.Equal(6, rows);
                Interlocked.Increment(ref reads);
            }
        }

        await Task.WhenAll(Verify(), Read(), Read());

        Assert.True(verifications > 10, $"{verifications} verifications");
        Assert.True(reads > 10, $"{reads} reads");
    }

    [Fact]
    public async Task data_edited_by_hand_is_caught_at_its_event()
    {
        var (a, b) = await TwoStreamsOfThree();
        var position = await Db.ScalarAsync<long>("SELECT global_position FROM event_store.events WHERE stream_id = $1 AND stream_version = 2", b);

        await Db.ExecuteAsync("UPDATE event_store.events SET data = jsonb_set(data, '{age}', '99') WHERE global_position = $1", position);

        var report = await Verifier.VerifyAllAsync();
        var violation = Assert.Single(report.Violations);
        Assert.Equal(b, violation.StreamId);
        Assert.Equal(2, violation.StreamVersion);
        Assert.Equal(position, violation.GlobalPosition);
        Assert.Equal(violation, report.FirstViolation);
        Assert.True((await Verifier.VerifyStreamAsync(a)).IsIntact);
    }

    [Theory]
    [InlineData("recorded_at = recorded_at - interval '1 day'")]
    [InlineData("actor_id = 'someone-else'")]
    [InlineData("event_type = 'test.member-renamed'")]
    [InlineData("headers = '{\"document\": \"forged\"}'")]
    public async Task any_edited_field_is_caught(string edit)
    {
        var (a, _) = await TwoStreamsOfThree();

        await Db.ExecuteAsync($"UPDATE event_store.events SET {edit} WHERE stream_id = $1 AND stream_version = 3", a);

        var violation = Assert.Single((await Verifier.VerifyStreamAsync(a)).Violations);
        Assert.Equal(3, violation.StreamVersion);
    }

    [Fact]
    public async Task a_deleted_event_is_caught_at_the_gap()
    {
        var (a, _) = await TwoStreamsOfThree();

        await Db.ExecuteAsync("DELETE FROM event_store.events WHERE stream_id = $1 AND stream_version = 2", a);

        var violation = Assert.Single((await Verifier.VerifyStreamAsync(a)).Violations);
        Assert.Equal(3, violation.StreamVersion);
        Assert.Contains("missing", violation.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_truncated_stream_is_caught()
    {
        var (a, _) = await TwoStreamsOfThree();

        await Db.ExecuteAsync("DELETE FROM event_store.events WHERE stream_id = $1 AND stream_version = 3", a);

        var violation = Assert.Single((await Verifier.VerifyStreamAsync(a)).Violations);
        Assert.Equal(3, violation.StreamVersion);
        Assert.Null(violation.GlobalPosition);
    }

    [Fact]
    public async Task a_rewritten_hash_does_not_hide_an_edit()
    {
        var (a, _) = await TwoStreamsOfThree();

        // The forger edits event 2 and recomputes its own hash, but cannot fix event 3, which chains on the old one.
        await Db.ExecuteAsync(
            "UPDATE event_store.events SET data = jsonb_set(data, '{name}', '\"forged\"') WHERE stream_id = $1 AND stream_version = 2", a);
        await Db.ExecuteAsync("""
            UPDATE event_store.events e SET hash = sha256(p.hash || event_store.event_digest(e.event_id, e.stream_id, e.stream_version,
                e.event_type, e.schema_version, e.recorded_at, e.actor_id, e.actor_role, e.actor_org, e.correlation_id, e.causation_id,
                e.headers, e.data))
            FROM event_store.events p WHERE p.stream_id = e.stream_id AND p.stream_version = 1 AND e.stream_id = $1 AND e.stream_version = 2;
            """, a);

        var violation = Assert.Single((await Verifier.VerifyStreamAsync(a)).Violations);
        Assert.Equal(3, violation.StreamVersion);
    }

    [Fact]
    public async Task a_version_stored_twice_by_hand_is_caught()
    {
        var (a, b) = await TwoStreamsOfThree();

        // No index refuses a second event at a version (appends take versions from the locked stream row): the chain does.
        // The walk takes a version's events in the order they were stored, so the one added later is the one reported.
        var forged = await Db.ScalarAsync<long>("""
            INSERT INTO event_store.events (event_id, stream_id, stream_version, event_type, schema_version, recorded_at, actor_id, actor_role,
                actor_org, correlation_id, causation_id, headers, data, hash, partition_key)
            SELECT gen_random_uuid(), stream_id, stream_version, event_type, schema_version, recorded_at, actor_id, actor_role, actor_org,
                correlation_id, causation_id, headers, jsonb_set(data, '{name}', '"forged"'), hash, partition_key
            FROM event_store.events WHERE stream_id = $1 AND stream_version = 2
            RETURNING global_position
            """, a);

        var report = await Verifier.VerifyAllAsync();
        var violation = Assert.Single(report.Violations);
        Assert.Equal(a, violation.StreamId);
        Assert.Equal(2, violation.StreamVersion);
        Assert.Equal(forged, violation.GlobalPosition);
        Assert.Contains("expected version 3 next but found 2", violation.Reason, StringComparison.Ordinal);
        Assert.True((await Verifier.VerifyStreamAsync(b)).IsIntact);
    }

    [Fact]
    public async Task a_stream_row_deleted_by_hand_leaves_its_events_reported()
    {
        var (a, b) = await TwoStreamsOfThree();
        var first = await Db.ScalarAsync<long>("SELECT min(global_position) FROM event_store.events WHERE stream_id = $1", a);

        await Db.ExecuteAsync("DELETE FROM event_store.streams WHERE stream_id = $1", a);

        var report = await Verifier.VerifyAllAsync();
        var violation = Assert.Single(report.Violations);
        Assert.Equal(a, violation.StreamId);
        Assert.Equal(1, violation.StreamVersion);
        Assert.Equal(first, violation.GlobalPosition);
        Assert.Contains("without their stream row", violation.Reason);
        Assert.True((await Verifier.VerifyStreamAsync(b)).IsIntact);
    }

    /// <summary>
    /// The whole store is walked a few streams a query (a thousand in the product: one query sorted every event of a
    /// national store before its first row, past the command timeout): every stream and event is counted across the
    /// queries, and a break at either end of one query's streams is found, as the walk in one query finds it.
    /// </summary>
    [Fact]
    public async Task the_store_walked_a_few_streams_a_query_counts_every_stream_and_finds_a_break_at_either_end_of_a_query()
    {
        var streams = new List<string>();
        foreach (var i in Enumerable.Range(0, 25))
        {
            streams.Add(TestEvents.NewStreamId());
            await Store.AppendAsync(streams[^1], "roster", ExpectedVersion.NoStream, [TestEvents.Joined("one", i), TestEvents.Joined("two", i)], TestEvents.Meta);
        }

        var ordered = streams.Order(StringComparer.Ordinal).ToList();
        var fiveAQuery = new IntegrityVerifier(Db.DataSource, streamsPerQuery: 5);
        var intact = await fiveAQuery.VerifyAllAsync();
        foreach (var edited in new[] { ordered[4], ordered[5], ordered[24] })
        {
            await Db.ExecuteAsync("UPDATE event_store.events SET data = jsonb_set(data, '{name}', '\"forged\"') WHERE stream_id = $1 AND stream_version = 2", edited);
        }

        var broken = await fiveAQuery.VerifyAllAsync();
        var inOneQuery = await new IntegrityVerifier(Db.DataSource, streamsPerQuery: int.MaxValue).VerifyAllAsync();

        Assert.True(intact.IsIntact);
        Assert.Equal((25, 50), (intact.StreamsChecked, intact.EventsChecked));
        Assert.Equal((25, 50), (broken.StreamsChecked, broken.EventsChecked));
        Assert.Equal([ordered[4], ordered[5], ordered[24]], broken.Violations.Select(v => v.StreamId));
        Assert.Equal(inOneQuery.Violations, broken.Violations);
    }

    private async Task<(string A, string B)> TwoStreamsOfThree()
    {
        var a = TestEvents.NewStreamId();
        var b = TestEvents.NewStreamId();
        foreach (var stream in new[] { a, b })
        {
            await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("one", 1), TestEvents.Joined("two", 2)],
                TestEvents.Meta with { CausationId = Guid.NewGuid() });
            Clock.Advance(TimeSpan.FromHours(1));
            await Store.AppendAsync(stream, "roster", ExpectedVersion.Exactly(2),
                [TestEvents.Joined("three", 3) with { Headers = new Dictionary<string, string> { ["document"] = "12-KH/ĐU" } }], TestEvents.Meta);
        }

        return (a, b);
    }
}
