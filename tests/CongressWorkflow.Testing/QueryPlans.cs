using System.Text.Json;
using Npgsql;

namespace CongressWorkflow.Testing;

/// <summary>
/// Query plans as tests read them: every node of an EXPLAIN's JSON plan, and the plan PostgreSQL caches for a statement
/// on a new installation: a database just migrated (no table analysed yet), the statement prepared (as Npgsql's
/// automatic preparation does once it has run twice) and its generic plan forced (the one PostgreSQL settles on after
/// five runs when it costs no more, and keeps until the tables' statistics change).
/// </summary>
public static class QueryPlans
{
    /// <summary>A fresh database, migrated by <paramref name="migrate"/>, then given the rows of <paramref name="setUpSql"/>; its connection string.</summary>
    public static async Task<string> NewDatabaseAsync(string hint, Func<NpgsqlDataSource, Task> migrate, string? setUpSql = null)
    {
        var connectionString = await TestCluster.CreateDatabaseAsync(hint);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await migrate(dataSource);
        if (setUpSql is not null)
        {
            await using var setUp = dataSource.CreateCommand(setUpSql);
            await setUp.ExecuteNonQueryAsync();
        }

        return connectionString;
    }

    /// <summary>Every node of the generic plan of <paramref name="sql"/>, whose parameters are of <paramref name="parameterTypes"/>.</summary>
    public static async Task<IReadOnlyList<JsonElement>> GenericPlanAsync(string connectionString, string sql, params string[] parameterTypes)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        // PostgreSQL's default planner costs, as on a server of its own (ConnectionStrings:Postgres): the embedded cluster
        // is tuned for a solid-state disk, which hides some of these plans.
        foreach (var setUp in new[]
                 {
                     "SET plan_cache_mode = force_generic_plan", "SET random_page_cost = 4", "SET effective_cache_size = '4GB'",
                     $"PREPARE statement_under_test ({string.Join(", ", parameterTypes)}) AS {sql}",
                 })
        {
            await using var step = new NpgsqlCommand(setUp, connection);
            await step.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand(
            $"EXPLAIN (COSTS OFF, FORMAT JSON) EXECUTE statement_under_test ({string.Join(", ", parameterTypes.Select(_ => "NULL"))})", connection);
        var plan = JsonDocument.Parse((string)(await command.ExecuteScalarAsync())!).RootElement[0].GetProperty("Plan");
        return Nodes(plan);
    }

    /// <summary>How the plan reads <paramref name="table"/>: each node on it, as "node type" or "node type on index".</summary>
    public static IReadOnlyList<string> AccessesTo(IReadOnlyList<JsonElement> nodes, string table) =>
        [.. nodes.Where(n => n.TryGetProperty("Relation Name", out var name) && name.GetString() == table)
            .Select(n => n.GetProperty("Node Type").GetString() + (n.TryGetProperty("Index Name", out var index) ? " on " + index.GetString() : ""))];

    /// <summary>A plan's node and all the nodes below it, depth first.</summary>
    public static List<JsonElement> Nodes(JsonElement node) =>
        node.TryGetProperty("Plans", out var children) ? [node, .. children.EnumerateArray().SelectMany(Nodes)] : [node];
}
