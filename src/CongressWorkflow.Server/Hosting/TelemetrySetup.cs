using CongressWorkflow.EventStore.Telemetry;
using Npgsql;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CongressWorkflow.Server.Hosting;

/// <summary>
/// Traces and metrics through OpenTelemetry's hosting integration: the CongressWorkflow ActivitySource and Meter
/// (commands, appends, projections, the deadline sweep, deliveries), ASP.NET Core requests, outgoing HttpClient calls
/// (webhooks), Npgsql's statements and the .NET runtime, exported over OTLP/HTTP when Telemetry:OtlpEndpoint (or
/// OTEL_EXPORTER_OTLP_ENDPOINT) names a collector. One HTTP command is one trace: request, command, append, statements.
/// </summary>
public static class TelemetrySetup
{
    public static void AddTelemetry(this IServiceCollection services, IConfiguration configuration, string serviceInstanceId)
    {
        var endpoint = configuration["Telemetry:OtlpEndpoint"] is { Length: > 0 } configured
            ? configured
            : Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT");
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return;
        }

        var baseUri = new Uri(endpoint.TrimEnd('/') + "/");
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("congress-workflow", serviceInstanceId: serviceInstanceId))
            .WithTracing(tracing => tracing
                // Commands are human-paced and few: record every trace, whatever sampling flag a caller's context carries.
                .SetSampler(new AlwaysOnSampler())
                .AddSource(CongressTelemetry.Name)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddOtlpExporter(o =>
                {
                    o.Protocol = OtlpExportProtocol.HttpProtobuf;
                    o.Endpoint = new Uri(baseUri, "v1/traces");
                }))
            .WithMetrics(metrics => metrics
                .AddMeter(CongressTelemetry.Name)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddOtlpExporter((o, reader) =>
                {
                    o.Protocol = OtlpExportProtocol.HttpProtobuf;
                    o.Endpoint = new Uri(baseUri, "v1/metrics");
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 10_000;
                }));
    }

    /// <summary>Flushes what is buffered before the host goes (waiting up to 30 s: on a busy machine the first export is slow).</summary>
    public static void Flush(IServiceProvider services)
    {
        services.GetService<TracerProvider>()?.ForceFlush(30_000);
        services.GetService<MeterProvider>()?.ForceFlush(30_000);
    }
}
