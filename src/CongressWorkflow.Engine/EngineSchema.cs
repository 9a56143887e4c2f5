using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Schema;
using Npgsql;

namespace CongressWorkflow.Engine;

/// <summary>Creates or upgrades everything the engine stores: the event store's schema, then the congress read models.</summary>
public static class EngineSchema
{
    public const string SchemaName = "congress";

    public static async Task MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        await PostgresEventStore.MigrateAsync(dataSource, cancellationToken);
        await SchemaMigrator.MigrateAsync(
            dataSource,
            SchemaName,
            SchemaMigrator.FromEmbeddedResources(typeof(EngineSchema).Assembly, "CongressWorkflow.Engine.Schema.Migrations."),
            cancellationToken);
    }
}
