using CongressWorkflow.Contracts;
using CongressWorkflow.Engine;
using CongressWorkflow.Engine.Audit;
using CongressWorkflow.Engine.Campaigns;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Congresses;
using CongressWorkflow.Engine.Deadlines;
using CongressWorkflow.Engine.Demo;
using CongressWorkflow.Engine.Import;
using CongressWorkflow.Engine.Monitoring;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Integrity;
using CongressWorkflow.EventStore.Outbox;
using CongressWorkflow.EventStore.Projections;
using CongressWorkflow.Server.Api;
using CongressWorkflow.Server.Hosting;
using Hangfire;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace CongressWorkflow.Server;

/// <summary>
/// The web host with everything it owns: the database (embedded or configured), telemetry and the app.
/// Tests build it the same way the program does, with their own configuration on top.
/// </summary>
public sealed class CongressServer : IAsyncDisposable
{
    private readonly DatabaseSetup _database;

    private CongressServer(WebApplication app, DatabaseSetup database)
    {
        App = app;
        _database = database;
    }

    public WebApplication App { get; }

    /// <summary>The address Kestrel listens on once started (useful with port 0).</summary>
    public Uri BaseAddress => new(App.Urls.First());

    public static async Task<CongressServer> CreateAsync(
        string[] args, IDictionary<string, string?>? overrides = null, Action<IServiceCollection>? configureServices = null)
    {
        // The binaries' folder holds appsettings.json and wwwroot, wherever the process was started from (tests included).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        // Settings the server cannot run with are refused before the database is started.
        var checkpointRetention = CheckpointRetentionSetting.From(builder.Configuration);
        using var startupLogs = LoggerFactory.Create(logging => logging.AddConsole());
        var database = await DatabaseSetup.OpenAsync(builder.Configuration, startupLogs.CreateLogger<CongressServer>());
        try
        {
            var dataSource = StoreDataSource.Create(database.ConnectionString);
            await EngineSchema.MigrateAsync(dataSource);
            if (builder.Configuration.GetValue("Demo:Load", defaultValue: true) && await new DemoCampaign(dataSource).LoadIfEmptyAsync())
            {
                startupLogs.CreateLogger<CongressServer>().LogInformation("Loaded the demo campaign (the database was empty)");
            }

            builder.Services.AddTelemetry(builder.Configuration, Environment.MachineName + ":" + Environment.ProcessId);
            builder.Services.AddSingleton(database);
            builder.Services.AddSingleton(dataSource);
            builder.Services.TryAddSingleton(TimeProvider.System);
            builder.Services.AddSingleton(DomainEventTypes.CreateRegistry());
            builder.Services.AddSingleton<PostgresEventStore>();
            builder.Services.AddSingleton<IntegrityVerifier>();
            builder.Services.AddSingleton<CheckpointArchive>();
            builder.Services.AddSingleton(checkpointRetention);
            builder.Services.AddSingleton<CommandPipeline>();
            builder.Services.AddSingleton<OrganizationTree>();
            builder.Services.AddSingleton<OrganizationService>();
            builder.Services.AddSingleton<CampaignService>();
            builder.Services.AddSingleton<CongressService>();
            builder.Services.AddSingleton<ConformanceService>();
            builder.Services.AddSingleton<OrganizationImport>();
            // Monitoring reads go to the streaming replica when one is configured; everything else to the primary.
            builder.Services.AddSingleton(_ => ReadReplica.From(builder.Configuration));
            builder.Services.AddSingleton(services => new ProgressQueries(
                services.GetRequiredService<ReadReplica>().DataSource ?? services.GetRequiredService<NpgsqlDataSource>()));
            builder.Services.AddSingleton<DeadlinePolicyService>();
            builder.Services.AddSingleton<DeadlineQueries>();
            builder.Services.AddSingleton<DeadlineBoardAsKnown>();
            builder.Services.AddSingleton<SimulationRunner>();
            builder.Services.AddSingleton<SubscriptionService>();
            builder.Services.AddSingleton<DeadlineSweep>();
            builder.Services.AddHttpClient("webhooks", client => client.Timeout = TimeSpan.FromSeconds(15))
                .ConfigurePrimaryHttpMessageHandler(WebhookConnections.CreateHandler);
            builder.Services.AddSingleton(services => new NotificationDelivery(
                dataSource,
                services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<IHttpClientFactory>().CreateClient("webhooks"),
                builder.Configuration.GetSection("Notifications:Smtp").Get<SmtpSettings>() ?? new SmtpSettings(null),
                new OutboxDispatcherOptions
                {
                    MaxAttempts = builder.Configuration.GetValue("Notifications:MaxAttempts", 6),
                    WorkerId = builder.Configuration["NodeId"] is { Length: > 0 } worker ? worker : $"{Environment.MachineName}:{Environment.ProcessId}",
                }));
            // Hangfire's dashboard middleware insists on its services being registered; the storage itself is passed
            // explicitly everywhere (DeadlineJobs), never through Hangfire's static JobStorage.Current. Its logging is
            // static too: left to AddHangfire, it would log through this host's logger factory and fail in every other
            // host of the process (tests, several nodes) once this one is disposed.
            builder.Services.AddHangfire(configuration => configuration.UseLogProvider(DeadlineJobs.ProcessLogProvider));
            builder.Services.AddSingleton<DeadlineJobs>();
            builder.Services.AddHostedService(services => services.GetRequiredService<DeadlineJobs>());
            builder.Services.AddHostedService<DeliveryHost>();
            builder.Services.AddSingleton(services => new ProjectionDaemon(
                dataSource,
                services.GetRequiredService<PostgresEventStore>(),
                [new ProgressProjection(), new ApprovalAuditProjection()],
                new ProjectionDaemonOptions { NodeId = builder.Configuration["NodeId"] is { Length: > 0 } node ? node : $"{Environment.MachineName}:{Environment.ProcessId}" },
                (projection, error) => services.GetRequiredService<ILogger<ProjectionDaemon>>().LogWarning(error, "Projection {Projection}", projection)));
            builder.Services.AddHostedService<ProjectionHost>();
            // Problems written by the framework itself (an unknown route, a wrong method) carry a stable code too.
            builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
            {
                context.ProblemDetails.Extensions.TryAdd("code", context.ProblemDetails.Status switch
                {
                    StatusCodes.Status404NotFound => RequestErrorCodes.NotFound,
                    StatusCodes.Status405MethodNotAllowed => "method-not-allowed",
                    StatusCodes.Status415UnsupportedMediaType => RequestErrorCodes.UnsupportedMediaType,
                    // A JSON body over Limits:MaxBodyBytes is refused by the binding itself, never reaching ProblemMapping.
                    StatusCodes.Status413PayloadTooLarge => RequestErrorCodes.BodyTooLarge,
                    var status => $"http-{status}",
                });
                if (context.ProblemDetails.Status == StatusCodes.Status415UnsupportedMediaType)
                {
                    context.ProblemDetails.Detail ??= $"this endpoint does not take a body of type '{context.HttpContext.Request.ContentType}'";
                }

                if (context.ProblemDetails.Status == StatusCodes.Status413PayloadTooLarge)
                {
                    context.ProblemDetails.Detail ??= "the body is larger than this endpoint takes (Limits:MaxBodyBytes, Limits:MaxImportBytes for an import, Limits:MaxCheckpointBytes for a checkpoint)";
                }
            });
            builder.Services.AddCongressAccess(builder.Configuration, database.DataFolder);
            builder.Services.AddCongressHealth();
            builder.Services.AddCongressOpenApi();
            // JSON bodies are small; an organisation tree import may be large (Limits:MaxImportBytes, checked by the import endpoint).
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = builder.Configuration.GetValue("Limits:MaxImportBytes", 64L * 1024 * 1024));

