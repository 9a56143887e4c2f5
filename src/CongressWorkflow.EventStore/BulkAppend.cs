using System.Diagnostics;
using CongressWorkflow.Integrity;
using CongressWorkflow.EventStore.Telemetry;
using Npgsql;
using NpgsqlTypes;

namespace CongressWorkflow.EventStore;

public sealed record BulkAppendResult(long Streams, long Events);

public sealed partial class PostgresEventStore
{
    /// <summary>Streams prepared (serialised and hashed) and written per COPY.</summary>
    private const int BulkChunkStreams = 2_000;

    /// <summary>
    /// Writes many new streams at once through binary COPY, inside the caller's transaction: the path for large imports
    /// and simulations. Every stream must be new (<see cref="ExpectedVersion.NoStream"/>); the hash chain is computed on
    /// the client (<see cref="EventDigest"/>, identical to the database's), while the previous chunk is being copied.
    /// The events get global positions like any append (the transaction takes its id before the COPY draws them), so
    /// readers wait at them until the transaction commits. No outbox messages on this path. A stream that already exists fails
    /// the whole bulk append.
    /// </summary>
    public async Task<BulkAppendResult> AppendNewStreamsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<StreamAppend> streams, EventMetadata metadata,
        CancellationToken cancellationToken = default)
    {
        ValidateMetadata(metadata);
        using var activity = CongressTelemetry.ActivitySource.StartActivity("eventstore.bulk-append");
        var started = Stopwatch.GetTimestamp();
        var now = EventDigest.ToStoredPrecision(timeProvider.GetUtcNow());
        await using (var takeId = new NpgsqlCommand("SELECT pg_current_xact_id()", connection, transaction))
        {
            await takeId.ExecuteScalarAsync(cancellationToken);
        }

        long streamCount = 0, eventCount = 0;
        using var chunks = streams.Chunk(BulkChunkStreams).GetEnumerator();
        var next = chunks.MoveNext() ? Prepare(chunks.Current, metadata, now) : null;
        try
        {
            while (next is not null)
            {
                var chunk = await next;
                next = chunks.MoveNext() ? Prepare(chunks.Current, metadata, now) : null;
                await RefuseExistingStreamsAsync(connection, transaction, chunk, cancellationToken);
                await CopyStreamsAsync(connection, chunk, now, cancellationToken);
                await CopyEventsAsync(connection, chunk, metadata, now, cancellationToken);
                streamCount += chunk.Streams.Count;
                eventCount += chunk.Events.Count;
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            activity?.SetStatus(ActivityStatusCode.Error, EventStoreErrorCodes.ConcurrencyConflict);
            throw e.ConstraintName == "streams_pkey"
                ? new EventStoreException(EventStoreErrorCodes.ConcurrencyConflict, "a stream of the bulk append was created meanwhile", e)
                : new EventStoreException(EventStoreErrorCodes.DuplicateEvent, "an event of the bulk append is already stored", e);
        }
        finally
        {
            if (next is not null)
            {
                await next.ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        activity?.SetTag("cw.stream_count", streamCount);
        activity?.SetTag("cw.event_count", eventCount);
        CongressTelemetry.EventsAppended.Add(eventCount, new KeyValuePair<string, object?>("cw.stream_type", "bulk"));
        CongressTelemetry.AppendDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new BulkAppendResult(streamCount, eventCount);
    }

    private sealed record PreparedStream(string StreamId, string StreamType, long Version, byte[] LastHash);

    private sealed record PreparedEvent(
        Guid EventId, string StreamId, long StreamVersion, string Type, int SchemaVersion, string? Headers, string Data, byte[] Hash);

    private sealed record PreparedChunk(IReadOnlyList<PreparedStream> Streams, IReadOnlyList<PreparedEvent> Events);

    /// <summary>Serialises and hashes a chunk on the thread pool, so the next chunk is ready when the current one is copied.</summary>
    private Task<PreparedChunk> Prepare(StreamAppend[] chunk, EventMetadata metadata, DateTimeOffset now) => Task.Run(() =>
    {
        var streams = new List<PreparedStream>(chunk.Length);
        var events = new List<PreparedEvent>(chunk.Length * 8);
        foreach (var append in chunk)
        {
            ValidateAppend(append);
            if (append.Expected != ExpectedVersion.NoStream || append.Outbox is { Count: > 0 })
            {
                throw new EventStoreException(EventStoreErrorCodes.InvalidAppend,
                    $"the bulk append writes new streams without outbox messages; '{append.StreamId}' asks for more");
            }

            byte[] hash = EventDigest.Genesis.ToArray();
            for (var i = 0; i < append.Events.Count; i++)
            {
                var (type, schemaVersion, headers, data) = Serialize(append.Events[i]);
                var version = i + 1L;
                var digest = EventDigest.Compute(append.Events[i].EventId, append.StreamId, version, type, schemaVersion, now,
                    metadata.Actor.UserId, metadata.Actor.Role, metadata.Actor.OrganizationId, metadata.CorrelationId, metadata.CausationId,
                    headers, data);
                hash = EventDigest.Chain(hash, digest);
                events.Add(new PreparedEvent(append.Events[i].EventId, append.StreamId, version, type, schemaVersion, headers, data, hash));
            }

            streams.Add(new PreparedStream(append.StreamId, append.StreamType, append.Events.Count, hash));
        }

        return new PreparedChunk(streams, events);
    });

    /// <summary>Names a stream of the chunk that exists already (the unique key would only say that one does).</summary>
    private static async Task RefuseExistingStreamsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, PreparedChunk chunk, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT stream_id FROM event_store.streams WHERE stream_id = ANY($1) ORDER BY stream_id LIMIT 1", connection, transaction);
        command.Parameters.Add(new() { Value = chunk.Streams.Select(s => s.StreamId).ToArray() });
        if (await command.ExecuteScalarAsync(cancellationToken) is string existing)
        {
            throw new EventStoreException(EventStoreErrorCodes.ConcurrencyConflict, $"stream '{existing}' already exists; the bulk append writes new streams only");
        }
    }

    private static async Task CopyStreamsAsync(NpgsqlConnection connection, PreparedChunk chunk, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY event_store.streams (stream_id, stream_type, version, last_hash, created_at, updated_at) FROM STDIN (FORMAT BINARY)",
            cancellationToken);
        foreach (var stream in chunk.Streams)
        {
            await writer.StartRowAsync(cancellationToken);
            await writer.WriteAsync(stream.StreamId, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(stream.StreamType, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(stream.Version, NpgsqlDbType.Bigint, cancellationToken);
            await writer.WriteAsync(stream.LastHash, NpgsqlDbType.Bytea, cancellationToken);
            await writer.WriteAsync(now, NpgsqlDbType.TimestampTz, cancellationToken);
            await writer.WriteAsync(now, NpgsqlDbType.TimestampTz, cancellationToken);
        }

        await writer.CompleteAsync(cancellationToken);
    }

    private static async Task CopyEventsAsync(
        NpgsqlConnection connection, PreparedChunk chunk, EventMetadata metadata, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The global position is left out: the column's default draws it from the sequence, row by row in this order.
        await using var writer = await connection.BeginBinaryImportAsync(
            $"COPY event_store.events ({EventColumnsAfterPosition}) FROM STDIN (FORMAT BINARY)",
            cancellationToken);
        for (var i = 0; i < chunk.Events.Count; i++)
        {
            var e = chunk.Events[i];
            await writer.StartRowAsync(cancellationToken);
            await writer.WriteAsync(e.EventId, NpgsqlDbType.Uuid, cancellationToken);
            await writer.WriteAsync(e.StreamId, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(e.StreamVersion, NpgsqlDbType.Bigint, cancellationToken);
            await writer.WriteAsync(e.Type, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(e.SchemaVersion, NpgsqlDbType.Integer, cancellationToken);
            await writer.WriteAsync(now, NpgsqlDbType.TimestampTz, cancellationToken);
            await writer.WriteAsync(metadata.Actor.UserId, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(metadata.Actor.Role, NpgsqlDbType.Text, cancellationToken);
            await WriteNullableAsync(writer, metadata.Actor.OrganizationId, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(metadata.CorrelationId, NpgsqlDbType.Uuid, cancellationToken);
            if (metadata.CausationId is { } causation)
            {
                await writer.WriteAsync(causation, NpgsqlDbType.Uuid, cancellationToken);
            }
            else
            {
                await writer.WriteNullAsync(cancellationToken);
            }

            await WriteNullableAsync(writer, e.Headers, NpgsqlDbType.Jsonb, cancellationToken);
            await writer.WriteAsync(e.Data, NpgsqlDbType.Jsonb, cancellationToken);
            await writer.WriteAsync(e.Hash, NpgsqlDbType.Bytea, cancellationToken);
        }

        await writer.CompleteAsync(cancellationToken);
    }

    private static Task WriteNullableAsync(NpgsqlBinaryImporter writer, string? value, NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is null ? writer.WriteNullAsync(cancellationToken) : writer.WriteAsync(value, type, cancellationToken);
}
