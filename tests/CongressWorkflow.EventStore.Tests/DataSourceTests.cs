using CongressWorkflow.Testing;
using Npgsql;

namespace CongressWorkflow.EventStore.Tests;

public sealed class opening_the_data_source(EventStoreDatabase db) : StoreTestBase(db)
{
    private static async Task<string?> SettingAsync(string connectionString, string setting)
    {
        await using var dataSource = StoreDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand($"SHOW {setting}");
        return (string?)await command.ExecuteScalarAsync();
    }

    /// <summary>JIT compiling cost the progress projection's refresh a seventh of its time: off, unless an operator says otherwise.</summary>
    [Fact]
    public async Task connections_run_without_jit_compilation_unless_the_connection_string_sets_it()
    {
        Assert.Equal("on", await Db.ScalarAsync<string>("SELECT boot_val FROM pg_settings WHERE name = 'jit'"));
        Assert.Equal("off", await Db.ScalarAsync<string>("SHOW jit"));

        var withOptions = new NpgsqlConnectionStringBuilder(Db.ConnectionString) { Options = "-c statement_timeout=5s" }.ConnectionString;
        Assert.Equal("off", await SettingAsync(withOptions, "jit"));
        Assert.Equal("5s", await SettingAsync(withOptions, "statement_timeout"));

        var jitOn = new NpgsqlConnectionStringBuilder(Db.ConnectionString) { Options = "-c jit=on" }.ConnectionString;
        Assert.Equal("on", await SettingAsync(jitOn, "jit"));
    }
}
