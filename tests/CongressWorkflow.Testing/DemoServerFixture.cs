using System.Net.Http.Json;
using System.Text.Json;
using CongressWorkflow.Server;
using Xunit;

namespace CongressWorkflow.Testing;

/// <summary>The server with the demo campaign loaded and its projection daemon running.</summary>
public class DemoServerFixture : IAsyncLifetime
{
    public CongressServer Server { get; private set; } = null!;

    /// <summary>Signed in as an admin of the Central Committee (the demo's top).</summary>
    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = await TestCluster.CreateDatabaseAsync("monitoring"),
            ["Urls"] = "http://127.0.0.1:0",
            ["Auth:SigningKeyFile"] = TestAuth.KeyFile,
            ["Postgres:DataDirectory"] = TestCluster.NewClusterFolder("server-files"),
        };
        foreach (var (key, value) in ExtraSettings)
        {
            settings[key] = value;
        }

        Server = await CongressServer.CreateAsync([], settings);
        await Server.App.StartAsync();
        Http = TestAuth.Client(Server.BaseAddress, "admin", CongressWorkflow.Engine.Demo.DemoCampaign.Central);
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (await Http.GetFromJsonAsync<JsonElement[]>("/api/projections") is var projections
               && (projections!.Length < 2 || projections.Any(p => p.GetProperty("lag").GetInt64() > 0 || p.GetProperty("state").GetString() != "running")))
        {
            Assert.True(DateTime.UtcNow < deadline, "the projections did not catch up");
            await Task.Delay(50);
        }
    }

    /// <summary>Settings a derived fixture adds or changes.</summary>
    protected virtual IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>();

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}
