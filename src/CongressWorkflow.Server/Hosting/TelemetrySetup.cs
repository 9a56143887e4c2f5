using CongressWorkflow.EventStore.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CongressWorkflow.Server.Hosting;

/// <summary>
/// Traces and metrics of the CongressWorkflow ActivitySource and Meter (and ASP.NET Core's requests), exported over
/// OTLP/HTTP when Telemetry:OtlpEndpoint (or OTEL_EXPORTER_OTLP_ENDPOINT) names a collector. Wired by hand: the
/// hosting integration package is not available here.
/// </summary>
public sealed class TelemetrySetup : IDisposable
{
    private readonly TracerProvider? _tracing;
    private readonly MeterProvider? _metrics;

    private TelemetrySetup(TracerProvider? tracing, MeterProvider? metrics)
    {
        _tracing = tracing;
        _metrics = metrics;
    }

    public static TelemetrySetup Start(IConfiguration configuration, string serviceInstanceId)
    {
        var endpoint = configuration["Telemetry:OtlpEndpoint"] is { Length: > 0 } configured
            ? configured
            : Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT");
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return new TelemetrySetup(null, null);
        }

        var baseUri = new Uri(endpoint.TrimEnd('/') + "/");
        var resource = ResourceBuilder.CreateDefault().AddService("congress-workflow", serviceInstanceId: serviceInstanceId);
        var tracing = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            // Commands are human-paced and few: record every trace, whatever sampling flag a caller's context carries.
            .SetSampler(new AlwaysOnSampler())
            .AddSource(CongressTelemetry.Name, "Microsoft.AspNetCore")
            .AddOtlpExporter(o =>
            {
                o.Protocol = OtlpExportProtocol.HttpProtobuf;
                o.Endpoint = new Uri(baseUri, "v1/traces");
            })
            .Build();
        var metrics = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(CongressTelemetry.Name, "Microsoft.AspNetCore.Hosting")
            .AddOtlpExporter((o, reader) =>
            {
                o.Protocol = OtlpExportProtocol.HttpProtobuf;
                o.Endpoint = new Uri(baseUri, "v1/metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 10_000;
            })
            .Build();
        return new TelemetrySetup(tracing, metrics);
    }

    /// <summary>Flushes what is buffered (waiting up to 30 s: on a busy machine the first export is slow), then stops.</summary>
    public void Dispose()
    {
        _tracing?.ForceFlush(30_000);
        _metrics?.ForceFlush(30_000);
        _tracing?.Dispose();
        _metrics?.Dispose();
    }
}
