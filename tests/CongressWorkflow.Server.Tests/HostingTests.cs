using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using CongressWorkflow.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace CongressWorkflow.Server.Tests;

public sealed class hosting_the_server
{
    [Fact]
    public async Task without_a_connection_string_it_runs_its_own_postgres_and_stops_it_on_shutdown()
    {
        var folder = TestCluster.NewClusterFolder("server-embedded");
        int port;
        await using (var server = await CongressServer.CreateAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = "",
            ["Postgres:DataDirectory"] = folder,
            ["Urls"] = "http://127.0.0.1:0",
        }))
        {
            await server.App.StartAsync();
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            var status = await http.GetFromJsonAsync<JsonElement>("/api/store/status");
            Assert.Equal("embedded", status.GetProperty("database").GetProperty("mode").GetString());
            Assert.StartsWith(folder, status.GetProperty("database").GetProperty("dataDirectory").GetString(), StringComparison.Ordinal);
            port = status.GetProperty("database").GetProperty("port").GetInt32();
            Assert.True(File.Exists(Path.Combine(folder, "pgdata", "postmaster.pid")));
        }

        Assert.False(File.Exists(Path.Combine(folder, "pgdata", "postmaster.pid")), "the server should have stopped PostgreSQL");
        Assert.True(File.Exists(Path.Combine(folder, "pgdata", "PG_VERSION")), "the data stays for the next start");
        Assert.True(port > 0);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task traces_of_requests_and_appends_are_exported_over_otlp()
    {
        var received = new ConcurrentBag<string>();
        var collector = WebApplication.CreateBuilder();
        collector.WebHost.UseUrls("http://127.0.0.1:0");
        await using var collectorApp = collector.Build();
        collectorApp.MapPost("/v1/{signal}", (string signal) => { received.Add(signal); return Results.Ok(); });
        await collectorApp.StartAsync();

        await using (var server = await CongressServer.CreateAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = await TestCluster.CreateDatabaseAsync("otlp"),
            ["Urls"] = "http://127.0.0.1:0",
            ["Telemetry:OtlpEndpoint"] = collectorApp.Urls.First(),
            ["Demo:Load"] = "false",
        }))
        {
            await server.App.StartAsync();
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            (await http.GetAsync("/health")).EnsureSuccessStatusCode();
        }

        // Disposing the server flushes its exporters.
        Assert.Contains("traces", received);
        Assert.Contains("metrics", received);
    }

    [Fact]
    public async Task two_nodes_starting_together_on_an_empty_database_load_the_demo_once()
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = await TestCluster.CreateDatabaseAsync("two-starts"),
            ["Urls"] = "http://127.0.0.1:0",
            ["Projections:Run"] = "false",
            ["Notifications:Deliver"] = "false",
        };

        var nodes = await Task.WhenAll(CongressServer.CreateAsync([], settings), CongressServer.CreateAsync([], settings));
        try
        {
            var store = (CongressWorkflow.EventStore.PostgresEventStore)nodes[0].App.Services.GetService(typeof(CongressWorkflow.EventStore.PostgresEventStore))!;
            await using var count = store.DataSource.CreateCommand("SELECT count(*) FROM event_store.events WHERE event_type = 'campaign.started'");
            Assert.Equal(1L, (long)(await count.ExecuteScalarAsync())!);
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }
}
