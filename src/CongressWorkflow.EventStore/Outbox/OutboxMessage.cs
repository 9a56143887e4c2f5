namespace CongressWorkflow.EventStore.Outbox;

/// <summary>
/// A message to deliver once the events it follows from have committed. It is written in the same
/// transaction as those events, so either both exist or neither does.
/// </summary>
/// <param name="MessageId">Chosen by the caller; consumers de-duplicate on it (delivery is at least once).</param>
/// <param name="AvailableAt">Not delivered before this moment (a delayed message); null for as soon as possible.</param>
public sealed record OutboxMessage(
    Guid MessageId,
    string Destination,
    string MessageType,
    object Payload,
    DateTimeOffset? AvailableAt = null);

/// <summary>An outbox message claimed for delivery.</summary>
public sealed record PendingOutboxMessage(
    long Id,
    Guid MessageId,
    string Destination,
    string MessageType,
    string PayloadJson,
    Guid? CorrelationId,
    DateTimeOffset CreatedAt,
    int Attempts);
