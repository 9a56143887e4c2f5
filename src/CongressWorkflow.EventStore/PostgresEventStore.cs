using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CongressWorkflow.EventStore.Outbox;
using CongressWorkflow.EventStore.Schema;
using CongressWorkflow.EventStore.Serialization;
using CongressWorkflow.EventStore.Telemetry;
using Npgsql;
using NpgsqlTypes;

namespace CongressWorkflow.EventStore;

/// <summary>Current state and folded-in version of a stream.</summary>
public sealed record AggregateResult<TState>(TState State, long Version);

/// <summary>Events found by a scan, the position the scan covered up to, and the head when it began.</summary>
public sealed record EventPage(IReadOnlyList<RecordedEvent> Events, long ScannedTo, long HeadPosition);

public sealed record StoreStatus(long Streams, long Events, long HeadPosition, int SchemaVersion);

/// <summary>
/// An event store on PostgreSQL: streams with a per-stream version, a global position, metadata, a per-stream
/// hash chain, and an outbox written in the same transaction as the events.
/// </summary>
public sealed partial class PostgresEventStore(NpgsqlDataSource dataSource, EventTypeRegistry registry, TimeProvider timeProvider)
{
    private readonly GapWatch _gaps = new();

    public const string SchemaName = "event_store";

    /// <summary>Every column of event_store.events, in the order the store reads them.</summary>
    public const string EventColumns = "global_position, " + EventColumnsAfterPosition;

    private const string EventColumnsAfterPosition =
        "event_id, stream_id, stream_version, event_type, schema_version, recorded_at, " +
        "actor_id, actor_role, actor_org, correlation_id, causation_id, headers, data, hash";

    private const string AppendSql =
        "SELECT stream_version, global_position FROM event_store.append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

    private const string OutboxInsertSql = """
        INSERT INTO event_store.outbox (message_id, destination, message_type, payload, available_at, correlation_id, created_at)
        SELECT m.id, m.destination, m.type, m.payload, m.available_at, m.correlation_id, $6
        FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::timestamptz[], $7::uuid[])
             AS m(id, destination, type, payload, available_at, correlation_id)
        """;

    private const int MaxStreamIdLength = 256;

    public EventTypeRegistry Registry => registry;

    public NpgsqlDataSource DataSource => dataSource;

