using CongressWorkflow.Integrity;
using CongressWorkflow.Testing;

namespace CongressWorkflow.EventStore.Tests;

public sealed class computing_the_digest_outside_the_database(EventStoreDatabase db) : StoreTestBase(db)
{
    // Data that PostgreSQL's jsonb renders differently from how it arrives: key order, spacing, escapes, numbers.
    private static readonly string[] AwkwardData =
    [
        """{"name":"Nguyễn Văn A","age":42}""",
        """{"zeta":1,"a":2,"bb":{"y":[1,2,{"k":"v"}],"x":null},"é":true,"ab":false}""",
        """{"name":"quote \" backslash \\ slash \/ tab \t newline \n bell \u0007 unit \u001f","age":0}""",
        """{"name":"numbers","age":-0,"n":[1.50,1e3,1.25E-1,-2.5e+2,0.000,100,12345678901234567890123,1E-7,-0.0]}""",
        """{"name":"dup","name":"last wins","age":1}""",
        """{"name":"emoji 🇻🇳 and ñ","age":7,"nested":{"":"empty key","aa":[],"b":{}}}""",
    ];

    [Fact]
    public async Task every_stored_event_digests_and_chains_in_csharp_exactly_as_in_postgresql()
    {
        var store = Store;
        var stream = TestEvents.NewStreamId();
        var events = AwkwardData.Select(json => new NewEvent(Guid.NewGuid(), new JsonEventData("test.member-joined", 1, json),
            json.Length % 2 == 0 ? new Dictionary<string, string> { ["source"] = "import \"2020\"", ["row"] = "7" } : null)).ToList();
        await store.AppendAsync(stream, "roster", ExpectedVersion.NoStream, events[..3],
            new EventMetadata(new Actor("Trần Thị B", "secretariat", null), Guid.NewGuid()));
        Clock.Advance(TimeSpan.FromTicks(1_234_567));
        await store.AppendAsync(stream, "roster", ExpectedVersion.Exactly(3), events[3..],
            new EventMetadata(new Actor("u", "committee", "dang-uy-khoi"), Guid.NewGuid(), Guid.NewGuid()));

        await using var command = Db.DataSource.CreateCommand("""
            SELECT event_id, stream_id, stream_version, event_type, schema_version, recorded_at, actor_id, actor_role, actor_org,
                   correlation_id, causation_id, headers::text, data::text, hash,
                   event_store.event_digest(event_id, stream_id, stream_version, event_type, schema_version, recorded_at, actor_id,
                       actor_role, actor_org, correlation_id, causation_id, headers, data)
            FROM event_store.events WHERE stream_id = $1 ORDER BY stream_version
            """);
        command.Parameters.Add(new() { Value = stream });
        await using var reader = await command.ExecuteReaderAsync();
        byte[] previous = EventDigest.Genesis.ToArray();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            var digest = EventDigest.Compute(reader.GetGuid(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetInt32(4),
                reader.GetFieldValue<DateTimeOffset>(5), reader.GetString(6), reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8),
                reader.GetGuid(9), reader.IsDBNull(10) ? null : reader.GetGuid(10), reader.IsDBNull(11) ? null : reader.GetString(11),
                reader.GetString(12));
            Assert.Equal(Convert.ToHexString(reader.GetFieldValue<byte[]>(14)), Convert.ToHexString(digest));
            previous = EventDigest.Chain(previous, digest);
            Assert.Equal(Convert.ToHexString(reader.GetFieldValue<byte[]>(13)), Convert.ToHexString(previous));
            rows++;
        }

        Assert.Equal(AwkwardData.Length, rows);
    }

    [Fact]
    public async Task the_digest_of_data_as_the_client_wrote_it_matches_the_stored_one_too()
    {
        // The bulk path hashes what it is about to write, not what PostgreSQL gives back.
        var at = EventDigest.ToStoredPrecision(new DateTimeOffset(2020, 5, 15, 8, 30, 0, TimeSpan.FromHours(7)).AddTicks(12_345_678));
        foreach (var json in AwkwardData)
        {
            var id = Guid.NewGuid();
            var correlation = Guid.NewGuid();
            await using var command = Db.DataSource.CreateCommand(
                "SELECT event_store.event_digest($1, 's-1', 4, 't', 2, $2, 'a', 'r', NULL, $3, NULL, NULL, $4::jsonb)");
            command.Parameters.Add(new() { Value = id });
            command.Parameters.Add(new() { Value = at });
            command.Parameters.Add(new() { Value = correlation });
            command.Parameters.Add(new() { Value = json });
            var expected = (byte[])(await command.ExecuteScalarAsync())!;

            Assert.Equal(Convert.ToHexString(expected),
                Convert.ToHexString(EventDigest.Compute(id, "s-1", 4, "t", 2, at, "a", "r", null, correlation, null, null, json)));
        }
    }
}
