using System.Globalization;

namespace CongressWorkflow.EventStore;

/// <summary>What the writer believes the stream's version is: any, no stream yet, or exactly n events.</summary>
public readonly record struct ExpectedVersion
{
    private ExpectedVersion(long value) => Value = value;

    /// <summary>-1 for any, 0 for no stream, n for exactly n events.</summary>
    public long Value { get; }

    public static ExpectedVersion Any { get; } = new(-1);

    public static ExpectedVersion NoStream { get; } = new(0);

    public static ExpectedVersion Exactly(long version) => version >= 0
        ? new ExpectedVersion(version)
        : throw new EventStoreException(
            EventStoreErrorCodes.InvalidExpectedVersion,
            $"expected version must be 0 (no stream) or a positive stream version, not {version}");

    public override string ToString() => Value switch
    {
        -1 => "any",
        0 => "no stream",
        _ => Value.ToString(CultureInfo.InvariantCulture),
    };
}
