namespace CongressWorkflow.EventStore;

/// <summary>
/// What a store has learnt about gaps in the global order. A gap is watched as the head seen beyond it and a
/// transaction id drawn after that head was seen; once no transaction older than that id is still running, every
/// position up to the head is final (see PostgresEventStore.FinalBoundAsync for why). One watch at a time: under a
/// steady stream of appends a reader moves on by whole watches rather than drawing an id on every read.
/// </summary>
internal sealed class GapWatch
{
    private readonly Lock _gate = new();
    private (long Head, ulong DrawnAfter)? _pending;
    private long _finalUpTo;

    /// <summary>Positions up to the returned one are final, given the oldest transaction id still running.</summary>
    public long FinalUpTo(ulong oldestRunning)
    {
        lock (_gate)
        {
            if (_pending is { } watch && watch.DrawnAfter < oldestRunning)
            {
                _finalUpTo = Math.Max(_finalUpTo, watch.Head);
                _pending = null;
            }

            return _finalUpTo;
        }
    }

    public bool IsWatching
    {
        get
        {
            lock (_gate)
            {
                return _pending is not null;
            }
        }
    }

    public void Watch(long head, ulong drawnAfter)
    {
        lock (_gate)
        {
            _pending ??= (head, drawnAfter);
        }
    }
}
