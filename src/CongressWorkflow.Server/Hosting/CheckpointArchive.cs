using System.Collections.Concurrent;
using System.Globalization;
using CongressWorkflow.Integrity;
using CongressWorkflow.Access;
using CongressWorkflow.EventStore.Integrity;
using Npgsql;

namespace CongressWorkflow.Server.Hosting;

/// <summary>
/// Signed checkpoints of the store, written where the operator points them (Audit:CheckpointFolder, by default
/// checkpoints/ in the data folder; point it at storage the database administrator cannot write), signed with a key
/// kept outside the database (Audit:CheckpointKeyFile, by default checkpoint-key.pem in the data folder).
/// </summary>
public sealed class CheckpointArchive
{
    /// <summary>How a checkpoint's file is named: when it was taken, to the millisecond, so the names sort by time.</summary>
    private const string NameFormat = "'checkpoint-'yyyyMMdd'T'HHmmssfff'Z.json'";

    private readonly Checkpoints _checkpoints;

    /// <summary>
    /// What each file says of itself, by path, with the length and write time it was read at: a checkpoint is never
    /// rewritten once complete, and reading a national one's summary means reading all of its 215 MB.
    /// </summary>
    private readonly ConcurrentDictionary<string, (long Length, DateTime WrittenAt, CheckpointSummary? Summary)> _summaries = new(StringComparer.Ordinal);

    private long _summaryReads;

    public CheckpointArchive(NpgsqlDataSource dataSource, IConfiguration configuration, DatabaseSetup database)
    {
        var keyFile = configuration["Audit:CheckpointKeyFile"] is { Length: > 0 } configuredKey ? configuredKey : Path.Combine(database.DataFolder, "checkpoint-key.pem");
        Folder = configuration["Audit:CheckpointFolder"] is { Length: > 0 } configuredFolder ? configuredFolder : Path.Combine(database.DataFolder, "checkpoints");
        // Checkpoints are stamped with wall-clock time, whatever clock the business runs on.
        _checkpoints = new Checkpoints(dataSource, LocalSigningKey.LoadOrCreate(keyFile).ECDsa, TimeProvider.System);
    }

    public string Folder { get; }

    public string PublicKey => _checkpoints.PublicKey;

    /// <summary>How many times a file was read through to learn what it says of itself (the others were known already).</summary>
    public long SummaryReads => Interlocked.Read(ref _summaryReads);

