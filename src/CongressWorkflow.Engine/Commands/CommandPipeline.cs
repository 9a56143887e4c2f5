using System.Diagnostics;
using System.Diagnostics.Metrics;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Telemetry;
using Npgsql;

namespace CongressWorkflow.Engine.Commands;

/// <summary>A command the domain rejected: nothing was written.</summary>
public sealed class CommandRejectedException(DomainError error) : Exception(error.Message)
{
    public DomainError Error { get; } = error;

    public string Code => Error.Code;
}

/// <summary>What a handled command did: the stream, its version now, the events appended (none for a no-op).</summary>
public sealed record CommandResult(string StreamId, long Version, IReadOnlyList<object> Events);

/// <summary>Writes inline read-model rows for the decided events, inside the append's transaction (the context gives who and the business time).</summary>
public delegate Task InlineProjection<in TState>(
    NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<object> events, TState stateAfter, long versionAfter, CommandContext context);

/// <summary>What became of one command of a batch: its result, or the rule that refused it (nothing of it was written).</summary>
public sealed record BatchOutcome(CommandResult? Result, DomainError? Refusal);

/// <summary>A stream a batched command changed: its events, its state and version after them, and who acted.</summary>
public sealed record BatchWrite<TState>(string StreamId, IReadOnlyList<object> Events, TState StateAfter, long VersionAfter, CommandContext Context, EventMetadata Metadata);

/// <summary>Decided events for one stream, waiting to be written with others in one transaction.</summary>
public sealed record PendingWrite(
    string StreamId, string StreamType, long VersionBefore, IReadOnlyList<object> Events,
    Func<NpgsqlConnection, NpgsqlTransaction, IReadOnlyList<object>, long, CommandContext, Task> Inline);

/// <summary>
/// The command's own connection and transaction, open while it decides: facts read through it (under the locks the
/// reading takes) cannot change before the command commits.
/// </summary>
public sealed record CommandSession(NpgsqlConnection Connection, NpgsqlTransaction Transaction);

/// <summary>
/// One aggregate's stream and Decider, as the pipeline needs them, the partition of the events table a new stream
/// goes into, from its state after its first events (none: the shared partition), and the shape its state is kept in
/// as a snapshot at each write (none: every load folds the whole stream).
/// </summary>
public sealed record AggregateDefinition<TState>(
    string StreamType, TState Initial, Func<TState, object, TState> Evolve, Func<TState, string>? PartitionOf = null, SnapshotShape? Snapshots = null);

/// <summary>
/// The application layer: load a stream, decide, then in one transaction write the inline read models and append
/// the events at the version that was read (or that the caller expected).
/// </summary>
public sealed class CommandPipeline(PostgresEventStore store, NpgsqlDataSource dataSource)
{
    private static readonly Counter<long> Handled = CongressTelemetry.Meter.CreateCounter<long>(
        "cw.commands.handled", unit: "{command}", description: "Commands handled, by outcome");

    public PostgresEventStore Store => store;

    public NpgsqlDataSource DataSource => dataSource;

    public async Task<(TState State, long Version)> LoadAsync<TState>(AggregateDefinition<TState> aggregate, string streamId, CancellationToken cancellationToken)
    {
        var loaded = await store.AggregateStreamsAsync([streamId], aggregate.Initial, aggregate.Evolve, cancellationToken: cancellationToken,
            snapshots: aggregate.Snapshots);
        return (loaded[streamId].State, loaded[streamId].Version);
    }

    /// <summary>A command deciding on its stream alone (no facts from elsewhere).</summary>
    public Task<CommandResult> ExecuteAsync<TState>(
        string commandName,
        AggregateDefinition<TState> aggregate,
        string streamId,
        CommandContext context,
        long? expectedVersion,
        Func<TState, Task<Decision>> decide,
        InlineProjection<TState>? inline = null,
        Guid? correlationId = null,
        CancellationToken cancellationToken = default) =>
        ExecuteAsync(commandName, aggregate, streamId, context, expectedVersion, (state, _) => decide(state), inline, correlationId, cancellationToken);