    /// <summary>Creates or upgrades the store's schema (idempotent; safe when several nodes start at once).</summary>
    public static Task<IReadOnlyList<Migration>> MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default) =>
        SchemaMigrator.MigrateAsync(dataSource, SchemaName, Migrations, cancellationToken);

    /// <summary>The store's schema migrations, in order.</summary>
    public static IReadOnlyList<Migration> Migrations { get; } =
        SchemaMigrator.FromEmbeddedResources(typeof(PostgresEventStore).Assembly, "CongressWorkflow.EventStore.Schema.Migrations.");

    /// <summary>Appends events to one stream atomically, with the outbox messages that follow from them.</summary>
    public async Task<AppendResult> AppendAsync(
        string streamId,
        string streamType,
        ExpectedVersion expectedVersion,
        IReadOnlyList<NewEvent> events,
        EventMetadata metadata,
        IReadOnlyList<OutboxMessage>? outbox = null,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await AppendAsync(connection, null, streamId, streamType, expectedVersion, events, metadata, outbox, cancellationToken);
    }

    /// <summary>
    /// Appends inside the caller's transaction (to write other rows atomically with the events). Readers of the global
    /// order wait at this append's positions until that transaction ends, so commit promptly.
    /// </summary>
    public async Task<AppendResult> AppendAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        string streamId,
        string streamType,
        ExpectedVersion expectedVersion,
        IReadOnlyList<NewEvent> events,
        EventMetadata metadata,
        IReadOnlyList<OutboxMessage>? outbox = null,
        CancellationToken cancellationToken = default,
        string? partition = null) =>
        (await AppendManyAsync(connection, transaction, [new StreamAppend(streamId, streamType, expectedVersion, events, outbox, partition)], metadata,
            cancellationToken))[0];

    /// <summary>
    /// Appends to several streams in one round trip, inside the caller's transaction: each stream atomically at its
    /// expected version, all of them or none when the transaction commits or not.
    /// </summary>
    public async Task<IReadOnlyList<AppendResult>> AppendManyAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        IReadOnlyList<StreamAppend> appends,
        EventMetadata metadata,
        CancellationToken cancellationToken = default)
    {
        ValidateMetadata(metadata);
        using var activity = CongressTelemetry.ActivitySource.StartActivity("eventstore.append");
        activity?.SetTag("cw.stream_count", appends.Count);
        activity?.SetTag("cw.event_count", appends.Sum(a => a.Events.Count));
        if (appends.Count == 1)
        {
            activity?.SetTag("cw.stream_type", appends[0].StreamType);
            activity?.SetTag("cw.stream_id", appends[0].StreamId);
        }

        var started = Stopwatch.GetTimestamp();
        var now = timeProvider.GetUtcNow().ToUniversalTime();
        await using var batch = new NpgsqlBatch(connection, transaction);
        var appendCommands = new Dictionary<NpgsqlBatchCommand, StreamAppend>();
        foreach (var append in appends)
        {
            var command = AppendCommand(append, metadata, now);
            appendCommands[command] = append;
            batch.BatchCommands.Add(command);
            if (append.Outbox is { Count: > 0 })
            {
                batch.BatchCommands.Add(OutboxInsert([.. append.Outbox.Select(m => (m, metadata.CorrelationId))], now));
            }
        }

        try
        {
            var results = new List<AppendResult>(appends.Count);
            await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
            {
                do
                {
                    long version = 0, first = 0, last = 0;
                    var rows = 0;
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        version = reader.GetInt64(0);
                        last = reader.GetInt64(1);
                        first = first == 0 ? last : first;
                        rows++;
                    }

                    if (rows > 0)
                    {
                        results.Add(new AppendResult(version, first, last));
                    }
                }
                while (await reader.NextResultAsync(cancellationToken));
            }

            foreach (var append in appends)
            {
                CongressTelemetry.EventsAppended.Add(append.Events.Count, new KeyValuePair<string, object?>("cw.stream_type", append.StreamType));
            }

            CongressTelemetry.AppendDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return results;
        }
        catch (PostgresException e) when (Translate(e, e.BatchCommand is { } failed && appendCommands.TryGetValue(failed, out var which) ? which : appends[0]) is { } error)
        {
            activity?.SetStatus(ActivityStatusCode.Error, error.Code);
            if (error is ConcurrencyException)
            {
                CongressTelemetry.ConcurrencyConflicts.Add(1);
            }

            throw error;
        }
    }

    private static void ValidateMetadata(EventMetadata metadata)
    {
        if (string.IsNullOrWhiteSpace(metadata.Actor.UserId) || string.IsNullOrWhiteSpace(metadata.Actor.Role))
        {
            throw new EventStoreException(EventStoreErrorCodes.InvalidAppend, "every event needs an actor with a user id and a role");
        }
    }

    private static void ValidateAppend(StreamAppend append)
    {
        ValidateStreamId(append.StreamId);
        if (string.IsNullOrWhiteSpace(append.StreamType))
        {
            throw new EventStoreException(EventStoreErrorCodes.InvalidAppend, "stream type must not be empty");
        }

        if (append.Events.Count == 0)
        {
            throw new EventStoreException(EventStoreErrorCodes.InvalidAppend, $"nothing to append to stream '{append.StreamId}'");
        }
    }

    /// <summary>An event as it is written: its type name, schema version, headers and data as JSON.</summary>
    private (string Type, int SchemaVersion, string? Headers, string Data) Serialize(NewEvent e)
    {
        var (type, version, data) = registry.Serialize(e.Data);
        return (type, version, e.Headers is { Count: > 0 } h ? JsonSerializer.Serialize(h) : null, data);
    }

    private NpgsqlBatchCommand AppendCommand(StreamAppend append, EventMetadata metadata, DateTimeOffset now)
    {
        ValidateAppend(append);
        var events = append.Events;
        var ids = new Guid[events.Count];
        var types = new string[events.Count];
        var versions = new int[events.Count];
        var headers = new string?[events.Count];
        var data = new string[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            ids[i] = events[i].EventId;
            (types[i], versions[i], headers[i], data[i]) = Serialize(events[i]);
        }

        var command = new NpgsqlBatchCommand(AppendSql);
        command.Parameters.Add(new() { Value = append.StreamId });
        command.Parameters.Add(new() { Value = append.StreamType });
        command.Parameters.Add(new() { Value = append.Expected.Value });
        command.Parameters.Add(new() { Value = now });
        command.Parameters.Add(new() { Value = metadata.Actor.UserId });
        command.Parameters.Add(new() { Value = metadata.Actor.Role });
        command.Parameters.Add(new() { Value = (object?)metadata.Actor.OrganizationId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = metadata.CorrelationId });
        command.Parameters.Add(new() { Value = (object?)metadata.CausationId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new() { Value = ids });
        command.Parameters.Add(new() { Value = types });
        command.Parameters.Add(new() { Value = versions });
        command.Parameters.Add(new() { Value = headers, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        command.Parameters.Add(new() { Value = data, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        command.Parameters.Add(new() { Value = (object?)append.Partition ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        return command;
    }

    /// <summary>A stream's events up to a version ($2) and a moment ($3), found through the index on the stream id (migration 0009).</summary>
    public const string ReadStreamSql = $"""
        SELECT {EventColumns} FROM event_store.events
        WHERE stream_id = $1 AND stream_version <= $2 AND recorded_at <= $3
        ORDER BY stream_version, global_position
        """;

    public async Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(
        string streamId, StreamReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateStreamId(streamId);
        options ??= StreamReadOptions.All;
        await using var command = dataSource.CreateCommand(ReadStreamSql);
        command.Parameters.Add(new() { Value = streamId });
        command.Parameters.Add(new() { Value = options.UpToVersion ?? long.MaxValue });
        command.Parameters.Add(new() { Value = (options.AsOf ?? DateTimeOffset.MaxValue).ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return await ReadEventsAsync(command, cancellationToken);
    }

    /// <summary>
    /// The events of many streams, and every event of some types besides, in the order they were recorded (by global
    /// position); for replays that need several streams' histories interleaved as they happened.
    /// </summary>
    public async Task<IReadOnlyList<RecordedEvent>> ReadInterleavedAsync(
        IReadOnlyCollection<string> streamIds, IReadOnlyCollection<string> alsoEventTypes, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT {EventColumns} FROM event_store.events
            WHERE stream_id = ANY($1) OR event_type = ANY($2)
            ORDER BY global_position
            """);
        command.Parameters.Add(new() { Value = streamIds.ToArray() });
        command.Parameters.Add(new() { Value = alsoEventTypes.ToArray() });
        return await ReadEventsAsync(command, cancellationToken);
    }

    /// <summary>Folds a stream (whole, up to a version, or as of a moment) into state: time travel.</summary>
    public async Task<AggregateResult<TState>> AggregateStreamAsync<TState>(
        string streamId, TState initial, Func<TState, object, TState> evolve, StreamReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        var events = await ReadStreamAsync(streamId, options, cancellationToken);
        var state = events.Aggregate(initial, (current, e) => evolve(current, e.Data));
        return new AggregateResult<TState>(state, events.Count == 0 ? 0 : events[^1].StreamVersion);
    }

    /// <summary>
    /// Many streams folded at once, in one read (through the caller's transaction when given): each stream's state and
    /// version; a stream without events is at the initial state, version 0. With a <paramref name="snapshots"/> shape,
    /// a stream's fold starts from its snapshot of that shape and reads only the events after it (none are looked for
    /// when the snapshot is at the stream's version: probing the events' index for each costs more than the snapshots
    /// read, once the index no longer fits in memory). Each stream's events
    /// are read from its own partition (found through its stream row), not looked for in every partition; they are put
    /// in order here, which spares PostgreSQL a sort of the whole read (it spilled to disk for a batch of a thousand
    /// streams). Each event is folded as it comes: they come stream by stream in version order (each stream's index is
    /// walked in turn), though SQL does not promise it, so one that comes early waits for those before it. A batch's
    /// events are not all held at once (a thousand congresses have some fifteen thousand).
    /// </summary>
    public async Task<IReadOnlyDictionary<string, AggregateResult<TState>>> AggregateStreamsAsync<TState>(
        IReadOnlyCollection<string> streamIds, TState initial, Func<TState, object, TState> evolve, NpgsqlConnection? connection = null,
        NpgsqlTransaction? transaction = null, CancellationToken cancellationToken = default, SnapshotShape? snapshots = null)
    {
        const string sql = $"""
            SELECT {EventColumns} FROM (
                SELECT e.* FROM unnest($1::text[], $2::bigint[]) AS r(stream_id, after_version)
                JOIN event_store.streams s ON s.stream_id = r.stream_id
                JOIN event_store.events e ON e.stream_id = s.stream_id AND e.partition_key = s.partition_key
                    AND e.stream_version > r.after_version) events
            """;
        var (folded, behind) = await StartingPointsAsync([.. streamIds.Distinct()], initial, snapshots, connection, transaction, cancellationToken);
        if (behind.Count == 0)
        {
            return folded;
        }

        await using var command = connection is null ? dataSource.CreateCommand(sql) : new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddPositional(behind.ToArray(), behind.Select(id => folded[id].Version).ToArray());
        var early = new Dictionary<string, SortedList<long, RecordedEvent>>(StringComparer.Ordinal);
        void Fold(RecordedEvent e) => folded[e.StreamId] = new AggregateResult<TState>(evolve(folded[e.StreamId].State, e.Data), e.StreamVersion);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var e = ReadEvent(reader);
                if (e.StreamVersion != folded[e.StreamId].Version + 1)
                {
                    (early.TryGetValue(e.StreamId, out var waiting) ? waiting : early[e.StreamId] = []).Add(e.StreamVersion, e);
                    continue;
                }

                Fold(e);
                if (early.TryGetValue(e.StreamId, out var next))
                {
                    while (next.Count > 0 && next.Keys[0] == folded[e.StreamId].Version + 1)
                    {
                        Fold(next.Values[0]);
                        next.RemoveAt(0);
                    }
                }
            }
        }

        // Left waiting only past a missing version (a damaged stream, which verification reports): folded in order, as they are.
        foreach (var e in early.Values.SelectMany(waiting => waiting.Values))
        {
            Fold(e);
        }

        return folded;
    }

    /// <summary>
    /// Events after a global position, in position order, never past a position that may still be in flight: a reader
    /// that resumes from the last position it saw never skips an event that commits later (see <see cref="FinalBoundAsync"/>).
    /// </summary>
    public async Task<IReadOnlyList<RecordedEvent>> ReadAllAsync(long afterPosition, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(afterPosition);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        var (final, _) = await FinalBoundAsync(afterPosition, maxCount, cancellationToken);
        if (final <= afterPosition)
        {
            return [];
        }

        await using var command = dataSource.CreateCommand(
            $"SELECT {EventColumns} FROM event_store.events WHERE global_position > $1 AND global_position <= $2 ORDER BY global_position");
        command.Parameters.Add(new() { Value = afterPosition });
        command.Parameters.Add(new() { Value = final });
        return await ReadEventsAsync(command, cancellationToken);
    }

    /// <summary>
    /// The events of some types among the next <paramref name="maxPositions"/> positions after a checkpoint, and how
    /// far that scan safely reached: never past a position that may still be in flight, so nothing committing later
    /// is passed over.
    /// </summary>
    public async Task<EventPage> ReadPageAsync(long afterPosition, int maxPositions, IReadOnlyCollection<string>? eventTypes, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(afterPosition);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPositions, 1);
        var (scannedTo, head) = await FinalBoundAsync(afterPosition, maxPositions, cancellationToken);
        if (scannedTo <= afterPosition)
        {
            return new EventPage([], afterPosition, head);
        }

        await using var command = dataSource.CreateCommand($"""
            SELECT {EventColumns} FROM event_store.events
            WHERE global_position > $1 AND global_position <= $2 AND ($3::text[] IS NULL OR event_type = ANY($3))
            ORDER BY global_position
            """);
        command.Parameters.Add(new() { Value = afterPosition });
        command.Parameters.Add(new() { Value = scannedTo });
        command.Parameters.Add(new() { Value = (object?)eventTypes?.ToArray() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        return new EventPage(await ReadEventsAsync(command, cancellationToken), scannedTo, head);
    }

    /// <summary>
    /// How far after <paramref name="afterPosition"/> (at most <paramref name="window"/> positions) every position is
    /// final, and the head. Appends commit in parallel, so a position can become visible before a lower one still in
    /// flight. Two facts make the bound safe. (1) Positions visible one after another from the checkpoint hide nothing.
    /// (2) At a gap below a visible head H: whoever holds a missing position drew it before H was drawn (the sequence
    /// only grows), and took its transaction id before drawing (append_events does so first), so that id is older than
    /// one drawn after H was seen. Once no transaction that old is still running (the current snapshot's xmin is past
    /// it), a missing position up to H was rolled back and will never appear. Each gap costs the time for the
    /// transactions in flight when it was seen to end, and one transaction id.
    /// </summary>
    private async Task<(long Final, long Head)> FinalBoundAsync(long afterPosition, int window, CancellationToken cancellationToken)
    {
        var windowEnd = afterPosition + window;
        long head, contiguousEnd;
        ulong oldestRunning;
        await using (var command = dataSource.CreateCommand("""
            SELECT pg_snapshot_xmin(pg_current_snapshot())::text,
                   (SELECT coalesce(max(global_position), 0) FROM event_store.events),
                   (SELECT min(w.prev + 1) FROM (
                        SELECT global_position, lag(global_position, 1, $1) OVER (ORDER BY global_position) AS prev
                        FROM event_store.events WHERE global_position > $1 AND global_position <= $2) w
                    WHERE w.global_position > w.prev + 1),
                   (SELECT coalesce(max(global_position), $1) FROM event_store.events WHERE global_position > $1 AND global_position <= $2)
            """))
        {
            command.Parameters.Add(new() { Value = afterPosition });
            command.Parameters.Add(new() { Value = windowEnd });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            oldestRunning = ulong.Parse(reader.GetString(0), CultureInfo.InvariantCulture);
            head = reader.GetInt64(1);
            contiguousEnd = reader.IsDBNull(2) ? reader.GetInt64(3) : reader.GetInt64(2) - 1;
        }

        var final = Math.Max(contiguousEnd, _gaps.FinalUpTo(oldestRunning));
        if (head > final && !_gaps.IsWatching)
        {
            await using var draw = dataSource.CreateCommand("SELECT pg_current_xact_id()::text");
            _gaps.Watch(head, ulong.Parse((string)(await draw.ExecuteScalarAsync(cancellationToken))!, CultureInfo.InvariantCulture));
        }

        return (Math.Max(afterPosition, Math.Min(windowEnd, final)), head);
    }

    public async Task<long> ReadHeadPositionAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT coalesce(max(global_position), 0) FROM event_store.events");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<StreamInfo?> GetStreamAsync(string streamId, CancellationToken cancellationToken = default)
    {
        ValidateStreamId(streamId);
        await using var command = dataSource.CreateCommand(
            "SELECT stream_id, stream_type, version, created_at, updated_at FROM event_store.streams WHERE stream_id = $1");
        command.Parameters.Add(new() { Value = streamId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new StreamInfo(reader.GetString(0), reader.GetString(1), reader.GetInt64(2),
                reader.GetFieldValue<DateTimeOffset>(3), reader.GetFieldValue<DateTimeOffset>(4))
            : null;
    }

    public async Task<StoreStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT (SELECT count(*) FROM event_store.streams),
                   (SELECT count(*) FROM event_store.events),
                   (SELECT coalesce(max(global_position), 0) FROM event_store.events),
                   (SELECT coalesce(max(version), 0) FROM event_store.schema_migrations)
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new StoreStatus(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt32(3));
    }

    /// <summary>A stream id the store accepts (not blank, at most 256 characters, no control character), or an <see cref="EventStoreException"/> saying why not.</summary>
    public static void ValidateStreamId(string streamId)
    {
        if (string.IsNullOrWhiteSpace(streamId))
        {
            throw new EventStoreException(EventStoreErrorCodes.InvalidStreamId, "stream id must not be empty");
        }

        if (streamId.Length > MaxStreamIdLength || streamId.Any(char.IsControl))
        {
            throw new EventStoreException(EventStoreErrorCodes.InvalidStreamId,
                $"stream id must be at most {MaxStreamIdLength} characters without control characters");
        }
    }

    private async Task<List<RecordedEvent>> ReadEventsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var events = new List<RecordedEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(ReadEvent(reader));
        }

        return events;
    }

    private RecordedEvent ReadEvent(NpgsqlDataReader reader)
    {
        var eventType = reader.GetString(4);
        var schemaVersion = reader.GetInt32(5);
        return new RecordedEvent(
            EventId: reader.GetGuid(1),
            StreamId: reader.GetString(2),
            StreamVersion: reader.GetInt64(3),
            GlobalPosition: reader.GetInt64(0),
            EventType: eventType,
            SchemaVersion: schemaVersion,
            RecordedAt: reader.GetFieldValue<DateTimeOffset>(6),
            Metadata: new EventMetadata(
                new Actor(reader.GetString(7), reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9)),
                reader.GetGuid(10),
                reader.IsDBNull(11) ? null : reader.GetGuid(11)),
            Headers: reader.IsDBNull(12) ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(12)),
            Data: registry.Deserialize(eventType, schemaVersion, reader.GetString(13)),
            Hash: reader.GetFieldValue<byte[]>(14));
    }

    /// <summary>Outbox messages, each with the correlation of the events that caused it.</summary>
    private NpgsqlBatchCommand OutboxInsert(IReadOnlyList<(OutboxMessage Message, Guid CorrelationId)> messages, DateTimeOffset now)
    {
        var command = new NpgsqlBatchCommand(OutboxInsertSql);
        command.Parameters.Add(new() { Value = messages.Select(m => m.Message.MessageId).ToArray() });
        command.Parameters.Add(new() { Value = messages.Select(m => m.Message.Destination).ToArray() });
        command.Parameters.Add(new() { Value = messages.Select(m => m.Message.MessageType).ToArray() });
        command.Parameters.Add(new()
        {
            Value = messages.Select(m => JsonSerializer.Serialize(m.Message.Payload, m.Message.Payload.GetType(), registry.SerializerOptions)).ToArray(),
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb,
        });
        command.Parameters.Add(new() { Value = messages.Select(m => (m.Message.AvailableAt ?? now).ToUniversalTime()).ToArray() });
        command.Parameters.Add(new() { Value = now });
        command.Parameters.Add(new() { Value = messages.Select(m => m.CorrelationId).ToArray() });
        return command;
    }

    /// <summary>An event id already stored in the partition (each partition's key is named after its table).</summary>
    private static bool IsDuplicateEventId(PostgresException e) =>
        e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName?.EndsWith("_event_id_key", StringComparison.Ordinal) == true;

    /// <summary>PostgreSQL's refusal of a row for which the events table has no partition, as the store's typed error.</summary>
    private static EventStoreException? UnknownPartition(PostgresException e, string? which) =>
        e.SqlState == PostgresErrorCodes.CheckViolation && e.TableName == "events"
            ? new EventStoreException(EventStoreErrorCodes.UnknownPartition, $"the events table has no partition for a new stream ({which}): create it first", e)
            : null;

    /// <summary>The typed error for a rejection the store raises on purpose; null for anything else (rethrown as is).</summary>
    private static EventStoreException? Translate(PostgresException e, StreamAppend append) => append.StreamId is var streamId ? e.SqlState switch
    {
        "CW409" => new ConcurrencyException(streamId, append.Expected, long.Parse(e.Hint ?? "0", CultureInfo.InvariantCulture), e),
        "CW422" => new EventStoreException(EventStoreErrorCodes.StreamTypeMismatch, e.MessageText, e),
        _ when UnknownPartition(e, $"'{append.StreamId}' in '{append.Partition}'") is { } unknown => unknown,
        PostgresErrorCodes.UniqueViolation when IsDuplicateEventId(e) =>
            new EventStoreException(EventStoreErrorCodes.DuplicateEvent, $"an event with this id is already stored (stream '{streamId}')", e),
        PostgresErrorCodes.UniqueViolation when e.ConstraintName == "outbox_message_id_key" =>
            new EventStoreException(EventStoreErrorCodes.DuplicateEvent, "an outbox message with this id is already stored", e),
        _ => null,
    } : null;
}
