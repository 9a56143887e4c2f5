using CongressWorkflow.EventStore;
using Npgsql;

namespace CongressWorkflow.Benchmarks;

/// <summary>The one-statement helpers the suites share: a count or other number, and a statement for its effect.</summary>
internal static class Sql
{
    public static async Task<long> ScalarAsync(NpgsqlDataSource dataSource, string sql, params object?[] parameters)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddPositional(parameters);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
