using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using CongressWorkflow.EventStore.Resilience;
using CongressWorkflow.EventStore.Telemetry;
using Npgsql;

namespace CongressWorkflow.EventStore.Projections;

public sealed record ProjectionDaemonOptions
{
    /// <summary>How many positions one batch scans (events of other types are skipped without being read).</summary>
    public int BatchSize { get; init; } = 2000;

    /// <summary>How often an idle runner looks for new events, and a waiting node for a free projection.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait before a failed runner tries again (it starts at the poll interval and doubles).</summary>
    public TimeSpan LongestRecoveryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Names this node in the checkpoint table (which node runs which projection).</summary>
    public string NodeId { get; init; } = $"{Environment.MachineName}:{Environment.ProcessId}";
}

/// <summary>
/// Runs asynchronous projections. Each projection has one runner per node; a runner works only while it holds the
/// projection's PostgreSQL advisory lock on its own connection, so across nodes exactly one runs a projection at a
/// time, and when that node dies its connection (and lock) goes and another node takes over from the checkpoint.
/// A batch and its checkpoint commit together. A lost connection is retried; any other error stops the projection
/// with its reason and position until someone resumes or rebuilds it.
/// </summary>
public sealed class ProjectionDaemon : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, long> _lags = new();

    // A meter of this daemon's own: two daemons in one process (tests, or two stores) each report their own lag, and the
    // gauge goes away with its daemon. Listeners subscribe by name, so exporters see it like any CongressWorkflow meter.
    private readonly Meter _meter = new(CongressTelemetry.Name);
    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgresEventStore _store;
    private readonly IReadOnlyList<IProjection> _projections;
    private readonly ProjectionDaemonOptions _options;
    private readonly Action<string, Exception>? _onError;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _runners = [];

    public ProjectionDaemon(NpgsqlDataSource dataSource, PostgresEventStore store, IEnumerable<IProjection> projections,
        ProjectionDaemonOptions? options = null, Action<string, Exception>? onError = null)
    {
        _dataSource = dataSource;
        _store = store;
        _projections = projections.ToList();
        _options = options ?? new ProjectionDaemonOptions();
        _onError = onError;
        _meter.CreateObservableGauge("cw.projections.lag",
            () => _lags.Select(l => new Measurement<long>(l.Value, new KeyValuePair<string, object?>("cw.projection", l.Key))),
            unit: "{event}", description: "Events between the store's head and the projection's checkpoint");
    }

    /// <summary>How far each projection this daemon runs is behind the store's head, as last seen (the cw.projections.lag gauge).</summary>
    public IReadOnlyDictionary<string, long> Lags => _lags;

    private static readonly Histogram<double> BatchDuration = CongressTelemetry.Meter.CreateHistogram<double>(
        "cw.projections.batch.duration", unit: "ms", description: "Time to apply one batch and move the checkpoint");

    public IReadOnlyList<IProjection> Projections => _projections;

    public void Start()
    {
        foreach (var projection in _projections)
        {
            _runners.Add(Task.Run(() => RunAsync(projection, _stopping.Token)));
        }
    }

    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_runners);
        _runners.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
        _meter.Dispose();
    }

    /// <summary>Asks whichever node runs the projection to empty it and replay every event (the others keep running).</summary>
    public static Task RequestRebuildAsync(NpgsqlDataSource dataSource, string projection, CancellationToken cancellationToken = default) =>
        UpdateCheckpointAsync(dataSource, projection, "rebuild_requested = true", cancellationToken);

    /// <summary>Lets a failed projection retry the batch it stopped at (after the cause is fixed).</summary>
    public static Task ResumeAsync(NpgsqlDataSource dataSource, string projection, CancellationToken cancellationToken = default) =>
        UpdateCheckpointAsync(dataSource, projection, "status = 'running', error = NULL, failed_position = NULL", cancellationToken);

    /// <summary>Every projection's checkpoint; a requested rebuild reads as rebuilding from the moment it is asked for, so nobody
    /// takes the old read model's position for the rebuilt one's.</summary>
    public static async Task<IReadOnlyList<ProjectionStatus>> StatusAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT c.projection, c.position, (SELECT coalesce(max(global_position), 0) FROM event_store.events),
                   CASE WHEN c.rebuild_requested THEN 'rebuilding' ELSE c.status END, c.error,
                   c.failed_position, c.owner, c.updated_at
            FROM event_store.projection_checkpoints c ORDER BY c.projection
            """);
        var statuses = new List<ProjectionStatus>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            statuses.Add(new ProjectionStatus(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2),
                Enum.Parse<ProjectionState>(reader.GetString(3), ignoreCase: true), reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetInt64(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetFieldValue<DateTimeOffset>(7)));
        }

        return statuses;
    }

    /// <summary>
    /// One projection's runner: a session holds the projection's lock on its own connection and applies batches; a lost
    /// connection (and with it the lock and any open batch) or anything unforeseen is reported and the session starts
    /// over from the checkpoint after a back-off (<see cref="Recovery"/>); a runner never dies quietly.
    /// </summary>
    private Task RunAsync(IProjection projection, CancellationToken stopping)
    {
        var recovery = new Recovery(_options.PollInterval, _options.LongestRecoveryDelay, e => _onError?.Invoke(projection.Name, e));
        return recovery.RunAsync(async ct =>
        {
            while (!ct.IsCancellationRequested)
            {
                await using var connection = await _dataSource.OpenConnectionAsync(ct);
                if (!await TryLockAsync(connection, projection.Name, ct))
                {
                    recovery.Progressed();
                    await Task.Delay(_options.PollInterval, ct);
                    continue;
                }

                await ClaimAsync(connection, projection.Name, ct);
                await ProcessWhileOwnerAsync(connection, projection, recovery, ct);
            }
        }, stopping);
    }

    private async Task ProcessWhileOwnerAsync(NpgsqlConnection connection, IProjection projection, Recovery recovery, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var (position, state, rebuild) = await ReadCheckpointAsync(connection, projection.Name, stopping);
            recovery.Progressed();
            if (rebuild)
            {
                try
                {
                    await ResetAsync(connection, projection, stopping);
                }
                catch (Exception e) when (!IsTransient(e) && e is not OperationCanceledException)
                {
                    _onError?.Invoke(projection.Name, e);
                    await RecordFailureAsync(connection, projection.Name, new EventPage([], position, position), e, stopping);
                    await ClearRebuildRequestAsync(connection, projection.Name, stopping);
                }

                continue;
            }

            if (state == ProjectionState.Failed)
            {
                await Task.Delay(_options.PollInterval, stopping);
                continue;
            }

            var page = await _store.ReadPageAsync(position, _options.BatchSize, projection.EventTypes, stopping);
            if (page.HeadPosition < position)
            {
                // Positions only grow: a checkpoint beyond the head means events were removed or renumbered under the
                // projection (or the checkpoint was edited). Carrying on would skip every event up to the checkpoint.
                var error = new InvalidOperationException(
                    $"the checkpoint {position} is beyond the store's head {page.HeadPosition}: events were removed or renumbered, or the checkpoint was " +
                    "edited; rebuild the projection once the store is verified");
                _onError?.Invoke(projection.Name, error);
                await RecordFailureAsync(connection, projection.Name, page, error, stopping);
                continue;
            }

            _lags[projection.Name] = Math.Max(0, page.HeadPosition - page.ScannedTo);
            if (page.ScannedTo == position)
            {
                if (state == ProjectionState.Rebuilding)
                {
                    await projection.RebuiltAsync(connection, stopping);
                    await SetStateAsync(connection, projection.Name, ProjectionState.Running, stopping);
                }

                await Task.Delay(_options.PollInterval, stopping);
                continue;
            }

            try
            {
                await ApplyBatchAsync(connection, projection, page, stopping);
            }
            catch (Exception e) when (!IsTransient(e) && e is not OperationCanceledException)
            {
                _onError?.Invoke(projection.Name, e);
                await RecordFailureAsync(connection, projection.Name, page, e, stopping);
            }
        }
    }

    private async Task ApplyBatchAsync(NpgsqlConnection connection, IProjection projection, EventPage page, CancellationToken stopping)
    {
        using var activity = CongressTelemetry.ActivitySource.StartActivity("projection.apply");
        activity?.SetTag("cw.projection", projection.Name);
        activity?.SetTag("cw.event_count", page.Events.Count);
        var started = Stopwatch.GetTimestamp();
        await using var transaction = await connection.BeginTransactionAsync(stopping);
        if (page.Events.Count > 0)
        {
            await projection.ApplyAsync(connection, transaction, page.Events, stopping);
        }

        await using (var checkpoint = new NpgsqlCommand(
            "UPDATE event_store.projection_checkpoints SET position = $2, updated_at = now() WHERE projection = $1 AND position <= $2", connection, transaction))
        {
            checkpoint.Parameters.Add(new() { Value = projection.Name });
            checkpoint.Parameters.Add(new() { Value = page.ScannedTo });
            if (await checkpoint.ExecuteNonQueryAsync(stopping) != 1)
            {
                // The batch is rolled back with it: a checkpoint only moves forward (a rebuild resets it on purpose).
                throw new InvalidOperationException($"the checkpoint of {projection.Name} is already beyond {page.ScannedTo}: it never moves backwards");
            }
        }

        await transaction.CommitAsync(stopping);
        BatchDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, new KeyValuePair<string, object?>("cw.projection", projection.Name));
    }

    private async Task ResetAsync(NpgsqlConnection connection, IProjection projection, CancellationToken stopping)
    {
        await using var transaction = await connection.BeginTransactionAsync(stopping);
        await projection.ResetAsync(connection, transaction, stopping);
        await using (var reset = new NpgsqlCommand("""
            UPDATE event_store.projection_checkpoints
            SET position = 0, status = 'rebuilding', error = NULL, failed_position = NULL, rebuild_requested = false, updated_at = now()
            WHERE projection = $1
            """, connection, transaction))
        {
            reset.Parameters.Add(new() { Value = projection.Name });
            await reset.ExecuteNonQueryAsync(stopping);
        }

        await transaction.CommitAsync(stopping);
    }

    private static async Task RecordFailureAsync(NpgsqlConnection connection, string name, EventPage page, Exception error, CancellationToken stopping)
    {
        await using var command = new NpgsqlCommand("""
            UPDATE event_store.projection_checkpoints
            SET status = 'failed', error = $2, failed_position = $3, updated_at = now() WHERE projection = $1
            """, connection);
        command.Parameters.Add(new() { Value = name });
        var first = page.Events.Count > 0 ? page.Events[0].GlobalPosition : page.ScannedTo;
        command.Parameters.Add(new() { Value = $"{error.GetType().Name}: {error.Message} (in the batch {first}–{page.ScannedTo})" });
        command.Parameters.Add(new() { Value = first });
        await command.ExecuteNonQueryAsync(stopping);
    }

    private static async Task ClearRebuildRequestAsync(NpgsqlConnection connection, string name, CancellationToken stopping)
    {
        await using var command = new NpgsqlCommand("UPDATE event_store.projection_checkpoints SET rebuild_requested = false WHERE projection = $1", connection);
        command.Parameters.Add(new() { Value = name });
        await command.ExecuteNonQueryAsync(stopping);
    }

    private static async Task<(long Position, ProjectionState State, bool Rebuild)> ReadCheckpointAsync(NpgsqlConnection connection, string name, CancellationToken stopping)
    {
        await using var command = new NpgsqlCommand(
            "SELECT position, status, rebuild_requested FROM event_store.projection_checkpoints WHERE projection = $1", connection);
        command.Parameters.Add(new() { Value = name });
        await using var reader = await command.ExecuteReaderAsync(stopping);
        await reader.ReadAsync(stopping);
        return (reader.GetInt64(0), Enum.Parse<ProjectionState>(reader.GetString(1), ignoreCase: true), reader.GetBoolean(2));
    }

    private async Task ClaimAsync(NpgsqlConnection connection, string name, CancellationToken stopping)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO event_store.projection_checkpoints (projection, owner) VALUES ($1, $2)
            ON CONFLICT (projection) DO UPDATE SET owner = excluded.owner, updated_at = now()
            """, connection);
        command.Parameters.Add(new() { Value = name });
        command.Parameters.Add(new() { Value = _options.NodeId });
        await command.ExecuteNonQueryAsync(stopping);
    }

    private static async Task SetStateAsync(NpgsqlConnection connection, string name, ProjectionState state, CancellationToken stopping)
    {
        await using var command = new NpgsqlCommand(
            "UPDATE event_store.projection_checkpoints SET status = $2, updated_at = now() WHERE projection = $1", connection);
        command.Parameters.Add(new() { Value = name });
        command.Parameters.Add(new() { Value = state.ToString().ToLowerInvariant() });
        await command.ExecuteNonQueryAsync(stopping);
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection connection, string name, CancellationToken stopping)
    {
        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtextextended('projection:' || $1, 0))", connection);
        command.Parameters.Add(new() { Value = name });
        return (bool)(await command.ExecuteScalarAsync(stopping))!;
    }

    private static async Task UpdateCheckpointAsync(NpgsqlDataSource dataSource, string projection, string set, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"UPDATE event_store.projection_checkpoints SET {set}, updated_at = now() WHERE projection = $1");
        command.Parameters.Add(new() { Value = projection });
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            throw new EventStoreException("unknown-projection", $"no projection '{projection}' has run yet");
        }
    }

    /// <summary>A broken or terminated connection, a deadlock or a serialization failure: worth trying again.</summary>
    private static bool IsTransient(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState is "57P01" or "57P02" or "57P03" or "40001" or "40P01",
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or System.Net.Sockets.SocketException || npgsql is not PostgresException,
        _ => false,
    };
}
