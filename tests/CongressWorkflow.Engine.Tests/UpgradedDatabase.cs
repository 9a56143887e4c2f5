using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Schema;
using CongressWorkflow.Testing;
using Npgsql;

namespace CongressWorkflow.Engine.Tests;

/// <summary>A database of its own as an older version left it: the store's schema, the engine's migrations before one.</summary>
internal static class UpgradedDatabase
{
    public static async Task<NpgsqlDataSource> BeforeMigrationAsync(string name, int version)
    {
        var dataSource = StoreDataSource.Create(await TestCluster.CreateDatabaseAsync(name));
        await PostgresEventStore.MigrateAsync(dataSource);
        var before = SchemaMigrator.FromEmbeddedResources(typeof(EngineSchema).Assembly, "CongressWorkflow.Engine.Schema.Migrations.").Where(m => m.Version < version).ToList();
        await SchemaMigrator.MigrateAsync(dataSource, EngineSchema.SchemaName, before);
        return dataSource;
    }
}
