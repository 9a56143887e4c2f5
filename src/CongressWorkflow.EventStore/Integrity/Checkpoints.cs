using System.Security.Cryptography;
using CongressWorkflow.Integrity;
using Npgsql;

namespace CongressWorkflow.EventStore.Integrity;

/// <summary>
/// Tamper evidence that survives a database administrator: the hash chain lives in the database, so whoever can write
/// SQL can rewrite an event and recompute every later hash, or drop a whole stream or its tail. A signed checkpoint
/// of every stream's head, kept outside the database, pins the history up to it: a later verification reports any
/// stream missing, cut back, rewritten (its head's hash differs) or renumbered (its head's global position moved), and
/// any stream that appears in the past without being in the checkpoint.
/// </summary>
public sealed class Checkpoints(NpgsqlDataSource dataSource, ECDsa signingKey, TimeProvider time)
{
    /// <summary>The public key (SubjectPublicKeyInfo, base64) that verifies this server's checkpoints.</summary>
    public string PublicKey => SignedCheckpoints.PublicKeyOf(signingKey);

    /// <summary>
    /// Signs the head of every stream into <paramref name="destination"/> (the document <see cref="SignedCheckpoints.Serialize"/>
    /// gives), head by head as the database hands them over: its memory does not grow with the store.
    /// </summary>
    public async Task<CheckpointSummary> TakeAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // One snapshot for the heads and the head position.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        long headPosition;
        await using (var head = new NpgsqlCommand("SELECT coalesce(max(global_position), 0) FROM event_store.events", connection, transaction))
        {
            headPosition = (long)(await head.ExecuteScalarAsync(cancellationToken))!;
        }

        var summary = await SignedCheckpoints.WriteAsync(destination, time.GetUtcNow(), headPosition, HeadsAsync(), signingKey, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return summary;

        async IAsyncEnumerable<StreamHead> HeadsAsync()
        {
            await using var command = new NpgsqlCommand("""
                SELECT s.stream_id, s.version, e.global_position, e.hash
                FROM event_store.streams s JOIN event_store.events e ON e.stream_id = s.stream_id AND e.stream_version = s.version
                ORDER BY s.stream_id COLLATE "C"
                """, connection, transaction);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                yield return new StreamHead(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), Convert.ToHexStringLower(reader.GetFieldValue<byte[]>(3)));
            }
        }
    }

    /// <summary>
    /// Every place where the store no longer extends the checkpoint document (nothing when it does), or why the document
    /// is not a checkpoint. The document is read as it streams (a national store's is 215 MB, about a gigabyte
    /// deserialized): its heads go by binary COPY into a temporary table as they come, and the database compares them
    /// there, so the server holds no more than a chunk of the document whatever its size.
    /// </summary>
    public async Task<CheckpointComparison> CompareAsync(Stream document, string trustedPublicKey, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // Never committed: the heads' table goes with the transaction.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var create = new NpgsqlCommand("""
            CREATE TEMPORARY TABLE checkpoint_heads (stream_id text NOT NULL, version bigint NOT NULL, global_position bigint NOT NULL, hash text NOT NULL)
            ON COMMIT DROP
            """, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        using var reading = new CheckpointReading(document, trustedPublicKey);
        await using (var importer = await connection.BeginBinaryImportAsync(
            "COPY checkpoint_heads (stream_id, version, global_position, hash) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            await foreach (var head in reading.HeadsAsync(cancellationToken))
            {
                await importer.StartRowAsync(cancellationToken);
                await importer.WriteAsync(head.StreamId, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
                await importer.WriteAsync(head.Version, NpgsqlTypes.NpgsqlDbType.Bigint, cancellationToken);
                await importer.WriteAsync(head.GlobalPosition, NpgsqlTypes.NpgsqlDbType.Bigint, cancellationToken);
                await importer.WriteAsync(head.Hash, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
            }

            await importer.CompleteAsync(cancellationToken);
        }

        if (reading.Summary is not { } checkpoint)
        {
            return new CheckpointComparison(reading.Defect, []);
        }

        if (!reading.IsAuthentic)
        {
            return new CheckpointComparison(null,
                [new IntegrityViolation("(checkpoint)", 0, null, $"the checkpoint of {checkpoint.TakenAt:O} is not signed by this server's checkpoint key, or was altered")]);
        }

        var violations = new List<IntegrityViolation>();
        var taken = $"the signed checkpoint of {checkpoint.TakenAt:yyyy-MM-dd HH:mm:ss}Z";
        // A temporary table has no statistics until it is analyzed: without them the comparisons below are planned for a few rows.
        await using (var analyze = new NpgsqlCommand("ANALYZE checkpoint_heads", connection, transaction))
        {
            await analyze.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var command = new NpgsqlCommand("""
            SELECT c.stream_id, c.version, c.global_position, c.hash, s.version, e.global_position, e.hash
            FROM checkpoint_heads c
            LEFT JOIN event_store.streams s ON s.stream_id = c.stream_id
            LEFT JOIN LATERAL (
                -- The pinned event where the checkpoint saw it, found by its position (one key); only when it is not
                -- there, by stream and version among the stream's events (moved or gone).
                SELECT pinned.global_position, pinned.hash FROM event_store.events pinned
                WHERE pinned.global_position = c.global_position AND pinned.stream_id = c.stream_id AND pinned.stream_version = c.version
                UNION ALL
                SELECT moved.global_position, moved.hash FROM event_store.events moved
                WHERE moved.stream_id = c.stream_id AND moved.stream_version = c.version
                LIMIT 1) e ON true
            WHERE s.version IS NULL OR s.version < c.version OR e.hash IS NULL OR encode(e.hash, 'hex') <> c.hash OR e.global_position <> c.global_position
            ORDER BY c.global_position
            """, connection, transaction))
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var (stream, version, position) = (reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2));
                var reason = reader.IsDBNull(4) ? $"the stream is gone: {taken} has it at version {version}"
                    : reader.GetInt64(4) < version ? $"the stream was cut back to version {reader.GetInt64(4)}: {taken} has it at version {version}"
                    : reader.IsDBNull(5) ? $"event {version} is gone: {taken} pins it"
                    : Convert.ToHexStringLower(reader.GetFieldValue<byte[]>(6)) != reader.GetString(3) ? $"history up to event {version} was rewritten: its hash differs from {taken}"
                    : $"event {version} moved from global position {position} to {reader.GetInt64(5)} since {taken}";
                violations.Add(new IntegrityViolation(stream, version, position, reason));
            }
        }

        // A stream with events at or before the checkpoint's head that the checkpoint does not know was put into the past.
        await using (var inserted = new NpgsqlCommand("""
            SELECT e.stream_id, min(e.stream_version), min(e.global_position) FROM event_store.events e
            WHERE e.global_position <= $1 AND NOT EXISTS (SELECT 1 FROM checkpoint_heads c WHERE c.stream_id = e.stream_id)
            GROUP BY e.stream_id ORDER BY min(e.global_position)
            """, connection, transaction))
        {
            inserted.Parameters.Add(new() { Value = checkpoint.HeadPosition });
            await using var reader = await inserted.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                violations.Add(new IntegrityViolation(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2),
                    $"the stream has events at or before position {checkpoint.HeadPosition} but is not in {taken}"));
            }
        }

        return new CheckpointComparison(null, violations);
    }
}

/// <summary>What a comparison with a checkpoint document found: why it is not a checkpoint, or the violations (none: the store extends it).</summary>
public sealed record CheckpointComparison(CheckpointDefect? Defect, IReadOnlyList<IntegrityViolation> Violations);
