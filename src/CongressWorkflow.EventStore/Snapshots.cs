using System.Text.Json;
using Npgsql;

namespace CongressWorkflow.EventStore;

/// <summary>
/// The form of a state kept as a snapshot. A snapshot of another shape is not read, so the name changes whenever the
/// state's type, the fold that makes it, or the way its events are read (an upcaster) does: the state is then folded
/// from the events again, and kept in the new shape at the stream's next write.
/// </summary>
public sealed record SnapshotShape(string Name);

/// <summary>One stream's state folded up to a version, to keep as its snapshot.</summary>
public sealed record Snapshot<TState>(string StreamId, long Version, TState State);

public sealed partial class PostgresEventStore
{
    /// <summary>
    /// Keeps each stream's state at its version (written in the caller's transaction, beside the append that reached that
    /// version, so a snapshot is always the fold of exactly the events up to it). An older snapshot of a stream is
    /// replaced; a newer one of the same shape is left.
    /// </summary>
    public async Task WriteSnapshotsAsync<TState>(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, SnapshotShape shape, IReadOnlyCollection<Snapshot<TState>> snapshots,
        CancellationToken cancellationToken = default)
    {
        if (snapshots.Count == 0)
        {
            return;
        }

        await using var command = new NpgsqlCommand("""
            INSERT INTO event_store.snapshots AS s (stream_id, shape, version, state, taken_at)
            SELECT r.stream_id, $2, r.version, r.state, $5
            FROM unnest($1::text[], $3::bigint[], $4::text[]) AS r(stream_id, version, state)
            ON CONFLICT (stream_id) DO UPDATE SET shape = excluded.shape, version = excluded.version, state = excluded.state, taken_at = excluded.taken_at
            WHERE s.version < excluded.version OR s.shape <> excluded.shape
            """, connection, transaction);
        command.Parameters.AddPositional(
            snapshots.Select(s => s.StreamId).ToArray(),
            shape.Name,
            snapshots.Select(s => s.Version).ToArray(),
            snapshots.Select(s => JsonSerializer.Serialize(s.State, registry.SerializerOptions)).ToArray(),
            timeProvider.GetUtcNow());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// SQL: each stream of $1 with its version and its snapshot of shape $2, if any, looked up by its key in a subquery
    /// of its own (OFFSET 0 keeps it apart). As a join, the plan cached while the table was empty (a new installation's
    /// first plans) scanned every snapshot for each stream: 3 s a batch by the end of a 100,000-unit plans phase.
    /// </summary>
    public const string SnapshotStartsSql = """
        SELECT s.stream_id, s.version, sn.version, sn.state
        FROM event_store.streams s
        LEFT JOIN LATERAL (
            SELECT own.version, own.state FROM event_store.snapshots own
            WHERE own.stream_id = s.stream_id AND own.shape = $2 AND own.version <= s.version OFFSET 0) sn ON true
        WHERE s.stream_id = ANY($1)
        """;

    /// <summary>
    /// The starting points of the streams' folds: each stream's snapshot of the shape (the initial state at version 0
    /// for a stream without one, or with one the state type cannot read or that is past the stream's version), and the
    /// streams with events after that to read: without a shape, all of them; with one, those whose stream row is
    /// ahead of their start (not a stream not yet written, nor one whose snapshot is at its version).
    /// </summary>
    private async Task<(Dictionary<string, AggregateResult<TState>> Starts, List<string> Behind)> StartingPointsAsync<TState>(
        string[] streamIds, TState initial, SnapshotShape? shape, NpgsqlConnection? connection, NpgsqlTransaction? transaction,
        CancellationToken cancellationToken)
    {
        var starts = streamIds.ToDictionary(id => id, _ => new AggregateResult<TState>(initial, 0), StringComparer.Ordinal);
        if (shape is null)
        {
            return (starts, [.. streamIds]);
        }

        var behind = new List<string>();
        await using var command = connection is null ? dataSource.CreateCommand(SnapshotStartsSql) : new NpgsqlCommand(SnapshotStartsSql, connection, transaction);
        command.Parameters.AddPositional(streamIds, shape.Name);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var (streamId, version) = (reader.GetString(0), reader.GetInt64(1));
            if (!reader.IsDBNull(2) && TryReadSnapshot<TState>(reader.GetString(3), out var state))
            {
                starts[streamId] = new AggregateResult<TState>(state, reader.GetInt64(2));
            }

            if (starts[streamId].Version < version)
            {
                behind.Add(streamId);
            }
        }

        return (starts, behind);
    }

    private bool TryReadSnapshot<TState>(string json, out TState state)
    {
        try
        {
            state = JsonSerializer.Deserialize<TState>(json, registry.SerializerOptions)!;
            return state is not null;
        }
        catch (JsonException)
        {
            state = default!;
            return false;
        }
    }
}
