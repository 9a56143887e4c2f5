using System.Diagnostics;
using CongressWorkflow.Integrity;
using CongressWorkflow.EventStore.Outbox;
using CongressWorkflow.EventStore.Telemetry;
using Npgsql;
using NpgsqlTypes;

namespace CongressWorkflow.EventStore;

public sealed record BulkAppendResult(long Streams, long Events);

/// <summary>One stream's part of a bulk append, with who caused its events and in which chain.</summary>
public sealed record BulkStreamAppend(StreamAppend Append, EventMetadata Metadata);

public sealed partial class PostgresEventStore
{
    /// <summary>Streams prepared (serialised and hashed) and written per COPY.</summary>
    private const int BulkChunkStreams = 2_000;

    /// <summary>
    /// Writes many new streams at once through binary COPY, inside the caller's transaction: the path for large imports.
    /// Every stream must be new (<see cref="ExpectedVersion.NoStream"/>) and without outbox messages; a stream that
    /// already exists fails the whole bulk append. See <see cref="AppendInBulkAsync"/>.
    /// </summary>
    public Task<BulkAppendResult> AppendNewStreamsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<StreamAppend> streams, EventMetadata metadata,
        CancellationToken cancellationToken = default) =>
        AppendInBulkAsync(connection, transaction, streams.Select(append => append.Expected == ExpectedVersion.NoStream && append.Outbox is not { Count: > 0 }
            ? new BulkStreamAppend(append, metadata)
            : throw new EventStoreException(EventStoreErrorCodes.InvalidAppend,
                $"the bulk append of new streams writes new streams without outbox messages; '{append.StreamId}' asks for more")), cancellationToken);

    /// <summary>
    /// Appends to many streams at once, new or existing, each at its expected version and with its own metadata and
    /// outbox messages, inside the caller's transaction: the path for batched commands, the deadline sweep and imports.
    /// Per chunk of streams: the existing streams' rows are locked and checked against the expectations (a mismatch
    /// fails the whole append with the error a single append gives), the events are serialised and hash-chained on the
    /// client from each stream's last hash (<see cref="EventDigest"/>, identical to the database's) while the previous
    /// chunk is written, then written through binary COPY, the stream rows inserted or moved on, and the outbox
    /// messages inserted. The events get global positions like any append (the transaction takes its id before the
    /// COPY draws them), so readers wait at them until the transaction commits. A stream may appear once.
    /// </summary>
    public async Task<BulkAppendResult> AppendInBulkAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<BulkStreamAppend> appends, CancellationToken cancellationToken = default)
    {
        using var activity = CongressTelemetry.ActivitySource.StartActivity("eventstore.bulk-append");
        var started = Stopwatch.GetTimestamp();
        var now = EventDigest.ToStoredPrecision(timeProvider.GetUtcNow());
        await using (var takeId = new NpgsqlCommand("SELECT pg_current_xact_id()", connection, transaction))
        {
            await takeId.ExecuteScalarAsync(cancellationToken);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        long streamCount = 0, eventCount = 0;
        using var chunks = appends.Chunk(BulkChunkStreams).GetEnumerator();
        Task<PreparedChunk>? next = null;
        try
        {
            next = await LockAndPrepareNextAsync();
            while (next is not null)
            {
                var chunk = await next;
                next = await LockAndPrepareNextAsync();
                await CopyEventsAsync(connection, chunk, now, cancellationToken);
                await WriteStreamRowsAsync(connection, transaction, chunk, now, cancellationToken);
                if (chunk.Outbox.Count > 0)
                {
                    await using var outbox = new NpgsqlBatch(connection, transaction) { BatchCommands = { OutboxInsert(chunk.Outbox, now) } };
                    await outbox.ExecuteNonQueryAsync(cancellationToken);
                }

                streamCount += chunk.Streams.Count;
                eventCount += chunk.Events.Count;
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            activity?.SetStatus(ActivityStatusCode.Error, EventStoreErrorCodes.ConcurrencyConflict);
            throw e.ConstraintName switch
            {
                // A concurrent writer of the same new stream committed its row while this one's insert waited on it.
                "streams_pkey" => new EventStoreException(EventStoreErrorCodes.ConcurrencyConflict, "a stream of the bulk append was created meanwhile", e),
                "outbox_message_id_key" => new EventStoreException(EventStoreErrorCodes.DuplicateEvent, "an outbox message of the bulk append is already stored", e),
                _ => new EventStoreException(EventStoreErrorCodes.DuplicateEvent, "an event of the bulk append is already stored", e),
            };
        }
        catch (PostgresException e) when (UnknownPartition(e, "of the bulk append") is { } unknown)
        {
            activity?.SetStatus(ActivityStatusCode.Error, unknown.Code);
            throw unknown;
        }
        catch (EventStoreException e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Code);
            if (e is ConcurrencyException)
            {
                CongressTelemetry.ConcurrencyConflicts.Add(1);
            }

            throw;
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

        // The next chunk's stream rows are locked and checked on the connection, then it is prepared on the thread pool.
        async Task<Task<PreparedChunk>?> LockAndPrepareNextAsync()
        {
            if (!chunks.MoveNext())
            {
                return null;
            }

            var chunk = chunks.Current;
            foreach (var (append, metadata) in chunk)
            {
                ValidateMetadata(metadata);
                ValidateAppend(append);
                if (!seen.Add(append.StreamId))
                {
                    throw new EventStoreException(EventStoreErrorCodes.InvalidAppend, $"stream '{append.StreamId}' appears twice in one bulk append");
                }
            }

            var current = await LockStreamsAsync(connection, transaction, chunk, cancellationToken);
            return Prepare(chunk, current, now);
        }
    }

    private sealed record PreparedStream(string StreamId, string StreamType, long Version, byte[] LastHash, bool IsNew, string Partition);

    private sealed record PreparedEvent(
        Guid EventId, string StreamId, long StreamVersion, string Type, int SchemaVersion, EventMetadata Metadata, string? Headers, string Data, byte[] Hash,
        string Partition);

    private sealed record PreparedChunk(IReadOnlyList<PreparedStream> Streams, IReadOnlyList<PreparedEvent> Events, IReadOnlyList<(OutboxMessage Message, Guid CorrelationId)> Outbox);

    private sealed record StoredStream(long Version, byte[] LastHash, string StreamType, string Partition);

    /// <summary>
    /// Locks the rows of the chunk's streams that exist (in stream order, as concurrent appenders do) and checks every
    /// expectation against them: the errors a single append would raise, named by stream.
    /// </summary>
    private static async Task<Dictionary<string, StoredStream>> LockStreamsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, BulkStreamAppend[] chunk, CancellationToken cancellationToken)
    {
        var stored = new Dictionary<string, StoredStream>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(
            "SELECT stream_id, version, last_hash, stream_type, partition_key FROM event_store.streams WHERE stream_id = ANY($1) ORDER BY stream_id FOR UPDATE",
            connection, transaction))
        {
            command.Parameters.Add(new() { Value = chunk.Select(a => a.Append.StreamId).ToArray() });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                stored[reader.GetString(0)] = new StoredStream(reader.GetInt64(1), reader.GetFieldValue<byte[]>(2), reader.GetString(3), reader.GetString(4));
            }
        }

        foreach (var (append, _) in chunk)
        {
            var existing = stored.GetValueOrDefault(append.StreamId);
            var expected = append.Expected.Value;
            if ((expected == 0 && existing is not null) || (expected > 0 && existing?.Version != expected))
            {
                throw expected == 0
                    ? new ConcurrencyException(append.StreamId, append.Expected, existing!.Version)
                    : new ConcurrencyException(append.StreamId, append.Expected, existing?.Version ?? 0);
            }

            if (existing is not null && existing.StreamType != append.StreamType)
            {
                throw new EventStoreException(EventStoreErrorCodes.StreamTypeMismatch,
                    $"stream {append.StreamId} is a {existing.StreamType} stream, not {append.StreamType}");
            }
        }

        return stored;
    }

    /// <summary>Serialises and hashes a chunk on the thread pool, so the next chunk is ready when the current one is copied.</summary>
    private Task<PreparedChunk> Prepare(BulkStreamAppend[] chunk, Dictionary<string, StoredStream> stored, DateTimeOffset now) => Task.Run(() =>
    {
        var streams = new List<PreparedStream>(chunk.Length);
        var events = new List<PreparedEvent>(chunk.Length * 8);
        var outbox = new List<(OutboxMessage, Guid)>();
        foreach (var (append, metadata) in chunk)
        {
            var existing = stored.GetValueOrDefault(append.StreamId);
            var hash = existing?.LastHash ?? EventDigest.Genesis.ToArray();
            var before = existing?.Version ?? 0;
            var partition = existing?.Partition ?? append.Partition ?? SharedPartition;
            for (var i = 0; i < append.Events.Count; i++)
            {
                var (type, schemaVersion, headers, data) = Serialize(append.Events[i]);
                var version = before + i + 1;
                var digest = EventDigest.Compute(append.Events[i].EventId, append.StreamId, version, type, schemaVersion, now,
                    metadata.Actor.UserId, metadata.Actor.Role, metadata.Actor.OrganizationId, metadata.CorrelationId, metadata.CausationId,
                    headers, data);
                hash = EventDigest.Chain(hash, digest);
                events.Add(new PreparedEvent(append.Events[i].EventId, append.StreamId, version, type, schemaVersion, metadata, headers, data, hash, partition));
            }

            streams.Add(new PreparedStream(append.StreamId, append.StreamType, before + append.Events.Count, hash, existing is null, partition));
            outbox.AddRange((append.Outbox ?? []).Select(m => (m, metadata.CorrelationId)));
        }

        return new PreparedChunk(streams, events, outbox);
    });

    /// <summary>New streams' rows inserted (one created meanwhile fails on the key), existing ones moved on to their new version and hash.</summary>
    private static async Task WriteStreamRowsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, PreparedChunk chunk, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var (isNew, sql) in new[]
                 {
                     (true, """
                        INSERT INTO event_store.streams (stream_id, stream_type, version, last_hash, created_at, updated_at, partition_key)
                        SELECT s.id, s.type, s.version, s.hash, $5, $5, s.partition
                        FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[], $6::text[]) AS s(id, type, version, hash, partition)
                        """),
                     (false, """
                        UPDATE event_store.streams t SET version = s.version, last_hash = s.hash, updated_at = $5
                        FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[], $6::text[]) AS s(id, type, version, hash, partition)
                        WHERE t.stream_id = s.id
                        """),
                 })
        {
            var streams = chunk.Streams.Where(s => s.IsNew == isNew).ToList();
            if (streams.Count == 0)
            {
                continue;
            }

            var command = new NpgsqlBatchCommand(sql);
            command.Parameters.Add(new() { Value = streams.Select(s => s.StreamId).ToArray() });
            command.Parameters.Add(new() { Value = streams.Select(s => s.StreamType).ToArray() });
            command.Parameters.Add(new() { Value = streams.Select(s => s.Version).ToArray() });
            command.Parameters.Add(new() { Value = streams.Select(s => s.LastHash).ToArray() });
            command.Parameters.Add(new() { Value = now });
            command.Parameters.Add(new() { Value = streams.Select(s => s.Partition).ToArray() });
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task CopyEventsAsync(NpgsqlConnection connection, PreparedChunk chunk, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The global position is left out: the column's default draws it from the sequence, row by row in this order.
        await using var writer = await connection.BeginBinaryImportAsync(
            $"COPY event_store.events ({EventColumnsAfterPosition}, partition_key) FROM STDIN (FORMAT BINARY)",
            cancellationToken);
        for (var i = 0; i < chunk.Events.Count; i++)
        {
            var e = chunk.Events[i];
            var metadata = e.Metadata;
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
            await writer.WriteAsync(e.Partition, NpgsqlDbType.Text, cancellationToken);
        }

        await writer.CompleteAsync(cancellationToken);
    }

    private static Task WriteNullableAsync(NpgsqlBinaryImporter writer, string? value, NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is null ? writer.WriteNullAsync(cancellationToken) : writer.WriteAsync(value, type, cancellationToken);
}
