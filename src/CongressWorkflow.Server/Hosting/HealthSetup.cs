using System.Text.Json;
using CongressWorkflow.Engine;
using CongressWorkflow.EventStore.Projections;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace CongressWorkflow.Server.Hosting;

/// <summary>
/// /health/live (the process answers) and /health/ready (database reachable, migrations applied, projections within
/// Health:MaxProjectionLag events of the head, the Hangfire server running); /health is the readiness report.
/// None of them scans the events table (the head is the primary key's maximum).
/// </summary>
public static class HealthSetup
{
    private const string Ready = "ready";

    public static void AddCongressHealth(this IServiceCollection services) =>
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: [Ready])
            .AddCheck<ProjectionLagHealthCheck>("projections", tags: [Ready])
            .AddCheck<HangfireHealthCheck>("hangfire", tags: [Ready]);

    public static void MapCongressHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = WriteAsync }).AllowAnonymous();
        app.MapHealthChecks("/health", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = WriteAsync }).AllowAnonymous();
    }

    private static Task WriteAsync(HttpContext http, HealthReport report)
    {
        if (report.Status == HealthStatus.Unhealthy)
        {
            http.Response.Headers.RetryAfter = "5";
        }

        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString().ToLowerInvariant(),
                description = e.Value.Description,
                data = e.Value.Data,
            }),
        }, JsonSerializerOptions.Web));
    }
}

/// <summary>PostgreSQL answers and every schema migration this build knows is applied.</summary>
public sealed class DatabaseHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var pending = await EngineSchema.PendingAsync(dataSource, cancellationToken);
            return pending.Count == 0
                ? HealthCheckResult.Healthy("reachable, migrations applied")
                : HealthCheckResult.Unhealthy($"migrations not applied: {string.Join(", ", pending)}");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL is unreachable: " + e.Message);
        }
    }
}

/// <summary>Every projection is running and no further behind the head than Health:MaxProjectionLag (default 10,000 events).</summary>
public sealed class ProjectionLagHealthCheck(NpgsqlDataSource dataSource, IConfiguration configuration) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var bound = configuration.GetValue("Health:MaxProjectionLag", 10_000L);
        try
        {
            var statuses = await ProjectionDaemon.StatusAsync(dataSource, cancellationToken);
            var data = statuses.ToDictionary(s => s.Name, s => (object)s.Lag);
            var stopped = statuses.Where(s => s.State == ProjectionState.Failed).Select(s => s.Name).ToList();
            var behind = statuses.Where(s => s.Lag > bound).Select(s => s.Name).ToList();
            return stopped.Count > 0 ? HealthCheckResult.Unhealthy($"failed: {string.Join(", ", stopped)}", data: data)
                : behind.Count > 0 ? HealthCheckResult.Degraded($"more than {bound:N0} events behind: {string.Join(", ", behind)}", data: data)
                : HealthCheckResult.Healthy($"within {bound:N0} events of the head", data);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL is unreachable: " + e.Message);
        }
    }
}

/// <summary>This node's Hangfire server is running (when the node runs one at all).</summary>
public sealed class HangfireHealthCheck(DeadlineJobs jobs, IConfiguration configuration) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(!configuration.GetValue("Hangfire:Server", defaultValue: true) ? HealthCheckResult.Healthy("this node runs no Hangfire server")
            : jobs.IsServerRunning ? HealthCheckResult.Healthy("the Hangfire server is running")
            : HealthCheckResult.Unhealthy("the Hangfire server is not running"));
}