            // A body that does not bind (malformed JSON, an unknown enum value) reaches ProblemMapping as malformed-request.
            builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
            builder.Services.AddExceptionHandler<ProblemMapping>();
            builder.Services.ConfigureHttpJsonOptions(o =>
            {
                // A field the API does not know (a typo such as "plannedDte", or junk) is refused, not silently dropped.
                o.SerializerOptions.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow;
                // A field given twice ({"id": "a", ..., "id": "b"}) is refused: a proxy or log reading the first would see another request than the one carried out.
                o.SerializerOptions.AllowDuplicateProperties = false;
                o.SerializerOptions.Converters.Add(WireJson.EnumsByName);
            });
            configureServices?.Invoke(builder.Services);

            var app = builder.Build();
            app.UseExceptionHandler();
            app.UseStatusCodePages();
            app.UseDefaultFiles();
            app.UseStaticFiles();
            app.UseAuthentication();
            app.UseAuthorization();
            app.UseMiddleware<RequestSizeLimit>();
            // A command with an idempotency key is hashed with its body, read again after binding.
            app.Use((http, next) =>
            {
                if (http.Request.Headers.ContainsKey(IdempotencyFilter.Header))
                {
                    http.Request.EnableBuffering();
                }

                return next(http);
            });
            app.MapCongressHealth();
            app.MapCongressOpenApi();
            app.MapSignInEndpoints();
            var api = app.MapGroup(string.Empty).AddEndpointFilter<EdgeValidation>().AddEndpointFilter<IdempotencyFilter>()
                .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
                .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity)
                .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
            api.MapStoreEndpoints();
            api.MapOrganizationEndpoints();
            api.MapCongressEndpoints();
            api.MapMonitoringEndpoints();
            api.MapDeadlineEndpoints();
            api.MapSimulationEndpoints();
            app.UseHangfireDashboard("/hangfire",
                new DashboardOptions { AsyncAuthorization = [new OperatorDashboardFilter()], DisplayStorageConnectionString = false, AppPath = "/" },
                app.Services.GetRequiredService<DeadlineJobs>().Storage);
            return new CongressServer(app, database);
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        TelemetrySetup.Flush(App.Services);
        await App.DisposeAsync();
        await _database.DisposeAsync();
    }
}
