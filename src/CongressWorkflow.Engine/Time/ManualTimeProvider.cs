namespace CongressWorkflow.Engine.Time;

/// <summary>
/// A clock that moves only when told to: tests run weeks of a campaign without sleeping, and the demo loader
/// replays a historical campaign on its real dates.
/// </summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly Lock _gate = new();
    private DateTimeOffset _now = start.ToUniversalTime();

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        lock (_gate)
        {
            _now += by;
        }
    }

    public void SetUtcNow(DateTimeOffset now)
    {
        lock (_gate)
        {
            if (now < _now)
            {
                throw new ArgumentOutOfRangeException(nameof(now), "time does not go backwards");
            }

            _now = now.ToUniversalTime();
        }
    }
}
