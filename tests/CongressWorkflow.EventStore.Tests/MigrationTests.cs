using CongressWorkflow.Testing;
using Npgsql;

namespace CongressWorkflow.EventStore.Tests;

public sealed class migrating_the_schema
{
    [Fact]
    public async Task four_nodes_starting_at_once_apply_each_migration_exactly_once_and_a_rerun_applies_nothing()
    {
        await using var dataSource = NpgsqlDataSource.Create(await TestCluster.CreateDatabaseAsync("migrations"));

        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => PostgresEventStore.MigrateAsync(dataSource))));
        var rerun = await PostgresEventStore.MigrateAsync(dataSource);

        var applied = runs.SelectMany(r => r).Select(m => m.Version).ToList();
        Assert.Equal(applied.Distinct().Order(), applied.Order());
        Assert.Contains(1, applied);
        Assert.Empty(rerun);
        await using var count = dataSource.CreateCommand("SELECT count(*) FROM event_store.schema_migrations");
        Assert.Equal((long)applied.Count, (long)(await count.ExecuteScalarAsync())!);
    }
}
