using System.Diagnostics;
using CongressWorkflow.EventStore.Telemetry;
using Npgsql;

namespace CongressWorkflow.EventStore.Outbox;

/// <summary>How a dispatcher claims and retries: the lease a claim holds, the attempts before a dead letter, the back-off.</summary>
public sealed record OutboxDispatcherOptions
{
    /// <summary>How long a claimed message is reserved for its worker; past it another worker may take it.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Attempts before the message is dead-lettered.</summary>
    public int MaxAttempts { get; init; } = 6;

    /// <summary>The wait before attempt n + 1 after n failed attempts (default: exponential from one minute, with jitter).</summary>
    public Func<int, TimeSpan> Backoff { get; init; } = OutboxDispatcher.ExponentialBackoffWithJitter;

    /// <summary>Names the worker in the lease (which node holds which message).</summary>
    public string WorkerId { get; init; } = $"{Environment.MachineName}:{Environment.ProcessId}";
}

/// <summary>What became of one delivery attempt.</summary>
public enum DeliveryOutcome
{
    Delivered,
    WillRetry,
    DeadLettered,
}

/// <summary>One attempt's result, for the caller to record alongside (in the same transaction as the outbox update).</summary>
public sealed record DeliveryAttempt(PendingOutboxMessage Message, DeliveryOutcome Outcome, string? Error, DateTimeOffset At, DateTimeOffset? RetryAt);

/// <summary>
/// Drains the outbox. A claim leases due messages of some destinations with FOR UPDATE SKIP LOCKED (so several nodes
/// share the work without taking the same message) and commits at once; the messages are then delivered outside any
/// transaction, and the batch's outcomes are written in one short transaction: delivered, retried later with
/// back-off, or dead-lettered after the last attempt. A worker that dies mid-delivery leaves a lease that runs out, and the
/// message goes out again: delivery is at least once, and consumers de-duplicate on the message id.
/// Time (due, leases, back-off) comes from the TimeProvider, so tests run days of retries without sleeping.
/// </summary>
public sealed class OutboxDispatcher(NpgsqlDataSource dataSource, TimeProvider timeProvider, OutboxDispatcherOptions? options = null)
{
    private readonly OutboxDispatcherOptions _options = options ?? new OutboxDispatcherOptions();

