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
        await SchemaMigrator.MigrateAsync(dataSource, SchemaName, Migrations, cancellationToken);
    }

    /// <summary>Names of the migrations (the store's and the engine's) not applied yet.</summary>
    public static async Task<IReadOnlyList<string>> PendingAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default) =>
    [
        .. (await SchemaMigrator.PendingAsync(dataSource, PostgresEventStore.SchemaName, PostgresEventStore.Migrations, cancellationToken)).Select(m => m.Name),
        .. (await SchemaMigrator.PendingAsync(dataSource, SchemaName, Migrations, cancellationToken)).Select(m => m.Name),
    ];

    private static IReadOnlyList<Migration> Migrations { get; } =
        SchemaMigrator.FromEmbeddedResources(typeof(EngineSchema).Assembly, "CongressWorkflow.Engine.Schema.Migrations.");
}
