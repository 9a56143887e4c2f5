using CongressWorkflow.Server.Hosting;

namespace CongressWorkflow.Server.Api;

public sealed record SimulationRequest(int? Size, int? Seed);

public sealed record SimulationView(
    string Id, int Size, int Seed, string CampaignId, string RootOrganizationId, string Phase, long Done, long Total, DateOnly? Day, DateOnly? DayReached,
    bool Finished, string? Error, double? ElapsedSeconds)
{
    public static SimulationView From(SimulationStatus s) => new(s.Id, s.Size, s.Seed, s.Id, s.RootOrganizationId, s.Phase, s.Done, s.Total, s.Day,
        s.DayReached, s.Finished, s.Error, s.Elapsed?.TotalSeconds);
}

/// <summary>Simulated campaigns (congress simulate): start or carry one on, follow it, list them.</summary>
public static class SimulationEndpoints
{
    public const string InvalidSimulation = "simulation-invalid";

    public static void MapSimulationEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/simulations", (SimulationRequest request, SimulationRunner runner) =>
        {
            var (size, seed) = (request.Size ?? 2_000, request.Seed ?? 1);
            if (size is < 10 or > 1_000_000 || seed < 0)
            {
                throw new RequestRejectedException(StatusCodes.Status422UnprocessableEntity, InvalidSimulation,
                    "size is between 10 and 1,000,000 organisations, and seed is not negative");
            }

            var status = runner.Start(size, seed);
            return TypedResults.Accepted($"/api/simulations/{status.Id}", SimulationView.From(status));
        }).Requires(Capability.Operate, routeValue: null);
        app.MapGet("/api/simulations", async (SimulationRunner runner, CancellationToken ct) =>
            TypedResults.Ok((await runner.ListAsync(ct)).Select(SimulationView.From).ToList())).Requires(Capability.Operate, routeValue: null);
        app.MapGet("/api/simulations/{simulationId}", async (string simulationId, SimulationRunner runner, CancellationToken ct) =>
            await runner.StatusAsync(simulationId, ct) is { } status
                ? TypedResults.Ok(SimulationView.From(status))
                : throw OrganizationEndpoints.NotFound($"no simulation {simulationId}")).Requires(Capability.Operate, routeValue: null);
    }
}
