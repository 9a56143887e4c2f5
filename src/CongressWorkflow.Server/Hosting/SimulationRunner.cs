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

    public async Task<SimulationStatus?> StatusAsync(string id, CancellationToken cancellationToken) =>
        (await ReadAsync(id, cancellationToken)).SingleOrDefault() ?? (_running.TryGetValue(id, out var running) ? Status(running, null) : null);

    /// <summary>Every simulation: those started here and not yet recorded, then those of the database, the latest started first.</summary>
    public async Task<IReadOnlyList<SimulationStatus>> ListAsync(CancellationToken cancellationToken)
    {
        var recorded = await ReadAsync(null, cancellationToken);
        return [.. _running.Values.Where(r => !recorded.Any(s => s.Id == r.Campaign.CampaignId)).Select(r => Status(r, null)), .. recorded];
    }

    /// <summary>The recorded simulations (one, or all with <paramref name="id"/> null), each with its live progress when it runs here.</summary>
    private async Task<List<SimulationStatus>> ReadAsync(string? id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT simulation_id, size, seed, day_reached, finished_at IS NOT NULL FROM congress.simulations
            WHERE $1::text IS NULL OR simulation_id = $1 ORDER BY started_at DESC, simulation_id
            """);
        command.Parameters.Add(new() { Value = (object?)id ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var statuses = new List<SimulationStatus>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var (stored, size, seed) = (reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2));
            var (reached, finished) = (reader.IsDBNull(3) ? (DateOnly?)null : reader.GetFieldValue<DateOnly>(3), reader.GetBoolean(4));
            statuses.Add(_running.TryGetValue(stored, out var running)
                ? Status(running, reached)
                : new SimulationStatus(stored, size, seed, SimulatedCampaign.RootIdOf(size, seed), finished ? "finished" : "stopped", 0, 0, null, reached, finished,
                    null, null));
        }

        return statuses;
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
