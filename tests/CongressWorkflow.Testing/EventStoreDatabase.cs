using CongressWorkflow.EventStore;
using Npgsql;
using Xunit;

namespace CongressWorkflow.Testing;

/// <summary>
/// A database of one test class's own on the shared test cluster, with the event store's schema. Tests reset it
/// before they run (not after), so a failing test leaves its data behind to inspect.
/// </summary>
public class EventStoreDatabase : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = string.Empty;

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        ConnectionString = await TestCluster.CreateDatabaseAsync(GetType().Name);
        DataSource = StoreDataSource.Create(ConnectionString);
        await PostgresEventStore.MigrateAsync(DataSource);
    }

    /// <summary>Empties the event store tables and restarts the global position.</summary>
    public virtual async Task ResetAsync()
    {
        await using var command = DataSource.CreateCommand(
            "TRUNCATE event_store.snapshots, event_store.events, event_store.streams, event_store.outbox, event_store.projection_checkpoints; ALTER SEQUENCE event_store.global_position_seq RESTART");
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql, params object?[] parameters)
    {
        await using var command = DataSource.CreateCommand(sql);
        command.Parameters.AddPositional(parameters);

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task<int> ExecuteAsync(string sql, params object?[] parameters)
    {
        await using var command = DataSource.CreateCommand(sql);
        command.Parameters.AddPositional(parameters);

        return await command.ExecuteNonQueryAsync();
    }

    public virtual async Task DisposeAsync() => await DataSource.DisposeAsync();
}
