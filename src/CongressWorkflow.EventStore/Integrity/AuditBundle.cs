using System.Text.Json;
using Npgsql;

namespace CongressWorkflow.EventStore.Integrity;

/// <summary>One stored event, every field the chain covers, as the bundle carries it.</summary>
public sealed record BundledEvent(
    long GlobalPosition, Guid EventId, long StreamVersion, string EventType, int SchemaVersion, DateTimeOffset RecordedAt,
    string ActorId, string ActorRole, string? ActorOrg, Guid CorrelationId, Guid? CausationId, JsonElement? Headers, JsonElement Data,
    string Hash);

/// <summary>
/// A stream's events from the period's start up to the checkpoint, and the link before the first of them (the anchor:
/// version 0 and the genesis hash when the stream starts in the period). Chained from the anchor, the events must
/// arrive exactly at the head the checkpoint signed, so neither the anchor nor any event can be forged.
/// </summary>
public sealed record BundledStream(string StreamId, string StreamType, long AnchorVersion, string AnchorHash, IReadOnlyList<BundledEvent> Events);

/// <summary>A self-contained record for an inspection: events, hashes, and the signed checkpoint with its public key.</summary>
public sealed record AuditBundle(
    string Format, DateTimeOffset ExportedAt, string Root, DateOnly? From, DateOnly? To, SignedCheckpoint Checkpoint, IReadOnlyList<BundledStream> Streams)
{
    public const string CurrentFormat = "congressworkflow/audit-bundle/1";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };
}

/// <summary>What an offline check of a bundle found; the first broken link by global position comes first.</summary>
public sealed record BundleReport(bool SignatureValid, bool KeyPinned, int Streams, long Events, IReadOnlyList<IntegrityViolation> Violations)
{
    public bool IsIntact => SignatureValid && Violations.Count == 0;

    public IntegrityViolation? FirstViolation => Violations.MinBy(v => v.GlobalPosition ?? long.MaxValue);
}

public static class AuditBundles
{
    /// <summary>
    /// The streams' events recorded from <paramref name="from"/> on (all of them without it) up to the checkpoint's head
    /// of each stream; streams the checkpoint does not know (created after it) are left out.
    /// </summary>
    public static async Task<AuditBundle> ExportAsync(
        NpgsqlDataSource dataSource, SignedCheckpoint checkpoint, string root, IReadOnlyCollection<string> streamIds, DateOnly? from, DateOnly? to,
        DateTimeOffset exportedAt, CancellationToken cancellationToken = default)
    {
        var heads = checkpoint.Checkpoint.Streams.ToDictionary(h => h.StreamId, StringComparer.Ordinal);
        var inScope = streamIds.Where(heads.ContainsKey).Order(StringComparer.Ordinal).ToArray();
        var periodStart = from is { } day ? new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : DateTimeOffset.MinValue;
        await using var command = dataSource.CreateCommand("""
            SELECT e.stream_id, s.stream_type, e.global_position, e.event_id, e.stream_version, e.event_type, e.schema_version, e.recorded_at,
                   e.actor_id, e.actor_role, e.actor_org, e.correlation_id, e.causation_id, e.headers::text, e.data::text, e.hash
            FROM event_store.events e JOIN event_store.streams s ON s.stream_id = e.stream_id
            WHERE e.stream_id = ANY($1)
            ORDER BY e.stream_id, e.stream_version
            """);
        command.Parameters.Add(new() { Value = inScope });
        var streams = new List<BundledStream>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        string? current = null, currentType = null, anchorHash = null;
        long anchorVersion = 0;
        var events = new List<BundledEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var streamId = reader.GetString(0);
            if (streamId != current)
            {
                Flush();
                (current, currentType, anchorVersion, anchorHash, events) = (streamId, reader.GetString(1), 0, Convert.ToHexStringLower(EventDigest.Genesis), []);
            }

            var e = ReadEvent(reader);
            if (e.StreamVersion > heads[streamId].Version)
            {
                continue;
            }

            if (e.RecordedAt < periodStart)
            {
                (anchorVersion, anchorHash) = (e.StreamVersion, e.Hash);
                continue;
            }

            events.Add(e);
        }

