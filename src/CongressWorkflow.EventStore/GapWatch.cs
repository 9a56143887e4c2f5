namespace CongressWorkflow.EventStore;

/// <summary>
/// What a store has learnt about gaps in the global order: heads it saw while some lower position was missing, each
/// with the xmax of the snapshot it was seen in. When a later snapshot's xmin has reached that xmax, every position up
/// to that head is final (see PostgresEventStore.SafeBoundAsync for why).
/// </summary>
internal sealed class GapWatch
{
    private readonly Lock _gate = new();
    private readonly List<(long Head, ulong Xmax)> _pending = [];
    private long _finalUpTo;

    /// <summary>Positions up to the returned one are final; records the head as a new watch if it is not yet known final.</summary>
    public long Resolve(ulong xmin, long head, ulong xmax, long contiguousEnd)
    {
        lock (_gate)
        {
            foreach (var (watchedHead, watchedXmax) in _pending.Where(p => p.Xmax <= xmin).ToList())
            {
                _finalUpTo = Math.Max(_finalUpTo, watchedHead);
                _pending.Remove((watchedHead, watchedXmax));
            }

            if (head > Math.Max(contiguousEnd, _finalUpTo) && !_pending.Any(p => p.Head >= head))
            {
                _pending.Add((head, xmax));
            }

            return _finalUpTo;
        }
    }
}
