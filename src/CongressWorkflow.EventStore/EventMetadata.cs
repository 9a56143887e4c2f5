using CongressWorkflow.EventStore.Outbox;

namespace CongressWorkflow.EventStore;

/// <summary>Who caused an event: a user (or a system job), the role they acted in and their organisation.</summary>
public sealed record Actor(string UserId, string Role, string? OrganizationId = null);

/// <summary>Who, and in which causal chain, for every event of one append.</summary>
public sealed record EventMetadata(Actor Actor, Guid CorrelationId, Guid? CausationId = null);

/// <summary>An event to append: its id (chosen by the caller, so retries are idempotent), its data and optional headers.</summary>
/// <param name="Data">An instance of a registered event type, or <see cref="JsonEventData"/> for data that arrives as JSON.</param>
public sealed record NewEvent(Guid EventId, object Data, IReadOnlyDictionary<string, string>? Headers = null)
{
    /// <summary>
    /// An event with a fresh id that grows with time (UUID version 7): the unique index on event ids then takes new ids at
    /// its end rather than on a random page each. With random ids, at six million events, that index made every
    /// written event cost a read of a page that was not in memory.
    /// </summary>
    public static NewEvent WithNewId(object data) => new(Guid.CreateVersion7(), data);
}

/// <summary>Event data given as JSON text under a stable type name, e.g. from an import or another service.</summary>
public sealed record JsonEventData(string EventType, int SchemaVersion, string Json);

/// <summary>An event as stored: position, metadata, the hash chain link, and its data upcast to the current shape.</summary>
public sealed record RecordedEvent(
    Guid EventId,
    string StreamId,
    long StreamVersion,
    long GlobalPosition,
    string EventType,
    int SchemaVersion,
    DateTimeOffset RecordedAt,
    EventMetadata Metadata,
    IReadOnlyDictionary<string, string>? Headers,
    object Data,
    byte[] Hash);

public sealed record AppendResult(long StreamVersion, long FirstGlobalPosition, long LastGlobalPosition);

/// <summary>Limits of a stream read: up to a version and/or as of a moment (inclusive).</summary>
public sealed record StreamReadOptions(long? UpToVersion = null, DateTimeOffset? AsOf = null)
{
    public static StreamReadOptions All { get; } = new();
}

public sealed record StreamInfo(string StreamId, string StreamType, long Version, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>
/// One stream's part of a multi-stream append: its events at an expected version, and the outbox messages they cause.
/// <paramref name="Partition"/>: the partition of the events table a new stream is created in (null: the shared one).
/// An existing stream's events go to the partition it is in, whatever this says: a stream never moves (one created before
/// the table was partitioned stays in the shared partition though its campaign now has one).
/// </summary>
public sealed record StreamAppend(
    string StreamId, string StreamType, ExpectedVersion Expected, IReadOnlyList<NewEvent> Events, IReadOnlyList<OutboxMessage>? Outbox = null,
    string? Partition = null);