        Flush();
        return new AuditBundle(AuditBundle.CurrentFormat, exportedAt, root, from, to, checkpoint, streams);

        void Flush()
        {
            if (current is not null)
            {
                streams.Add(new BundledStream(current, currentType!, anchorVersion, anchorHash!, events));
            }
        }
    }

    /// <summary>
    /// Checks a bundle with nothing but itself: the checkpoint's signature (by <paramref name="trustedPublicKey"/> when
    /// given, else by the key the bundle names, which proves integrity but not who signed), then every stream's chain
    /// from its anchor through each event's recomputed digest to the head the checkpoint signed.
    /// </summary>
    public static BundleReport Verify(AuditBundle bundle, string? trustedPublicKey)
    {
        var violations = new List<IntegrityViolation>();
        if (bundle.Format != AuditBundle.CurrentFormat)
        {
            violations.Add(new IntegrityViolation("(bundle)", 0, null, $"unknown format '{bundle.Format}'"));
        }

        var signatureValid = Checkpoints.IsAuthentic(bundle.Checkpoint, trustedPublicKey ?? bundle.Checkpoint.PublicKey);
        if (!signatureValid)
        {
            violations.Add(new IntegrityViolation("(checkpoint)", 0, null, trustedPublicKey is null
                ? "the checkpoint's signature does not verify with the key it names: the checkpoint was altered"
                : "the checkpoint is not signed by the trusted key"));
        }

        var heads = bundle.Checkpoint.Checkpoint.Streams.ToDictionary(h => h.StreamId, StringComparer.Ordinal);
        long events = 0;
        foreach (var stream in bundle.Streams)
        {
            events += stream.Events.Count;
            if (!heads.TryGetValue(stream.StreamId, out var head))
            {
                violations.Add(new IntegrityViolation(stream.StreamId, 0, null, "the stream is not in the signed checkpoint"));
                continue;
            }

            if (!TryHex(stream.AnchorHash, out var anchor) || !TryHex(head.Hash, out var headHash)
                || (stream.AnchorVersion == 0 && !anchor.AsSpan().SequenceEqual(EventDigest.Genesis)))
            {
                violations.Add(new IntegrityViolation(stream.StreamId, stream.AnchorVersion, null, "the anchor before the first event is malformed"));
                continue;
            }

            var walk = new ChainWalk(stream.StreamId, stream.AnchorVersion, anchor, head.Version, headHash, "the signed checkpoint has");
            foreach (var e in stream.Events)
            {
                var digest = EventDigest.Compute(e.EventId, stream.StreamId, e.StreamVersion, e.EventType, e.SchemaVersion, e.RecordedAt,
                    e.ActorId, e.ActorRole, e.ActorOrg, e.CorrelationId, e.CausationId, e.Headers?.GetRawText(), e.Data.GetRawText());
                walk.Step(e.StreamVersion, e.GlobalPosition, TryHex(e.Hash, out var stored) ? stored : [], digest, violations);
            }

            walk.Finish(violations);
            if (!walk.IsBroken && stream.Events.Count > 0 && stream.Events[^1].GlobalPosition != head.GlobalPosition)
            {
                violations.Add(new IntegrityViolation(stream.StreamId, head.Version, stream.Events[^1].GlobalPosition,
                    $"the head event is at global position {stream.Events[^1].GlobalPosition}, the signed checkpoint has {head.GlobalPosition}"));
            }
        }

        return new BundleReport(signatureValid, trustedPublicKey is not null, bundle.Streams.Count, events, violations);
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

    private static bool TryHex(string text, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromHexString(text);
            return bytes.Length == 32;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
