namespace CongressWorkflow.EventStore;

/// <summary>Stable codes of the event store's typed errors; callers map them to HTTP problems or CLI messages.</summary>
public static class EventStoreErrorCodes
{
    public const string ConcurrencyConflict = "concurrency-conflict";
    public const string StreamTypeMismatch = "stream-type-mismatch";
    public const string InvalidStreamId = "invalid-stream-id";
    public const string InvalidExpectedVersion = "invalid-expected-version";
    public const string UnknownEventType = "unknown-event-type";
    public const string InvalidEventData = "invalid-event-data";
    public const string DuplicateEvent = "duplicate-event";
    public const string InvalidAppend = "invalid-append";
    /// <summary>A new stream for a partition that has not been created (<see cref="PostgresEventStore.CreatePartitionAsync"/>).</summary>
    public const string UnknownPartition = "unknown-partition";
}

/// <summary>An error the event store reports on purpose, with a stable <see cref="Code"/>. Nothing was written.</summary>
public class EventStoreException(string code, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    public string Code { get; } = code;

    /// <summary>True when what is stored cannot be read back (not the caller's fault: a server error).</summary>
    public bool IsStoredDataFault { get; init; }
}

/// <summary>The stream was not at the expected version: another writer got there first. Nothing was written.</summary>
public sealed class ConcurrencyException(string streamId, ExpectedVersion expected, long actualVersion, Exception? innerException = null)
    : EventStoreException(
        EventStoreErrorCodes.ConcurrencyConflict,
        $"stream '{streamId}' is at version {actualVersion}, expected {expected}",
        innerException)
{
    public string StreamId { get; } = streamId;

    public ExpectedVersion Expected { get; } = expected;

    public long ActualVersion { get; } = actualVersion;
}
