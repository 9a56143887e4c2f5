using System.Diagnostics;
using CongressWorkflow.EventStore.Telemetry;
using Npgsql;

namespace CongressWorkflow.EventStore.Outbox;

/// <summary>
/// Drains the outbox: claims due messages with FOR UPDATE SKIP LOCKED (so several nodes share the work without
/// taking the same message), delivers each, and marks it delivered or schedules a retry with back-off, all in the
/// claiming transaction. A crash mid-batch rolls the claim back and the messages are delivered again later:
/// delivery is at least once, and consumers de-duplicate on the message id.
/// </summary>
public sealed class OutboxDispatcher(NpgsqlDataSource dataSource, TimeProvider timeProvider)
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromHours(1);

    public async Task<int> DispatchBatchAsync(
        Func<PendingOutboxMessage, CancellationToken, Task> deliver, int batchSize = 50, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var now = timeProvider.GetUtcNow().ToUniversalTime();
        var claimed = new List<PendingOutboxMessage>();
        await using (var claim = new NpgsqlCommand("""
            SELECT id, message_id, destination, message_type, payload::text, correlation_id, created_at, attempts
            FROM event_store.outbox
            WHERE delivered_at IS NULL AND available_at <= $1
            ORDER BY available_at, id
            LIMIT $2
            FOR UPDATE SKIP LOCKED
            """, connection, transaction))
        {
            claim.Parameters.Add(new() { Value = now });
            claim.Parameters.Add(new() { Value = batchSize });
            await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                claimed.Add(new PendingOutboxMessage(
                    reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    reader.IsDBNull(5) ? null : reader.GetGuid(5), reader.GetFieldValue<DateTimeOffset>(6), reader.GetInt32(7)));
            }
        }

        foreach (var message in claimed)
        {
            using var activity = CongressTelemetry.ActivitySource.StartActivity("outbox.deliver");
            activity?.SetTag("cw.destination", message.Destination);
            activity?.SetTag("cw.message_type", message.MessageType);
            try
            {
                await deliver(message, cancellationToken);
                await UpdateAsync(connection, transaction,
                    "UPDATE event_store.outbox SET delivered_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1",
                    message.Id, now, cancellationToken);
                CongressTelemetry.OutboxDelivered.Add(1, new KeyValuePair<string, object?>("cw.destination", message.Destination));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                activity?.SetStatus(ActivityStatusCode.Error, e.Message);
                var retryAt = now + Backoff(message.Attempts + 1);
                await UpdateAsync(connection, transaction,
                    "UPDATE event_store.outbox SET attempts = attempts + 1, last_error = $3, available_at = $2 WHERE id = $1",
                    message.Id, retryAt, cancellationToken, e.Message);
                CongressTelemetry.OutboxFailed.Add(1, new KeyValuePair<string, object?>("cw.destination", message.Destination));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return claimed.Count;
    }

    /// <summary>5 s, 10 s, 20 s … doubling per failed attempt, at most an hour.</summary>
    public static TimeSpan Backoff(int attempts) =>
        TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, 5 * Math.Pow(2, Math.Max(0, attempts - 1))));

    private static async Task UpdateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, long id, DateTimeOffset at,
        CancellationToken cancellationToken, string? error = null)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = at });
        if (error is not null)
        {
            command.Parameters.Add(new() { Value = error });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
