using Npgsql;

namespace CongressWorkflow.EventStore;

/// <summary>
/// A partition of the events table: its key, its table, how many events it holds as PostgreSQL's statistics estimate them
/// (none before the table was first analysed: counting a large partition would take long).
/// </summary>
public sealed record PartitionInfo(string Key, string Table, long? EstimatedEvents, DateTimeOffset CreatedAt);

/// <summary>
/// The events table is partitioned by a key each stream is given when it is created (<see cref="StreamAppend.Partition"/>;
/// migration 0007): a new stream's partition must have been created first, in the same transaction or before. A stream
/// never moves: its later events go where its first went.
/// </summary>
public sealed partial class PostgresEventStore
{
    /// <summary>The partition of the streams created without one (and of every event written before partitioning).</summary>
    public const string SharedPartition = "";

    /// <summary>
    /// Creates the partition for a key unless it exists, inside the caller's transaction; returns its table. The lock
    /// attaching it takes lets appends and reads go on; two creators of one key wait for each other.
    /// </summary>
    public static async Task<string> CreatePartitionAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string key, CancellationToken cancellationToken = default)
    {
        if (key.Length > MaxStreamIdLength || key.Any(char.IsControl))
        {
            throw new EventStoreException(EventStoreErrorCodes.InvalidAppend,
                $"a partition key is at most {MaxStreamIdLength} characters without control characters");
        }

        await using var command = new NpgsqlCommand("SELECT event_store.create_partition($1)", connection, transaction);
        command.Parameters.Add(new() { Value = key });
        return (string)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<IReadOnlyList<PartitionInfo>> ListPartitionsAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT p.partition_key, p.table_name, CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint END, p.created_at
            FROM event_store.partitions p
            JOIN pg_class c ON c.relname = p.table_name AND c.relnamespace = 'event_store'::regnamespace
            ORDER BY p.created_at, p.partition_key
            """);
        var partitions = new List<PartitionInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            partitions.Add(new PartitionInfo(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt64(2),
                reader.GetFieldValue<DateTimeOffset>(3)));
        }

        return partitions;
    }
}
