using CongressWorkflow.Engine.Deadlines;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Telemetry;
using CongressWorkflow.Integrity;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;

namespace CongressWorkflow.Server.Hosting;

/// <summary>The recurring deadline sweep as Hangfire runs it: a failed sweep is not retried by Hangfire (the next one comes in minutes).</summary>
public sealed class DeadlineSweepJob(DeadlineSweep sweep, ILogger<DeadlineSweepJob> logger)
{
    public const string RecurringJobId = "deadline-sweep";

    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 300)]
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var report = await sweep.RunAsync(cancellationToken);
        logger.LogInformation("Deadline sweep for {Day}: {Deadlines} deadlines, {Sent} sent, {Skipped} skipped, {Deliveries} deliveries in {Ms} ms (ran: {Ran})",
            report.Day, report.Deadlines, report.Sent, report.Skipped, report.Deliveries, (int)report.Took.TotalMilliseconds, report.Ran);
    }
}

/// <summary>
/// Signs a checkpoint of every stream's head into the archive (Audit:CheckpointCron, hourly by default), unless no event
/// has been appended since the newest one: it would pin the same heads again, and at national scale each is 215 MB. (An
/// event in flight while that one was taken, committed later below its head position, waits for the next checkpoint
/// taken after something new, like any event appended after a checkpoint.) An operator's checkpoint on demand is always taken.
/// </summary>
public sealed class CheckpointJob(CheckpointArchive archive, PostgresEventStore store, ILogger<CheckpointJob> logger)
{
    public const string RecurringJobId = "store-checkpoint";

    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 300)]
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (await archive.LatestAsync(cancellationToken) is { } latest && latest.Summary.HeadPosition == await store.ReadHeadPositionAsync(cancellationToken))
        {
            logger.LogInformation("No event since the checkpoint at position {Head} ({File}): none taken", latest.Summary.HeadPosition, latest.File);
            return;
        }

        var (signed, file) = await archive.TakeAsync(cancellationToken);
        logger.LogInformation("Signed checkpoint of {Streams} streams at position {Head}: {File}", signed.Streams, signed.HeadPosition, file);
    }
}

/// <summary>
/// Thins the checkpoint archive (Audit:CheckpointThinningCron, daily by default) to what <see cref="CheckpointRetention"/>
/// keeps (Audit:CheckpointKeepAll, Audit:CheckpointKeepDaily), once the store is found to extend every checkpoint it
/// removes and the newest, and the newest to reach their heads (<see cref="CheckpointArchive.ThinAsync"/>). A break
/// stops it, and is logged as an error.
/// </summary>
public sealed class CheckpointThinningJob(CheckpointArchive archive, CheckpointRetention retention, ILogger<CheckpointThinningJob> logger)
{
    public const string RecurringJobId = "store-checkpoint-thinning";

    private static readonly System.Diagnostics.Metrics.Counter<long> Removed = CongressTelemetry.Meter.CreateCounter<long>(
        "cw.audit.checkpoints_removed", unit: "{checkpoint}", description: "Checkpoints removed from the archive by its retention");

    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 300)]
    public async Task<CheckpointThinning> RunAsync(CancellationToken cancellationToken)
    {
        var started = TimeProvider.System.GetTimestamp();
        var thinning = await archive.ThinAsync(retention, TimeProvider.System.GetUtcNow(), cancellationToken);
        var took = (int)TimeProvider.System.GetElapsedTime(started).TotalSeconds;
        if (thinning.Violations.Count > 0)
        {
            logger.LogError("The checkpoints to thin are not all pinned by the newest on the store as it stands ({Breaks} breaks, the first: {Stream}: {First}): none removed, the files stay as evidence",
                thinning.Violations.Count, thinning.Violations[0].StreamId, thinning.Violations[0].Reason);
        }
        else
        {
            Removed.Add(thinning.Removed.Count);
            logger.LogInformation("Checkpoint archive thinned in {Seconds} s: {Removed} removed ({Bytes} bytes), {Kept} kept", took, thinning.Removed.Count,
                thinning.BytesFreed, thinning.Kept);
        }

        return thinning;
    }
}

/// <summary>Forgets idempotency keys past their retention (Idempotency:Retention), hourly; lookups ignore them already.</summary>
public sealed class IdempotencyPurgeJob(Npgsql.NpgsqlDataSource dataSource, IConfiguration configuration, ILogger<IdempotencyPurgeJob> logger)
{
    public const string RecurringJobId = "idempotency-purge";

    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM congress.idempotency_keys WHERE created_at < now() - $1");
        command.Parameters.Add(new() { Value = configuration.GetValue("Idempotency:Retention", TimeSpan.FromHours(24)) });
        logger.LogInformation("Forgot {Keys} expired idempotency keys", await command.ExecuteNonQueryAsync(cancellationToken));
    }
}

