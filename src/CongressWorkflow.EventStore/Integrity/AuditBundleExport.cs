using System.Text.Json;
using CongressWorkflow.Integrity;
using Npgsql;

namespace CongressWorkflow.EventStore.Integrity;

/// <summary>
/// Writes the audit bundle of some streams from the store (checked offline by <see cref="AuditBundles"/>) as the events
/// come: one stream's events in memory at a time, so a bundle of the whole tree (a national store has 6.4 million
/// events) costs the server no more than a branch's.
/// </summary>
public static class AuditBundleExport
{
    /// <summary>
    /// A bundle of format 1, carrying the whole checkpoint: the streams' events recorded from <paramref name="from"/> on
    /// (all of them without it) up to the checkpoint's head of each stream; streams the checkpoint does not know (created
    /// after it) are left out. For checkpoints taken before pins.
    /// </summary>
    public static Task WriteAsync(
        Stream output, NpgsqlDataSource dataSource, SignedCheckpoint checkpoint, string root, IReadOnlyCollection<string> streamIds, DateOnly? from,
        DateOnly? to, DateTimeOffset exportedAt, CancellationToken cancellationToken = default)
    {
        var wanted = streamIds.ToHashSet(StringComparer.Ordinal);
        var heads = checkpoint.Checkpoint.Streams.Where(h => wanted.Contains(h.StreamId)).ToDictionary(h => h.StreamId, StringComparer.Ordinal);
        return WriteBundleAsync(output, new AuditBundle(AuditBundle.WholeCheckpointFormat, exportedAt, root, from, to, checkpoint, []),
            StreamsAsync(dataSource, heads.Keys, id => heads[id].Version, from, stream => stream, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// A bundle of format 2, pinned by the checkpoint's signed Merkle root: the same streams, each with its head and the
    /// proof of it, and not the checkpoint's other heads (a national store has 846,000). The checkpoint is read as it
    /// streams; only the hash of each head is kept, to build the proofs. False, and nothing written, when the checkpoint
    /// has no pin (taken before pins) or is not a whole checkpoint.
    /// </summary>
    public static async Task<bool> WritePinnedAsync(
        Stream output, NpgsqlDataSource dataSource, Stream checkpoint, string root, IReadOnlyCollection<string> streamIds, DateOnly? from,
        DateOnly? to, DateTimeOffset exportedAt, CancellationToken cancellationToken = default)
    {
        var wanted = streamIds.ToHashSet(StringComparer.Ordinal);
        var leaves = new List<byte[]>();
        var heads = new Dictionary<string, (StreamHead Head, long Index)>(StringComparer.Ordinal);
        using var reading = CheckpointReading.HeadsOnly(checkpoint);
        await foreach (var head in reading.HeadsAsync(cancellationToken))
        {
            if (wanted.Contains(head.StreamId))
            {
                heads[head.StreamId] = (head, leaves.Count);
            }

            leaves.Add(MerkleTree.Leaf(head));
        }

        if (reading.Pin is not { } pin)
        {
            return false;
        }

        var proofs = MerkleTree.Proofs(leaves, [.. heads.Values.Select(h => h.Index)]);
        leaves.Clear();
        await WriteBundleAsync(output, new AuditBundle(AuditBundle.PinnedFormat, exportedAt, root, from, to, null, [], pin),
            StreamsAsync(dataSource, heads.Keys, id => heads[id].Head.Version, from, stream =>
            {
                var (head, index) = heads[stream.StreamId];
                return stream with { Head = new PinnedHead(head.Version, head.GlobalPosition, head.Hash, index, [.. proofs[index].Select(Convert.ToHexStringLower)]) };
            }, cancellationToken), cancellationToken);
        return true;
    }

    /// <summary>
    /// The bundle as <see cref="AuditBundle.Json"/> writes it: its other fields as the serializer gives them, then its
    /// streams one by one as they come, each flushed to the output.
    /// </summary>
    private static async Task WriteBundleAsync(Stream output, AuditBundle bundle, IAsyncEnumerable<BundledStream> streams, CancellationToken cancellationToken)
    {
        using var fields = JsonSerializer.SerializeToDocument(bundle, AuditBundle.Json);
        await using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        writer.WriteStartObject();
        foreach (var field in fields.RootElement.EnumerateObject().Where(f => f.Name != StreamsField))
        {
            field.WriteTo(writer);
        }

        writer.WriteStartArray(StreamsField);
        await foreach (var stream in streams.WithCancellation(cancellationToken))
        {
            // Serialized apart and flushed asynchronously: serializing into the writer flushes it synchronously, which an
            // HTTP response refuses.
            writer.WriteRawValue(JsonSerializer.SerializeToUtf8Bytes(stream, AuditBundle.Json), skipInputValidation: true);
            await writer.FlushAsync(cancellationToken);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(cancellationToken);
    }

    private const int StreamsPerQuery = 1_000;

    private static readonly string StreamsField = AuditBundle.Json.PropertyNamingPolicy!.ConvertName(nameof(AuditBundle.Streams));

    /// <summary>
    /// The streams' events recorded from <paramref name="from"/> on up to each one's head version, and the link before the
    /// first, a stream at a time (<paramref name="complete"/> adds what the format carries besides).
    /// </summary>
    private static async IAsyncEnumerable<BundledStream> StreamsAsync(
        NpgsqlDataSource dataSource, IEnumerable<string> streamIds, Func<string, long> headVersion, DateOnly? from, Func<BundledStream, BundledStream> complete,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var periodStart = from is { } day ? new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : DateTimeOffset.MinValue;
        // A thousand streams a query, each sorted on its own so its rows come at once: all of a subtree's events sorted in
        // one query (6.4 million for the whole national tree; 4.8 s for the 30,000 store's) keep the first row waiting,
        // past the command timeout at that scale.
        foreach (var chunk in streamIds.Order(StringComparer.Ordinal).Chunk(StreamsPerQuery))
        {
            await using var command = dataSource.CreateCommand("""
                SELECT e.stream_id, s.stream_type, e.global_position, e.event_id, e.stream_version, e.event_type, e.schema_version, e.recorded_at,
                       e.actor_id, e.actor_role, e.actor_org, e.correlation_id, e.causation_id, e.headers::text, e.data::text, e.hash
                FROM event_store.events e JOIN event_store.streams s ON s.stream_id = e.stream_id
                WHERE e.stream_id = ANY($1)
                ORDER BY e.stream_id, e.stream_version, e.global_position
                """);
            command.Parameters.Add(new() { Value = chunk });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            BundledStream? current = null;
            var events = new List<BundledEvent>();
            while (await reader.ReadAsync(cancellationToken))
            {
                var streamId = reader.GetString(0);
                if (streamId != current?.StreamId)
                {
                    if (current is not null)
                    {
                        yield return complete(current with { Events = events });
                    }

                    (current, events) = (new BundledStream(streamId, reader.GetString(1), 0, Convert.ToHexStringLower(EventDigest.Genesis), []), []);
                }

                var e = ReadEvent(reader);
                if (e.StreamVersion > headVersion(streamId))
                {
                    continue;
                }

                if (e.RecordedAt < periodStart)
                {
                    current = current! with { AnchorVersion = e.StreamVersion, AnchorHash = e.Hash };
                    continue;
                }

                events.Add(e);
            }

            if (current is not null)
            {
                yield return complete(current with { Events = events });
            }
        }
    }

    private static BundledEvent ReadEvent(NpgsqlDataReader reader) => new(
        reader.GetInt64(2), reader.GetGuid(3), reader.GetInt64(4), reader.GetString(5), reader.GetInt32(6), reader.GetFieldValue<DateTimeOffset>(7),
        reader.GetString(8), reader.GetString(9), reader.IsDBNull(10) ? null : reader.GetString(10), reader.GetGuid(11),
        reader.IsDBNull(12) ? null : reader.GetGuid(12), reader.IsDBNull(13) ? null : ParseJson(reader.GetString(13)), ParseJson(reader.GetString(14)),
        Convert.ToHexStringLower(reader.GetFieldValue<byte[]>(15)));

    private static JsonElement ParseJson(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

}
