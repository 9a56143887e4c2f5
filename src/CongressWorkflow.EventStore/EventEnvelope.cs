using System.Text.Json;

namespace CongressWorkflow.EventStore;

/// <summary>
/// The wire form of a stored event (API responses, exports, audits), described by
/// schemas/event-envelope.v1.schema.json. The hash is lower-case hex.
/// </summary>
public sealed record EventEnvelope(
    Guid EventId,
    string StreamId,
    long StreamVersion,
    long GlobalPosition,
    string EventType,
    int SchemaVersion,
    DateTimeOffset RecordedAt,
    Actor Actor,
    Guid CorrelationId,
    Guid? CausationId,
    IReadOnlyDictionary<string, string>? Headers,
    JsonElement Data,
    string Hash)
{
    public static EventEnvelope From(RecordedEvent e, JsonSerializerOptions options) => new(
        e.EventId,
        e.StreamId,
        e.StreamVersion,
        e.GlobalPosition,
        e.EventType,
        e.SchemaVersion,
        e.RecordedAt,
        e.Metadata.Actor,
        e.Metadata.CorrelationId,
        e.Metadata.CausationId,
        e.Headers,
        JsonSerializer.SerializeToElement(e.Data, e.Data.GetType(), options),
        Convert.ToHexStringLower(e.Hash));
}