/// <summary>
/// Hangfire on the project's PostgreSQL (its own schema, "hangfire"), with one storage instance per host rather than
/// Hangfire's static JobStorage.Current, so several servers in one process (the tests) each keep their own. Every node
/// runs a Hangfire server; the recurring sweep fires once per occurrence across all of them.
/// </summary>
public sealed class DeadlineJobs : IHostedService, IDisposable
{
    private readonly IServiceProvider _services;
    private readonly IConfiguration _configuration;
    private readonly ILogger<DeadlineJobs> _logger;
    private readonly string _connectionString;
    private BackgroundJobServer? _server;

    public DeadlineJobs(IServiceProvider services, IConfiguration configuration, ILogger<DeadlineJobs> logger, DatabaseSetup database)
    {
        _services = services;
        _configuration = configuration;
        _logger = logger;
        var options = new PostgreSqlStorageOptions
        {
            SchemaName = "hangfire",
            PrepareSchemaIfNecessary = true,
            QueuePollInterval = configuration.GetValue("Hangfire:QueuePollInterval", TimeSpan.FromSeconds(5)),
            DistributedLockTimeout = TimeSpan.FromMinutes(1),
        };
        _connectionString = database.ConnectionString;
        Storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(database.ConnectionString, options), options);
    }

    public JobStorage Storage { get; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var cron = _configuration["Deadlines:SweepCron"] is { Length: > 0 } configured ? configured : "*/5 * * * *";
        new RecurringJobManager(Storage).AddOrUpdate<DeadlineSweepJob>(DeadlineSweepJob.RecurringJobId, j => j.RunAsync(CancellationToken.None), cron,
            new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        new RecurringJobManager(Storage).AddOrUpdate<CheckpointJob>(CheckpointJob.RecurringJobId, j => j.RunAsync(CancellationToken.None),
            _configuration["Audit:CheckpointCron"] is { Length: > 0 } checkpointCron ? checkpointCron : "0 * * * *", new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        new RecurringJobManager(Storage).AddOrUpdate<CheckpointThinningJob>(CheckpointThinningJob.RecurringJobId, j => j.RunAsync(CancellationToken.None),
            _configuration["Audit:CheckpointThinningCron"] is { Length: > 0 } thinningCron ? thinningCron : "30 0 * * *",
            new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        new RecurringJobManager(Storage).AddOrUpdate<IdempotencyPurgeJob>(IdempotencyPurgeJob.RecurringJobId, j => j.RunAsync(CancellationToken.None),
            "17 * * * *", new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        if (_configuration.GetValue("Hangfire:Server", defaultValue: true))
        {
            _server = new BackgroundJobServer(new BackgroundJobServerOptions
            {
                ServerName = _configuration["NodeId"] is { Length: > 0 } node ? node : $"{Environment.MachineName}:{Environment.ProcessId}",
                WorkerCount = _configuration.GetValue("Hangfire:WorkerCount", 2),
                SchedulePollingInterval = _configuration.GetValue("Hangfire:SchedulePollingInterval", TimeSpan.FromSeconds(15)),
                Activator = new ServiceProviderJobActivator(_services),
            }, Storage);
            _logger.LogInformation("Hangfire server started; the deadline sweep runs on '{Cron}'", cron);
        }

        return Task.CompletedTask;
    }

    private static readonly Lazy<ILoggerFactory> ProcessLoggerFactory = new(() => LoggerFactory.Create(logging => logging.AddConsole()));

    /// <summary>One logger factory for Hangfire's static logging, alive as long as the process (never a host's, which is disposed with it).</summary>
    public static Hangfire.Logging.ILogProvider ProcessLogProvider { get; } = new Hangfire.AspNetCore.AspNetCoreLogProvider(ProcessLoggerFactory.Value);

    public bool IsServerRunning => _server is not null;

    /// <summary>Asks Hangfire to run the sweep now (on whichever node picks it up).</summary>
    public string TriggerSweep() => new RecurringJobManager(Storage).TriggerJob(DeadlineSweepJob.RecurringJobId);

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _server?.SendStop();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _server?.Dispose();
        _server = null;

        // Hangfire's storage opens connections by connection string, from a pool that outlives this host otherwise.
        using var pooled = new Npgsql.NpgsqlConnection(_connectionString);
        Npgsql.NpgsqlConnection.ClearPool(pooled);
    }

    /// <summary>Creates jobs from the host's own services.</summary>
    private sealed class ServiceProviderJobActivator(IServiceProvider services) : JobActivator
    {
        public override object ActivateJob(Type jobType) => ActivatorUtilities.GetServiceOrCreateInstance(services, jobType);
    }
}

