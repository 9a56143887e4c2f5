using CongressWorkflow.EventStore;
using Npgsql;

namespace CongressWorkflow.Server.Hosting;

/// <summary>How far a streaming replica is behind the primary, as the replica itself tells.</summary>
public sealed record ReplicaLag(bool Configured, bool InRecovery, double? SecondsBehind, string? ReplayedTo);

/// <summary>
/// Where the monitoring reports read: a streaming replica when ConnectionStrings:PostgresReplica is set (PostgreSQL's
/// own replication, e.g. a hot standby made with pg_basebackup), else the primary. Commands, projections, Hangfire and
/// everything that writes stay on the primary. A replica's reports may lag the primary: GET /api/replica and the
/// X-Replica-Lag header of every report say by how much.
/// </summary>
public sealed class ReadReplica(NpgsqlDataSource? replica) : IAsyncDisposable
{
    public NpgsqlDataSource? DataSource => replica;

    public static ReadReplica From(IConfiguration configuration) =>
        new(configuration.GetConnectionString("PostgresReplica") is { Length: > 0 } connection ? StoreDataSource.Create(connection) : null);

    public async Task<ReplicaLag> LagAsync(CancellationToken cancellationToken)
    {
        if (replica is null)
        {
            return new ReplicaLag(false, false, null, null);
        }

        // On a standby with nothing to replay, the last replay timestamp stays put: no lag when replay has caught up with receipt.
        await using var command = replica.CreateCommand("""
            SELECT pg_is_in_recovery(),
                   CASE WHEN NOT pg_is_in_recovery() THEN 0
                        WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                        ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END,
                   pg_last_wal_replay_lsn()::text
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new ReplicaLag(true, reader.GetBoolean(0), reader.IsDBNull(1) ? null : reader.GetDouble(1), reader.IsDBNull(2) ? null : reader.GetString(2));
    }

    public async ValueTask DisposeAsync()
    {
        if (replica is not null)
        {
            await replica.DisposeAsync();
        }
    }
}
