using System.Net.Http.Json;
using System.Text.Json;
using CongressWorkflow.Server;
using Xunit;

namespace CongressWorkflow.Testing;

/// <summary>The server with the demo campaign loaded and its projection daemon running.</summary>
public sealed class DemoServerFixture : IAsyncLifetime
{
    public CongressServer Server { get; private set; } = null!;

    /// <summary>Signed in as an admin of the Central Committee (the demo's top).</summary>
    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await CongressServer.CreateAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = await TestCluster.CreateDatabaseAsync("monitoring"),
            ["Urls"] = "http://127.0.0.1:0",
            ["Auth:SigningKeyFile"] = TestAuth.KeyFile,
        });
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

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}