    /// <summary>A new checkpoint in the folder, written under a temporary name and renamed when complete (a crash leaves no half checkpoint).</summary>
    public async Task<(CheckpointSummary Checkpoint, string File)> TakeAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Folder);
        var partial = Path.Combine(Folder, $"taking-{Guid.NewGuid():N}.json.partial");
        try
        {
            CheckpointSummary summary;
            await using (var output = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                summary = await _checkpoints.TakeAsync(output, cancellationToken);
            }

            var file = Path.Combine(Folder, summary.TakenAt.UtcDateTime.ToString(NameFormat, CultureInfo.InvariantCulture));
            File.Move(partial, file);
            var written = new FileInfo(file);
            _summaries[file] = (written.Length, written.LastWriteTimeUtc, summary);
            return (summary, file);
        }
        finally
        {
            File.Delete(partial);
        }
    }

    /// <summary>
    /// Every checkpoint file in the folder, oldest first (names sort by the time taken), with what it says of itself (null:
    /// not a readable checkpoint, for the caller to report). A file is read through once, as it streams by, in constant
    /// memory (a national store's checkpoint is 215 MB), and known from then on.
    /// </summary>
    public async Task<IReadOnlyList<(string File, CheckpointSummary? Summary)>> SummariesAsync(CancellationToken cancellationToken)
    {
        var found = new List<(string, CheckpointSummary?)>();
        foreach (var file in Files())
        {
            found.Add((file, await SummaryAsync(file, cancellationToken)));
        }

        return found;
    }

    /// <summary>The newest file that reads as a checkpoint (reading from the newest back), with what it says of itself.</summary>
    public async Task<(string File, CheckpointSummary Summary)?> LatestAsync(CancellationToken cancellationToken)
    {
        foreach (var file in Files().Reverse())
        {
            if (await SummaryAsync(file, cancellationToken) is { } summary)
            {
                return (file, summary);
            }
        }

        return null;
    }

    /// <summary>
    /// The first readable checkpoint taken at or after <paramref name="moment"/>, chosen by the times in the files' names
    /// and read alone: only the file chosen is read (and any before it that is unreadable, or taken within the millisecond
    /// its name shows but before the moment).
    /// </summary>
    public async Task<(string File, CheckpointSummary Summary)?> FirstTakenFromAsync(DateTimeOffset moment, CancellationToken cancellationToken)
    {
        var millisecond = moment.AddTicks(-(moment.UtcTicks % TimeSpan.TicksPerMillisecond));
        foreach (var file in Files().Where(f => TakenAtByName(f) >= millisecond))
        {
            if (await SummaryAsync(file, cancellationToken) is { } summary && summary.TakenAt >= moment)
            {
                return (file, summary);
            }
        }

        return null;
    }

    /// <summary>The checkpoint files, oldest first.</summary>
    public IReadOnlyList<string> Files() =>
        Directory.Exists(Folder) ? [.. Directory.GetFiles(Folder, "checkpoint-*.json").Order(StringComparer.Ordinal)] : [];

    /// <summary>When a checkpoint file was taken, as its name says; null for a name the archive did not give.</summary>
    public static DateTimeOffset? TakenAtByName(string file) =>
        DateTime.TryParseExact(Path.GetFileName(file), NameFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var taken)
            ? new DateTimeOffset(taken, TimeSpan.Zero)
            : null;

    /// <summary>A whole checkpoint with its heads (for a bundle, which carries it: one at a time, a national store's takes about a gigabyte), null when unreadable.</summary>
    public static async Task<SignedCheckpoint?> ReadAsync(string file, CancellationToken cancellationToken)
    {
        try
        {
            return SignedCheckpoints.Deserialize(await File.ReadAllTextAsync(file, cancellationToken));
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>A checkpoint file opened to be read as it streams.</summary>
    public static FileStream Open(string file) => new(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);

    /// <summary>The file opened as <see cref="Open"/> does; null when it is gone since it was listed (thinned out meanwhile).</summary>
    private static FileStream? OpenIfThere(string file)
    {
        try
        {
            return Open(file);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private async Task<CheckpointSummary?> SummaryAsync(string file, CancellationToken cancellationToken)
    {
        var info = new FileInfo(file);
        if (info.Exists && _summaries.TryGetValue(file, out var known) && known.Length == info.Length && known.WrittenAt == info.LastWriteTimeUtc)
        {
            return known.Summary;
        }

        await using var stream = info.Exists ? OpenIfThere(file) : null;
        if (stream is null)
        {
            _summaries.TryRemove(file, out _);
            return null;
        }

        Interlocked.Increment(ref _summaryReads);
        var summary = await SignedCheckpoints.ReadSummaryAsync(stream, cancellationToken);
        _summaries[file] = (info.Length, info.LastWriteTimeUtc, summary);
        return summary;
    }

    /// <summary>Compares a checkpoint document with the store as the document streams by (a file of the archive, or an auditor's own copy).</summary>
    public Task<CheckpointComparison> CompareAsync(Stream document, CancellationToken cancellationToken) =>
        _checkpoints.CompareAsync(document, PublicKey, cancellationToken);

    /// <summary>
    /// Compares a file of the archive with the store; a file that is not a checkpoint is reported as such. Null when the
    /// file is gone since it was listed (thinned out meanwhile).
    /// </summary>
    public async Task<IReadOnlyList<IntegrityViolation>?> CompareFileAsync(string file, CancellationToken cancellationToken)
    {
        await using var stream = OpenIfThere(file);
        if (stream is null)
        {
            return null;
        }

        var comparison = await CompareAsync(stream, cancellationToken);
        return comparison.Defect is { } defect
            ? [new IntegrityViolation("(checkpoint)", 0, null, $"{Path.GetFileName(file)} cannot be read: {defect.Detail}")]
            : comparison.Violations;
    }

    /// <summary>
    /// Removes the checkpoints <paramref name="retention"/> no longer keeps at <paramref name="now"/>, once the store is
    /// found to extend each of them and the newest, and the newest's heads to reach theirs: the newest then pins, on the
    /// same chains, everything they pinned.
    /// Nothing is removed when any of those comparisons finds a break (the files are the evidence of it), nor a file
    /// that does not read as a checkpoint or whose name the archive did not give.
    /// </summary>
    public async Task<CheckpointThinning> ThinAsync(CheckpointRetention retention, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var readable = new List<(string File, DateTimeOffset TakenAt)>();
        foreach (var file in Files())
        {
            if (TakenAtByName(file) is { } taken && await SummaryAsync(file, cancellationToken) is not null)
            {
                readable.Add((file, taken));
            }
        }

        var removable = retention.Removable(readable, c => c.TakenAt, now);
        if (removable.Count == 0)
        {
            return new CheckpointThinning(readable.Count, [], 0, []);
        }

        var violations = new List<IntegrityViolation>();
        foreach (var (file, _) in removable.Append(readable[^1]))
        {
            violations.AddRange(await CompareFileAsync(file, cancellationToken) ?? []);
        }

        // The store extending both is not enough if it was cut back before the newest was taken and restored since.
        if (violations.Count == 0)
        {
            violations.AddRange(await NotReachedByAsync([.. removable.Select(r => r.File)], readable[^1].File, cancellationToken));
        }

        if (violations.Count > 0)
        {
            return new CheckpointThinning(readable.Count, [], 0, violations);
        }

        long freed = 0;
        foreach (var (file, _) in removable)
        {
            freed += new FileInfo(file).Length;
            File.Delete(file);
            _summaries.TryRemove(file, out _);
        }

        return new CheckpointThinning(readable.Count - removable.Count, [.. removable.Select(r => Path.GetFileName(r.File))], freed, []);
    }

    /// <summary>
    /// The heads of the <paramref name="older"/> checkpoints that <paramref name="newer"/> does not reach: a stream it
    /// lacks, or has at a lower version. Every file lists its heads in code-point order of stream id, so all are read
    /// side by side, each once (the newest is 229 MB at national scale, and a night's thinning removes 23 files).
    /// </summary>
    private static async Task<IReadOnlyList<IntegrityViolation>> NotReachedByAsync(IReadOnlyList<string> older, string newer, CancellationToken cancellationToken)
    {
        var opened = new List<(string File, FileStream Stream, CheckpointReading Reading, IAsyncEnumerator<StreamHead> Heads)>();
        try
        {
            foreach (var file in older.Append(newer))
            {
                if (OpenIfThere(file) is { } stream)
                {
                    var reading = CheckpointReading.HeadsOnly(stream);
                    opened.Add((file, stream, reading, reading.HeadsAsync(cancellationToken).GetAsyncEnumerator(cancellationToken)));
                }
            }

            if (opened.Count < older.Count + 1)
            {
                return [];
            }

            var newest = opened[^1];
            var violations = new List<IntegrityViolation>();
            var olderOnes = new List<(string File, IAsyncEnumerator<StreamHead> Heads)>();
            foreach (var (file, _, _, heads) in opened.SkipLast(1))
            {
                if (await heads.MoveNextAsync())
                {
                    olderOnes.Add((file, heads));
                }
            }

            // Each of the newest's heads in turn: an older head before it in the order is a stream the newest lacks.
            var hasNewest = await newest.Heads.MoveNextAsync();
            while (olderOnes.Count > 0)
            {
                var reached = hasNewest ? newest.Heads.Current : null;
                for (var i = olderOnes.Count - 1; i >= 0; i--)
                {
                    var (file, heads) = olderOnes[i];
                    var more = true;
                    while (more && (reached is null || SignedCheckpoints.Order.Compare(heads.Current.StreamId, reached.StreamId) <= 0))
                    {
                        var head = heads.Current;
                        if (reached is null || head.StreamId != reached.StreamId || reached.Version < head.Version)
                        {
                            violations.Add(new IntegrityViolation(head.StreamId, head.Version, head.GlobalPosition,
                                $"{Path.GetFileName(file)} has this head, and the newest checkpoint, {Path.GetFileName(newer)}, does not reach it"));
                        }

                        more = await heads.MoveNextAsync();
                    }

                    if (!more)
                    {
                        olderOnes.RemoveAt(i);
                    }
                }

                hasNewest = hasNewest && await newest.Heads.MoveNextAsync();
            }

            return violations;
        }
        finally
        {
            foreach (var (_, stream, reading, heads) in opened)
            {
                await heads.DisposeAsync();
                reading.Dispose();
                await stream.DisposeAsync();
            }
        }
    }
}

/// <summary>What a thinning of the archive did: the checkpoints kept and removed, or the breaks that stopped it removing any.</summary>
public sealed record CheckpointThinning(int Kept, IReadOnlyList<string> Removed, long BytesFreed, IReadOnlyList<IntegrityViolation> Violations);
