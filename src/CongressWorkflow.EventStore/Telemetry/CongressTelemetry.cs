using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CongressWorkflow.EventStore.Telemetry;

/// <summary>The ActivitySource and Meter every CongressWorkflow component reports through.</summary>
public static class CongressTelemetry
{
    public const string Name = "CongressWorkflow";

    public static readonly ActivitySource ActivitySource = new(Name);

    public static readonly Meter Meter = new(Name);

    internal static readonly Counter<long> EventsAppended =
        Meter.CreateCounter<long>("cw.eventstore.events_appended", unit: "{event}", description: "Events appended to the store");

    internal static readonly Counter<long> ConcurrencyConflicts =
        Meter.CreateCounter<long>("cw.eventstore.concurrency_conflicts", unit: "{conflict}", description: "Appends rejected by the expected version");

    internal static readonly Histogram<double> AppendDuration =
        Meter.CreateHistogram<double>("cw.eventstore.append.duration", unit: "ms", description: "Time to append one batch of events");

    internal static readonly Counter<long> OutboxDelivered =
        Meter.CreateCounter<long>("cw.outbox.delivered", unit: "{message}", description: "Outbox messages delivered");

    internal static readonly Counter<long> OutboxFailed =
        Meter.CreateCounter<long>("cw.outbox.failed", unit: "{message}", description: "Outbox delivery attempts that failed");
}
