using CongressWorkflow.EventStore;
using CongressWorkflow.Testing;

namespace CongressWorkflow.Server.Tests;

/// <summary>The real server (Kestrel on a free loopback port) on a database of this test class's own.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public CongressServer Server { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public string ConnectionString { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        ConnectionString = await TestCluster.CreateDatabaseAsync("server");
        Server = await CongressServer.CreateAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = ConnectionString,
            ["Urls"] = "http://127.0.0.1:0",
            ["Demo:Load"] = "false",
        });
        await Server.App.StartAsync();
        Http = new HttpClient { BaseAddress = Server.BaseAddress };
    }

    public PostgresEventStore Store => (PostgresEventStore)Server.App.Services.GetService(typeof(PostgresEventStore))!;

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}
