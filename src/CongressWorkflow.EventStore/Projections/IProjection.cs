using Npgsql;

namespace CongressWorkflow.EventStore.Projections;

/// <summary>
/// An asynchronous read model. The daemon hands it events in global order, in batches, inside a transaction that
/// also moves its checkpoint: whatever it writes with the given connection lands exactly once per event.
/// </summary>
public interface IProjection
{
    /// <summary>Stable name: the checkpoint's key.</summary>
    string Name { get; }

    /// <summary>
    /// Applies a batch (only the events whose types it declared, in global order). An event it cannot apply must
    /// throw: the daemon stops this projection and reports the reason rather than skip.
    /// </summary>
    Task ApplyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<RecordedEvent> events, CancellationToken cancellationToken);

    /// <summary>Empties the read model, for a rebuild from position zero.</summary>
    Task ResetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken);

    /// <summary>The stored event types it reads; null for all.</summary>
    IReadOnlySet<string>? EventTypes { get; }

    /// <summary>
    /// Called once a rebuild has caught up with the head, before the projection is running again: the time to finish
    /// what is cheaper done once than event by event, and to analyze a read model written anew from zero (or the
    /// planner keeps the statistics of an empty table until autovacuum comes round).
    /// </summary>
    Task RebuiltAsync(NpgsqlConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;
}

public enum ProjectionState
{
    Running,
    Rebuilding,
    Failed,
}

/// <summary>A projection as the checkpoint table and the store's head describe it.</summary>
public sealed record ProjectionStatus(
    string Name, long Position, long HeadPosition, ProjectionState State, string? Error, long? FailedPosition, string? Owner, DateTimeOffset UpdatedAt)
{
    public long Lag => Math.Max(0, HeadPosition - Position);
}