    /// <summary>Exponential from one minute (1, 2, 4 … minutes, at most six hours), each wait drawn between half and all of it.</summary>
    public static TimeSpan ExponentialBackoffWithJitter(int failedAttempts)
    {
        var ceiling = Math.Min(TimeSpan.FromHours(6).TotalSeconds, 60 * Math.Pow(2, Math.Max(0, failedAttempts - 1)));
        return TimeSpan.FromSeconds(ceiling * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    /// <summary>Claims and delivers one batch; returns how many messages it attempted.</summary>
    /// <param name="record">Writes the caller's own record of the outcomes in the transaction that settles them.</param>
    public async Task<int> DispatchBatchAsync(
        IReadOnlyCollection<string> destinations,
        Func<PendingOutboxMessage, CancellationToken, Task> deliver,
        Func<NpgsqlConnection, NpgsqlTransaction, IReadOnlyList<DeliveryAttempt>, CancellationToken, Task>? record = null,
        int batchSize = 50,
        CancellationToken cancellationToken = default)
    {
        var claimed = await ClaimAsync(destinations, batchSize, cancellationToken);
        var attempts = new List<DeliveryAttempt>(claimed.Count);
        try
        {
            foreach (var message in claimed)
            {
                attempts.Add(await AttemptAsync(message, deliver, cancellationToken));
            }
        }
        finally
        {
            // What was attempted is settled even when stopping; a message whose attempt was cut short keeps its lease
            // until it runs out and then goes out again.
            await SettleAsync(attempts, record, CancellationToken.None);
        }

        return claimed.Count;
    }

    private async Task<DeliveryAttempt> AttemptAsync(
        PendingOutboxMessage message, Func<PendingOutboxMessage, CancellationToken, Task> deliver, CancellationToken cancellationToken)
    {
        using var activity = CongressTelemetry.ActivitySource.StartActivity("outbox.deliver");
        activity?.SetTag("cw.destination", message.Destination);
        activity?.SetTag("cw.message_type", message.MessageType);
        activity?.SetTag("cw.message_id", message.MessageId);
        try
        {
            await deliver(message, cancellationToken);
            CongressTelemetry.OutboxDelivered.Add(1, new KeyValuePair<string, object?>("cw.destination", message.Destination));
            return new DeliveryAttempt(message, DeliveryOutcome.Delivered, null, timeProvider.GetUtcNow(), null);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            var now = timeProvider.GetUtcNow();
            var attempt = message.Attempts >= _options.MaxAttempts
                ? new DeliveryAttempt(message, DeliveryOutcome.DeadLettered, e.Message, now, null)
                : new DeliveryAttempt(message, DeliveryOutcome.WillRetry, e.Message, now, now + _options.Backoff(message.Attempts));
            CongressTelemetry.OutboxFailed.Add(1, new KeyValuePair<string, object?>("cw.destination", message.Destination),
                new KeyValuePair<string, object?>("cw.outcome", attempt.Outcome.ToString()));
            return attempt;
        }
    }

    /// <summary>Puts dead-lettered messages back in line, as if new; returns how many it found.</summary>
    public async Task<int> RedeliverAsync(IReadOnlyCollection<Guid> messageIds, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE event_store.outbox SET dead_at = NULL, attempts = 0, last_error = NULL, locked_until = NULL, locked_by = NULL, available_at = $2
            WHERE message_id = ANY($1) AND dead_at IS NOT NULL
            """);
        command.Parameters.AddPositional(messageIds.ToArray(), timeProvider.GetUtcNow());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Leases the oldest messages due for the destinations. Each destination's are taken in the order of its pending
    /// index (one ordered scan each, however many are waiting), then merged: a sort over every pending message of
    /// several destinations took 300 ms a claim with 300,000 waiting.
    /// </summary>
    private async Task<List<PendingOutboxMessage>> ClaimAsync(IReadOnlyCollection<string> destinations, int batchSize, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        await using var command = dataSource.CreateCommand("""
            UPDATE event_store.outbox o SET locked_until = $1 + $4::interval, locked_by = $5, attempts = o.attempts + 1
            WHERE o.id IN (
                SELECT p.id
                FROM unnest($2::text[]) AS d(destination)
                CROSS JOIN LATERAL (
                    SELECT id, available_at FROM event_store.outbox
                    WHERE destination = d.destination AND delivered_at IS NULL AND dead_at IS NULL AND available_at <= $1
                      AND (locked_until IS NULL OR locked_until <= $1)
                    ORDER BY available_at, id
                    LIMIT $3
                    FOR UPDATE SKIP LOCKED) p
                ORDER BY p.available_at, p.id
                LIMIT $3)
            RETURNING o.id, o.message_id, o.destination, o.message_type, o.payload::text, o.correlation_id, o.created_at, o.attempts
            """);
        command.Parameters.AddPositional(now, destinations.ToArray(), batchSize, _options.Lease, _options.WorkerId);
        var claimed = new List<PendingOutboxMessage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new PendingOutboxMessage(
                reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetGuid(5), reader.GetFieldValue<DateTimeOffset>(6), reader.GetInt32(7)));
        }

        return [.. claimed.OrderBy(m => m.Id)];
    }

    /// <summary>Writes the outcomes of a batch in one transaction (one commit for the batch, not one per message).</summary>
    private async Task SettleAsync(
        List<DeliveryAttempt> attempts, Func<NpgsqlConnection, NpgsqlTransaction, IReadOnlyList<DeliveryAttempt>, CancellationToken, Task>? record,
        CancellationToken cancellationToken)
    {
        if (attempts.Count == 0)
        {
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            foreach (var attempt in attempts)
            {
                var settle = new NpgsqlBatchCommand(attempt.Outcome switch
                {
                    DeliveryOutcome.Delivered =>
                        "UPDATE event_store.outbox SET delivered_at = $2, last_error = NULL, locked_until = NULL, locked_by = NULL WHERE id = $1",
                    DeliveryOutcome.WillRetry =>
                        "UPDATE event_store.outbox SET available_at = $3, last_error = $4, locked_until = NULL, locked_by = NULL WHERE id = $1",
                    _ => "UPDATE event_store.outbox SET dead_at = $2, last_error = $4, locked_until = NULL, locked_by = NULL WHERE id = $1",
                });
                settle.Parameters.AddPositional(attempt.Message.Id, attempt.At, attempt.RetryAt ?? attempt.At, attempt.Error ?? string.Empty);
                batch.BatchCommands.Add(settle);
            }

            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        if (record is not null)
        {
            await record(connection, transaction, attempts, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }
}
