using System.Text.Json;
using CongressWorkflow.Server.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace CongressWorkflow.Server.Tests;

/// <summary>
/// A request cut short is not the server's error: its client went away (499, nobody reads it), or the server is stopping
/// and Kestrel cancelled what it was still reading (503 with Retry-After, for a proxy to send it to another node). Both
/// were 500 internal-error, logged as unhandled.
/// </summary>
public sealed class a_request_cut_short(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private sealed class Stopping : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping { get; } = new(canceled: true);

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }
    }

    private async Task<(int Status, JsonElement? Problem, HttpResponse Response)> MapAsync(IHostApplicationLifetime lifetime, CancellationToken requestAborted)
    {
        var services = fixture.Server.App.Services;
        var mapping = new ProblemMapping(services.GetRequiredService<IProblemDetailsService>(), lifetime, NullLogger<ProblemMapping>.Instance);
        var http = new DefaultHttpContext { RequestServices = services, RequestAborted = requestAborted };
        http.Response.Body = new MemoryStream();

        Assert.True(await mapping.TryHandleAsync(http, new OperationCanceledException("PipeReader.ReadAsync was canceled."), CancellationToken.None));
        http.Response.Body.Position = 0;
        return (http.Response.StatusCode, http.Response.Body.Length == 0 ? null : await JsonSerializer.DeserializeAsync<JsonElement>(http.Response.Body), http.Response);
    }

    [Fact]
    public async Task by_the_server_stopping_is_a_503_to_retry_elsewhere()
    {
        var (status, problem, response) = await MapAsync(new Stopping(), CancellationToken.None);

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, status);
        Assert.Equal("server-stopping", problem?.GetProperty("code").GetString());
        Assert.Contains("nothing of it was done", problem?.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("5", response.Headers.RetryAfter.ToString());
    }

    [Fact]
    public async Task by_its_client_going_away_is_a_499_not_an_internal_error()
    {
        var (status, problem, _) = await MapAsync(fixture.Server.App.Services.GetRequiredService<IHostApplicationLifetime>(), new CancellationToken(canceled: true));

        Assert.Equal(StatusCodes.Status499ClientClosedRequest, status);
        // Nothing is written for a client that is gone, or only the problem with its code.
        Assert.True(problem is null || problem.Value.GetProperty("code").GetString() == "client-closed-request", problem?.ToString());
    }
}