    /// <summary>How often a command sent without If-Match is decided again when another write got to its stream first.</summary>
    public const int MaxAttemptsWithoutExpectedVersion = 16;

    /// <summary>
    /// Loads the stream, opens the command's transaction, decides (reading any other facts through the session), and
    /// in that same transaction writes the inline read models, the idempotency key and the events, then
    /// whatever <paramref name="afterAppend"/> writes in consequence (after the command's own events, so they come first). Without
    /// an expected version from the caller, a write that lands on the stream in between makes it load and decide again
    /// (a few times) rather than answer with a conflict the caller never asked to hear about.
    /// </summary>
    public async Task<CommandResult> ExecuteAsync<TState>(
        string commandName,
        AggregateDefinition<TState> aggregate,
        string streamId,
        CommandContext context,
        long? expectedVersion,
        Func<TState, CommandSession, Task<Decision>> decide,
        InlineProjection<TState>? inline = null,
        Guid? correlationId = null,
        CancellationToken cancellationToken = default,
        Func<CommandSession, TState, EventMetadata, Task>? afterAppend = null)
    {
        using var activity = CongressTelemetry.ActivitySource.StartActivity("command." + commandName);
        activity?.SetTag("cw.stream_id", streamId);
        activity?.SetTag("cw.actor_org", context.OrganizationId);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await AttemptAsync();
            }
            catch (ConcurrencyException) when (expectedVersion is null && attempt < MaxAttemptsWithoutExpectedVersion)
            {
                await BackOffAsync(activity, attempt, cancellationToken);
            }
            catch (Exception e) when (e is CommandRejectedException or EventStoreException)
            {
                activity?.SetStatus(ActivityStatusCode.Error, (e as CommandRejectedException)?.Code ?? ((EventStoreException)e).Code);
                Count(commandName, "rejected");
                throw;
            }
        }

        // One load, decision and write in the command's own transaction; the loop above retries it.
        async Task<CommandResult> AttemptAsync()
        {
            var (state, version) = await LoadAsync(aggregate, streamId, cancellationToken);
            if (expectedVersion is { } expected && expected != version)
            {
                throw new ConcurrencyException(streamId, ExpectedVersion.Exactly(expected), version);
            }

            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var events = await decide(state, new CommandSession(connection, transaction)) switch
            {
                Decision.Accepted accepted => accepted.Events,
                Decision.Rejected rejected => throw new CommandRejectedException(rejected.Error),
                _ => throw new UnreachableException(),
            };
            if (events.Count == 0)
            {
                Count(commandName, "unchanged");
                return new CommandResult(streamId, version, events);
            }

            var stateAfter = events.Aggregate(state, aggregate.Evolve);
            var metadata = new EventMetadata(new Actor(context.UserId, context.Role, context.OrganizationId), correlationId ?? Guid.NewGuid());
            if (inline is not null)
            {
                try
                {
                    await inline(connection, transaction, events, stateAfter, version + events.Count, context);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
                {
                    // A read-model row that another writer of this stream committed meanwhile (two registrations of one id
                    // at once): the stream's version tells, and the command is decided again like any stale one. Any
                    // other duplicate is a fault and stays one.
                    if ((await store.GetStreamAsync(streamId, cancellationToken))?.Version is { } actual && actual != version)
                    {
                        throw new ConcurrencyException(streamId, ExpectedVersion.Exactly(version), actual, e);
                    }

                    throw;
                }
            }

            // The key first: a concurrent duplicate waits here for the first to commit, then appends nothing.
            if (IdempotencyScope.Current is { } idempotency)
            {
                await idempotency.RecordAsync(connection, transaction, streamId, version + events.Count,
                    [.. events.Select(e => store.Registry.Describe(e.GetType()).Name)], cancellationToken);
            }

            var result = await store.AppendAsync(connection, transaction, streamId, aggregate.StreamType, ExpectedVersion.Exactly(version),
                events.Select(NewEvent.WithNewId).ToList(), metadata, cancellationToken: cancellationToken, partition: aggregate.PartitionOf?.Invoke(stateAfter));
            if (aggregate.Snapshots is { } shape)
            {
                await store.WriteSnapshotsAsync(connection, transaction, shape, [new Snapshot<TState>(streamId, result.StreamVersion, stateAfter)], cancellationToken);
            }

            if (afterAppend is not null)
            {
                await afterAppend(new CommandSession(connection, transaction), stateAfter, metadata);
            }

            await transaction.CommitAsync(cancellationToken);
            IdempotencyScope.Current?.MarkRecorded();
            Count(commandName, "accepted");
            return new CommandResult(streamId, result.StreamVersion, events);
        }
    }

    /// <summary>
    /// Many commands, one per stream, each with its own actor, in one transaction: the streams are read in it, all are
    /// decided together (<paramref name="decideAll"/> reads the facts they need through the session, for all of them at
    /// once), the accepted ones' inline read models are written together, their events appended through the store's
    /// bulk path at the versions read, then whatever <paramref name="afterAppend"/> writes
    /// in consequence. A refused command writes nothing and does not stop the others. A write that lands on one of the
    /// streams meanwhile makes the whole batch read and decide again (a few times). The path for a simulation's days.
    /// </summary>
    public async Task<IReadOnlyList<BatchOutcome>> ExecuteBatchAsync<TState>(
        string commandName,
        AggregateDefinition<TState> aggregate,
        IReadOnlyList<(string StreamId, CommandContext Context)> commands,
        Func<IReadOnlyList<TState>, CommandSession, Task<IReadOnlyList<Decision>>> decideAll,
        Func<NpgsqlConnection, NpgsqlTransaction, IReadOnlyList<BatchWrite<TState>>, Task> inlineAll,
        Func<CommandSession, IReadOnlyList<BatchWrite<TState>>, Task>? afterAppend = null,
        CancellationToken cancellationToken = default)
    {
        using var activity = CongressTelemetry.ActivitySource.StartActivity("command." + commandName);
        activity?.SetTag("cw.command_count", commands.Count);
        if (commands.Select(c => c.StreamId).Distinct(StringComparer.Ordinal).Count() != commands.Count)
        {
            throw new ArgumentException("a batch has one command per stream", nameof(commands));
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await AttemptAsync();
            }
            catch (ConcurrencyException) when (attempt < MaxAttemptsWithoutExpectedVersion)
            {
                await BackOffAsync(activity, attempt, cancellationToken);
            }
        }

        async Task<IReadOnlyList<BatchOutcome>> AttemptAsync()
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var loaded = await store.AggregateStreamsAsync([.. commands.Select(c => c.StreamId)], aggregate.Initial, aggregate.Evolve, connection, transaction,
                cancellationToken, aggregate.Snapshots);
            var before = commands.Select(c => loaded[c.StreamId]).ToList();
            var decisions = await decideAll([.. before.Select(b => b.State)], new CommandSession(connection, transaction));
            var outcomes = new BatchOutcome[commands.Count];
            var writes = new List<BatchWrite<TState>>();
            for (var i = 0; i < commands.Count; i++)
            {
                var (streamId, context) = commands[i];
                switch (decisions[i])
                {
                    case Decision.Rejected rejected:
                        outcomes[i] = new BatchOutcome(null, rejected.Error);
                        break;
                    case Decision.Accepted { Events.Count: 0 }:
                        outcomes[i] = new BatchOutcome(new CommandResult(streamId, before[i].Version, []), null);
                        break;
                    case Decision.Accepted accepted:
                        var after = accepted.Events.Aggregate(before[i].State, aggregate.Evolve);
                        var metadata = new EventMetadata(new Actor(context.UserId, context.Role, context.OrganizationId), Guid.NewGuid());
                        writes.Add(new BatchWrite<TState>(streamId, accepted.Events, after, before[i].Version + accepted.Events.Count, context, metadata));
                        outcomes[i] = new BatchOutcome(new CommandResult(streamId, before[i].Version + accepted.Events.Count, accepted.Events), null);
                        break;
                    default:
                        throw new UnreachableException();
                }
            }

            if (writes.Count > 0)
            {
                await inlineAll(connection, transaction, writes);
                await store.AppendInBulkAsync(connection, transaction, writes.Select(w => new BulkStreamAppend(
                    new StreamAppend(w.StreamId, aggregate.StreamType, ExpectedVersion.Exactly(w.VersionAfter - w.Events.Count),
                        [.. w.Events.Select(NewEvent.WithNewId)], Partition: aggregate.PartitionOf?.Invoke(w.StateAfter)),
                    w.Metadata)), cancellationToken);
                if (aggregate.Snapshots is { } shape)
                {
                    await store.WriteSnapshotsAsync(connection, transaction, shape, [.. writes.Select(w => new Snapshot<TState>(w.StreamId, w.VersionAfter, w.StateAfter))],
                        cancellationToken);
                }

                if (afterAppend is not null)
                {
                    await afterAppend(new CommandSession(connection, transaction), writes);
                }
            }

            await transaction.CommitAsync(cancellationToken);
            Count(commandName, "accepted", writes.Count);
            Count(commandName, "rejected", outcomes.Count(o => o.Refusal is not null));
            return outcomes;
        }
    }

    /// <summary>
    /// Many writes in one transaction (an import). New streams may be given apart, with one inline projection for all
    /// of them: they are appended through the store's bulk path (binary COPY), then projected; the other writes follow,
    /// each with its own inline projection and an append at its expected version. Appending first makes a writer that
    /// created one of the streams meanwhile a concurrency conflict of the store's, not a duplicate row of a read model.
    /// </summary>
    public async Task AppendAllAsync(IReadOnlyList<PendingWrite> writes, CommandContext context, Guid correlationId, CancellationToken cancellationToken = default,
        IReadOnlyList<PendingWrite>? newStreams = null, Func<NpgsqlConnection, NpgsqlTransaction, IReadOnlyList<PendingWrite>, Task>? projectNewStreams = null)
    {
        newStreams ??= [];
        using var activity = CongressTelemetry.ActivitySource.StartActivity("command.append-all");
        activity?.SetTag("cw.stream_count", writes.Count + newStreams.Count);
        var metadata = new EventMetadata(new Actor(context.UserId, context.Role, context.OrganizationId), correlationId);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (IdempotencyScope.Current is { } idempotency && writes.Concat(newStreams).FirstOrDefault() is { } first)
        {
            await idempotency.RecordAsync(connection, transaction, first.StreamId, first.VersionBefore + first.Events.Count,
                [.. writes.Concat(newStreams).SelectMany(w => w.Events).Select(e => store.Registry.Describe(e.GetType()).Name).Distinct()], cancellationToken);
        }

        if (newStreams.Count > 0)
        {
            await store.AppendNewStreamsAsync(connection, transaction, newStreams.Select(w => new StreamAppend(w.StreamId, w.StreamType, ExpectedVersion.NoStream,
                [.. w.Events.Select(NewEvent.WithNewId)])), metadata, cancellationToken);
            await projectNewStreams!(connection, transaction, newStreams);
        }

        foreach (var write in writes)
        {
            await write.Inline(connection, transaction, write.Events, write.VersionBefore + write.Events.Count, context);
        }

        foreach (var write in writes)
        {
            await store.AppendAsync(connection, transaction, write.StreamId, write.StreamType, ExpectedVersion.Exactly(write.VersionBefore),
                write.Events.Select(NewEvent.WithNewId).ToList(), metadata, cancellationToken: cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        IdempotencyScope.Current?.MarkRecorded();
    }

    /// <summary>Before deciding again after losing a race: backing off with jitter spreads the writers that lost so that one of them wins each round.</summary>
    internal static Task BackOffAsync(Activity? activity, int attempt, CancellationToken cancellationToken)
    {
        activity?.AddEvent(new ActivityEvent("command.redecide"));
        return Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 2 << Math.Min(attempt, 6))), cancellationToken);
    }

    private static void Count(string command, string outcome, long commands = 1) =>
        Handled.Add(commands, new KeyValuePair<string, object?>("cw.command", command), new KeyValuePair<string, object?>("cw.outcome", outcome));
}
