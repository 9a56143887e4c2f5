namespace CongressWorkflow.Integrity;

/// <summary>
/// Which checkpoints an archive keeps as they age: every one younger than <see cref="KeepAll"/>, then the last of each
/// UTC day until <see cref="KeepDaily"/>, then the last of each month. An hourly checkpoint of a national store is
/// 215 MB; kept whole that is 5 GB a day, and checking every one takes longer each day.
/// </summary>
/// <remarks>
/// Thinning loses no evidence as long as a checkpoint is removed only while the store extends it and a later
/// checkpoint that is kept: the kept one's heads then lie on the same chains, at or past the removed one's, so any
/// later rewrite of what the removed one pinned breaks the kept one too (<c>CheckpointThinningJob</c>).
/// </remarks>
public sealed record CheckpointRetention(TimeSpan KeepAll, TimeSpan KeepDaily)
{
    public static readonly CheckpointRetention Default = new(TimeSpan.FromDays(1), TimeSpan.FromDays(31));

    /// <summary>
    /// The checkpoints to remove at <paramref name="now"/>, oldest first: past the first window, one that has a newer one
    /// kept in its day (in its month, past the second window). The newest is always kept.
    /// </summary>
    public IReadOnlyList<TCheckpoint> Removable<TCheckpoint>(IEnumerable<TCheckpoint> checkpoints, Func<TCheckpoint, DateTimeOffset> takenAt, DateTimeOffset now)
    {
        var removable = new List<TCheckpoint>();
        // Newest first, each one kept marking its day and its month as having a checkpoint kept.
        var keptIn = new HashSet<(int Year, int Month, int Day)>();
        var newest = true;
        foreach (var checkpoint in checkpoints.OrderByDescending(takenAt))
        {
            var taken = takenAt(checkpoint).UtcDateTime;
            var (day, month) = ((taken.Year, taken.Month, taken.Day), (taken.Year, taken.Month, 0));
            var age = now - takenAt(checkpoint);
            if (!newest && age >= KeepAll && keptIn.Contains(age < KeepDaily ? day : month))
            {
                removable.Add(checkpoint);
                continue;
            }

            newest = false;
            keptIn.Add(day);
            keptIn.Add(month);
        }

        removable.Reverse();
        return removable;
    }
}
