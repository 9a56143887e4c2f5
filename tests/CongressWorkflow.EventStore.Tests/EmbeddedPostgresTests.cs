using CongressWorkflow.Embedded;
using CongressWorkflow.Testing;
using Npgsql;

namespace CongressWorkflow.EventStore.Tests;

public sealed class running_an_embedded_postgres
{
    [Fact]
    public async Task the_cluster_keeps_its_data_across_a_stop_and_a_start()
    {
        await using var server = await TestCluster.StartOwnAsync("restart");
        var connectionString = await server.EnsureDatabaseAsync("kept");
        await ExecuteAsync(connectionString, "CREATE TABLE notes (text text); INSERT INTO notes VALUES ('đại hội')");

        await server.StopAsync();
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => ExecuteAsync(connectionString, "SELECT 1"));
        await server.StartAsync();

        Assert.Equal("đại hội", await ScalarAsync(await server.EnsureDatabaseAsync("kept"), "SELECT text FROM notes"));
    }

    [Fact]
    public async Task a_new_cluster_compares_text_byte_by_byte_knows_vietnamese_letters_and_prices_lookups_for_a_solid_state_disk()
    {
        await using var server = await TestCluster.StartOwnAsync("collation");
        var connectionString = await server.EnsureDatabaseAsync("texts");

        Assert.Equal("C", await ScalarAsync(connectionString, "SHOW lc_collate"));
        // Code point order, as C.UTF-8 sorted: capitals, small letters, then Đ (U+0110) before đ (U+0111).
        Assert.Equal("Zeta,ai,Đà,đà", await ScalarAsync(connectionString, "SELECT string_agg(t, ',' ORDER BY t) FROM unnest(ARRAY['đà', 'ai', 'Đà', 'Zeta']) t"));
        Assert.Equal("đại hội", await ScalarAsync(connectionString, "SELECT lower('ĐẠI HỘI')"));
        // A lookup by key costs the planner about what a page read in sequence does (it hashed whole tables for a few thousand keys).
        Assert.Equal("1.1", await ScalarAsync(connectionString, "SHOW random_page_cost"));
    }

    [Fact]
    public async Task an_operators_settings_win_over_the_built_in_tuning_and_add_to_it()
    {
        var settings = new Dictionary<string, string?> { ["shared_buffers"] = "64MB", ["WORK_MEM"] = "32MB", ["log_min_duration_statement"] = "250" };
        await using var server = await EmbeddedPostgres.StartAsync(TestCluster.NewClusterFolder("settings"), temporary: true, settings: settings);
        var connectionString = await server.EnsureDatabaseAsync("postgres");

        // The tuning alone gives 128 MB to 1 GB of buffers and 16 MB to sort.
        Assert.Equal("64MB", await ScalarAsync(connectionString, "SHOW shared_buffers"));
        Assert.Equal("32MB", await ScalarAsync(connectionString, "SHOW work_mem"));
        Assert.Equal("250ms", await ScalarAsync(connectionString, "SHOW log_min_duration_statement"));
        Assert.Equal("1.1", await ScalarAsync(connectionString, "SHOW random_page_cost"));
    }

    [Fact]
    public async Task settings_the_program_owns_or_a_shell_would_read_are_all_refused_before_anything_is_made()
    {
        var folder = TestCluster.NewClusterFolder("refused-settings");
        var settings = new Dictionary<string, string?>
        {
            ["port"] = "5433", ["log_line_prefix"] = "%m [%p] ", ["work_mem"] = "16MB;touch${IFS}/tmp/x", ["shared buffers"] = "1GB", ["temp_buffers"] = "16MB",
        };

        var error = await Assert.ThrowsAsync<EmbeddedPostgresException>(() => EmbeddedPostgres.StartAsync(folder, temporary: true, settings: settings));

        Assert.Contains("'port' is set by the program itself", error.Message, StringComparison.Ordinal);
        Assert.Contains("'log_line_prefix' = '%m [%p] '", error.Message, StringComparison.Ordinal);
        Assert.Contains("'work_mem' = '16MB;touch${IFS}/tmp/x'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'shared buffers' is not a setting's name", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("temp_buffers", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(folder), "a refused setting still made the cluster's folder");
    }

    [Fact]
    public async Task a_value_the_server_refuses_fails_the_start_with_the_servers_own_words()
    {
        var folder = TestCluster.NewClusterFolder("bad-setting");
        try
        {
            var error = await Assert.ThrowsAsync<EmbeddedPostgresException>(() =>
                EmbeddedPostgres.StartAsync(folder, temporary: true, settings: new Dictionary<string, string?> { ["shared_buffers"] = "lots" }));

            Assert.Contains("invalid value for parameter \"shared_buffers\": \"lots\"", error.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(folder, "pgdata", "postmaster.pid")), "a server was left running");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task a_second_program_on_the_same_folder_attaches_and_leaves_the_server_running()
    {
        var folder = TestCluster.NewClusterFolder("attach");
        await using var owner = await EmbeddedPostgres.StartAsync(folder, temporary: true);
        var connectionString = await owner.EnsureDatabaseAsync("shared");

        await using (var second = await EmbeddedPostgres.StartAsync(folder))
        {
            Assert.False(second.OwnsServer);
            Assert.Equal(owner.Port, second.Port);
            Assert.Equal("1", await ScalarAsync(await second.EnsureDatabaseAsync("shared"), "SELECT '1'"));
        }

        Assert.True(owner.OwnsServer);
        Assert.Equal("1", await ScalarAsync(connectionString, "SELECT '1'"));
    }

    [Fact]
    public async Task two_clusters_on_one_machine_do_not_collide()
    {
        var shared = await TestCluster.GetAsync();
        await using var other = await TestCluster.StartOwnAsync("other");

        Assert.NotEqual(shared.Port, other.Port);
        Assert.NotEqual(shared.DataDirectory, other.DataDirectory);
        Assert.Equal("ok", await ScalarAsync(await other.EnsureDatabaseAsync("postgres"), "SELECT 'ok'"));
        Assert.Equal("ok", await ScalarAsync(await shared.EnsureDatabaseAsync("postgres"), "SELECT 'ok'"));
    }

    [Fact]
    public void missing_server_binaries_fail_with_one_message_naming_what_to_install()
    {
        var error = Assert.Throws<EmbeddedPostgresException>(() => PostgresBinaries.Locate("/nonexistent/postgresql/bin"));

        Assert.Contains("apt-get install", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings__Postgres", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void the_binaries_are_found_without_configuration()
    {
        var binaries = PostgresBinaries.Locate();

        Assert.True(File.Exists(binaries.InitDb));
        Assert.True(File.Exists(binaries.PgCtl));
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<string> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
