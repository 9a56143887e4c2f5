using Npgsql;

namespace CongressWorkflow.Engine.Commands;

/// <summary>The first answer to a command sent with an idempotency key.</summary>
public sealed record IdempotentAnswer(byte[] RequestHash, string StreamId, long Version, IReadOnlyList<string> Events, int? Status, string? Body);

/// <summary>The same key was used again before its first use committed or after it: the first answer stands.</summary>
public sealed class IdempotentReplayException(string key) : Exception($"idempotency key '{key}' was used already")
{
    public string Key { get; } = key;
}

/// <summary>
/// The idempotency key of the request being handled (ambient, set by the API for one command). The pipeline records it
/// in the command's transaction; a second writer of the same key waits for the first to commit, then appends nothing.
/// </summary>
public sealed class IdempotencyScope(string userId, string key, byte[] requestHash, TimeSpan retention)
{
    private static readonly AsyncLocal<IdempotencyScope?> Ambient = new();

    public static IdempotencyScope? Current
    {
        get => Ambient.Value;
        set => Ambient.Value = value;
    }

    public string UserId { get; } = userId;

    public string Key { get; } = key;

    public byte[] RequestHash { get; } = requestHash;

    /// <summary>Keys older than this are forgotten: a new use starts afresh.</summary>
    public TimeSpan Retention { get; } = retention;

    /// <summary>Set once the key's transaction commits, so one request's key guards its first write only (a retried attempt records it again).</summary>
    public bool Recorded { get; private set; }

    public void MarkRecorded() => Recorded = true;

    /// <summary>Records the key with what the command wrote, inside its transaction; throws <see cref="IdempotentReplayException"/> for a live duplicate.</summary>
    public async Task RecordAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string streamId, long version, IReadOnlyList<string> events, CancellationToken cancellationToken)
    {
        if (Recorded)
        {
            return;
        }

        await using var command = new NpgsqlCommand("""
            INSERT INTO congress.idempotency_keys (user_id, key, request_hash, stream_id, version, events)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (user_id, key) DO UPDATE
                SET request_hash = excluded.request_hash, stream_id = excluded.stream_id, version = excluded.version, events = excluded.events,
                    response_status = NULL, response_body = NULL, created_at = now()
                WHERE congress.idempotency_keys.created_at < now() - $7
            RETURNING 1
            """, connection, transaction);
        command.Parameters.Add(new() { Value = UserId });
        command.Parameters.Add(new() { Value = Key });
        command.Parameters.Add(new() { Value = RequestHash });
        command.Parameters.Add(new() { Value = streamId });
        command.Parameters.Add(new() { Value = version });
        command.Parameters.Add(new() { Value = events.ToArray() });
        command.Parameters.Add(new() { Value = Retention });
        if (await command.ExecuteScalarAsync(cancellationToken) is null)
        {
            throw new IdempotentReplayException(Key);
        }
    }

    /// <summary>The live first answer under a key, if any.</summary>
    public static async Task<IdempotentAnswer?> FindAsync(NpgsqlDataSource dataSource, string userId, string key, TimeSpan retention, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT request_hash, stream_id, version, events, response_status, response_body FROM congress.idempotency_keys
            WHERE user_id = $1 AND key = $2 AND created_at >= now() - $3
            """);
        command.Parameters.Add(new() { Value = userId });
        command.Parameters.Add(new() { Value = key });
        command.Parameters.Add(new() { Value = retention });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new IdempotentAnswer(reader.GetFieldValue<byte[]>(0), reader.GetString(1), reader.GetInt64(2), reader.GetFieldValue<string[]>(3),
                reader.IsDBNull(4) ? null : reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetString(5))
            : null;
    }

    /// <summary>Keeps the full HTTP answer next to the key once it is known (after the commit; the core answer is there already).</summary>
    public static async Task SaveResponseAsync(NpgsqlDataSource dataSource, string userId, string key, int status, string body, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE congress.idempotency_keys SET response_status = $3, response_body = $4 WHERE user_id = $1 AND key = $2");
        command.Parameters.Add(new() { Value = userId });
        command.Parameters.Add(new() { Value = key });
        command.Parameters.Add(new() { Value = status });
        command.Parameters.Add(new() { Value = body });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
