using System.Collections.Concurrent;
using CongressWorkflow.Engine.Simulation;
using Npgsql;

namespace CongressWorkflow.Server.Hosting;

/// <summary>A simulation as this node sees it: started here (with its live progress) or only known from the database.</summary>
public sealed record SimulationStatus(
    string Id, int Size, int Seed, string RootOrganizationId, string Phase, long Done, long Total, DateOnly? Day, DateOnly? DayReached, bool Finished,
    string? Error, TimeSpan? Elapsed);

/// <summary>
/// Runs simulations in the background, one at a time on a node, each under a PostgreSQL advisory lock so two nodes
/// never play the same one. Asking again for a simulation that stopped (a crash, a restart) carries it on from its last
/// finished day.
/// </summary>
public sealed class SimulationRunner(NpgsqlDataSource dataSource, ILogger<SimulationRunner> logger, IHostApplicationLifetime lifetime)
{
    private readonly ConcurrentDictionary<string, Running> _running = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    private sealed class Running(SimulatedCampaign campaign)
    {
        public SimulatedCampaign Campaign { get; } = campaign;

        public volatile SimulationProgress Progress = new("queued", 0, 0, null);

        public string? Error { get; set; }

        public bool Finished { get; set; }

        public System.Diagnostics.Stopwatch Clock { get; } = new();
    }

    /// <summary>Starts (or carries on) the simulation of that size and seed unless it is already running here; the campaign is generated only to launch it.</summary>
    public SimulationStatus Start(int size, int seed)
    {
        var running = _running.AddOrUpdate(SimulatedCampaign.CampaignIdOf(size, seed), _ => Launch(new Running(new SimulatedCampaign(size, seed))),
            (_, existing) => existing.Finished || existing.Error is not null ? Launch(new Running(new SimulatedCampaign(size, seed))) : existing);
        return Status(running, null);
    }

    public async Task<SimulationStatus?> StatusAsync(string id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT size, seed, day_reached, finished_at IS NOT NULL FROM congress.simulations WHERE simulation_id = $1");
        command.Parameters.Add(new() { Value = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var stored = await reader.ReadAsync(cancellationToken)
            ? (Size: reader.GetInt32(0), Seed: reader.GetInt32(1), Reached: reader.IsDBNull(2) ? (DateOnly?)null : reader.GetFieldValue<DateOnly>(2), Finished: reader.GetBoolean(3))
            : default((int Size, int Seed, DateOnly? Reached, bool Finished)?);
        if (_running.TryGetValue(id, out var running))
        {
            return Status(running, stored?.Reached);
        }

        return stored is { } s
            ? new SimulationStatus(id, s.Size, s.Seed, SimulatedCampaign.RootIdOf(s.Size, s.Seed), s.Finished ? "finished" : "stopped", 0, 0, null, s.Reached, s.Finished,
                null, null)
            : null;
    }

    private static SimulationStatus Status(Running r, DateOnly? reached) =>
        new(r.Campaign.CampaignId, r.Campaign.Size, r.Campaign.Seed, r.Campaign.RootId, r.Finished ? "finished" : r.Progress.Phase, r.Progress.Done,
            r.Progress.Total, r.Progress.Day, reached ?? r.Progress.Day, r.Finished, r.Error, r.Clock.Elapsed);

    private Running Launch(Running running)
    {
        _ = Task.Run(async () =>
        {
            var stopping = lifetime.ApplicationStopping;
            await _oneAtATime.WaitAsync(stopping);
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stopping);
                await using var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtextextended('simulation:' || $1, 0))", connection);
                tryLock.Parameters.Add(new() { Value = running.Campaign.CampaignId });
                if (!(bool)(await tryLock.ExecuteScalarAsync(stopping))!)
                {
                    running.Error = "this simulation is running on another node";
                    return;
                }

                running.Clock.Start();
                logger.LogInformation("Simulating campaign {Campaign} ({Size} organisations, seed {Seed})", running.Campaign.CampaignId, running.Campaign.Size,
                    running.Campaign.Seed);
                await new CampaignSimulation(dataSource, running.Campaign).RunAsync(new Reporter(running), stopping);
                running.Finished = true;
                logger.LogInformation("Simulated campaign {Campaign} in {Elapsed}", running.Campaign.CampaignId, running.Clock.Elapsed);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                running.Error = "the server stopped: ask again to carry on from the last finished day";
            }
            catch (Exception e)
            {
                logger.LogError(e, "Simulation {Campaign} failed", running.Campaign.CampaignId);
                running.Error = e.Message;
            }
            finally
            {
                running.Clock.Stop();
                _oneAtATime.Release();
            }
        });
        return running;
    }

    private sealed class Reporter(Running running) : IProgress<SimulationProgress>
    {
        public void Report(SimulationProgress value) => running.Progress = value;
    }
}
