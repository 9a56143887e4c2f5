using System.Net.Http.Json;
using CongressWorkflow.EventStore;
using CongressWorkflow.Testing;

namespace CongressWorkflow.Server.Tests;

/// <summary>The real server (Kestrel on a free loopback port) on a database of this test class's own.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public CongressServer Server { get; private set; } = null!;

    public const string Root = "tu";

    /// <summary>Signed in as an admin of the top-level organisation.</summary>
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
            ["Auth:SigningKeyFile"] = TestAuth.KeyFile,
            ["Postgres:DataDirectory"] = TestCluster.NewClusterFolder("server-files"),
        });
        await Server.App.StartAsync();
        Http = TestAuth.Client(Server.BaseAddress, "admin", Root);

        // The tests' top-level organisation, so an admin of it runs the whole tree whatever a test registers first.
        using var register = await Http.PostAsJsonAsync("/api/organizations", new { id = Root, name = "Trung ương", level = "central" });
        register.EnsureSuccessStatusCode();
    }

    public PostgresEventStore Store => (PostgresEventStore)Server.App.Services.GetService(typeof(PostgresEventStore))!;

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}
