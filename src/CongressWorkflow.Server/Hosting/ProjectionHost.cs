using CongressWorkflow.EventStore.Projections;

namespace CongressWorkflow.Server.Hosting;

/// <summary>Runs the projection daemon for as long as the server runs (Projections:Run=false turns it off on a node).</summary>
public sealed class ProjectionHost(ProjectionDaemon daemon, IConfiguration configuration, ILogger<ProjectionHost> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (configuration.GetValue("Projections:Run", defaultValue: true))
        {
            daemon.Start();
            logger.LogInformation("Projection daemon started: {Projections}", string.Join(", ", daemon.Projections.Select(p => p.Name)));
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => daemon.StopAsync();
}
