using System.Text.Json;

namespace CongressWorkflow.Integrity;

/// <summary>One stored event, every field the chain covers, as the bundle carries it.</summary>
public sealed record BundledEvent(
    long GlobalPosition, Guid EventId, long StreamVersion, string EventType, int SchemaVersion, DateTimeOffset RecordedAt,
    string ActorId, string ActorRole, string? ActorOrg, Guid CorrelationId, Guid? CausationId, JsonElement? Headers, JsonElement Data,
    string Hash);

/// <summary>
/// A stream's events from the period's start up to the checkpoint, and the link before the first of them (the anchor:
/// version 0 and the genesis hash when the stream starts in the period). Chained from the anchor, the events must
/// arrive exactly at the head the checkpoint signed, so neither the anchor nor any event can be forged. In a pinned
/// bundle the stream carries that head, with the proof that the signed Merkle root has it.
/// </summary>
public sealed record BundledStream(string StreamId, string StreamType, long AnchorVersion, string AnchorHash, IReadOnlyList<BundledEvent> Events, PinnedHead? Head = null);

/// <summary>A stream's head as the checkpoint has it, its place among the checkpoint's heads (code-point order) and the hashes beside its path to the Merkle root.</summary>
public sealed record PinnedHead(long Version, long GlobalPosition, string Hash, long Index, IReadOnlyList<string> Proof);

/// <summary>
/// A self-contained record for an inspection: events, hashes, and what pins them, with its public key. Format 1 carries
/// the whole signed checkpoint (every head of the store: 215 MB at 300,000 organisations); format 2 the checkpoint's
/// signed pin, and with each stream its head and the proof of it (some twenty hashes). The streams come last, so that
/// a reader knows what pins them before the first (<see cref="AuditBundleReading"/>).
/// </summary>
public sealed record AuditBundle(
    string Format, DateTimeOffset ExportedAt, string Root, DateOnly? From, DateOnly? To, SignedCheckpoint? Checkpoint,
    [property: System.Text.Json.Serialization.JsonPropertyOrder(1)] IReadOnlyList<BundledStream> Streams, SignedPin? Pin = null)
{
    public const string WholeCheckpointFormat = "congressworkflow/audit-bundle/1";
    public const string PinnedFormat = "congressworkflow/audit-bundle/2";

    /// <summary>When the checkpoint that pins the bundle was taken.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DateTimeOffset PinnedAt => Pin?.Statement.TakenAt ?? Checkpoint?.Checkpoint.TakenAt ?? default;

    /// <summary>The key the bundle says signed it (trusted only when it is the one the auditor pins).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string SignerKey => Pin?.PublicKey ?? Checkpoint?.PublicKey ?? "";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };
}

/// <summary>What an offline check of a bundle found; the first broken link by global position comes first.</summary>
public sealed record BundleReport(bool SignatureValid, bool KeyPinned, int Streams, long Events, IReadOnlyList<IntegrityViolation> Violations)
{
    public bool IsIntact => SignatureValid && Violations.Count == 0;

    public IntegrityViolation? FirstViolation => Violations.MinBy(v => v.GlobalPosition ?? long.MaxValue);
}

/// <summary>The offline check of an audit bundle: no server, no database, nothing but the bundle (and the key to trust).</summary>
public static class AuditBundles
{
    /// <summary>
    /// Checks a bundle with nothing but itself: the signature of its checkpoint or pin (by <paramref name="trustedPublicKey"/>
    /// when given, else by the key the bundle names, which proves integrity but not who signed), in a pinned bundle each
    /// stream's head against the signed Merkle root, then every stream's chain from its anchor through each event's
    /// recomputed digest to the head the checkpoint signed.
    /// </summary>
    public static BundleReport Verify(AuditBundle bundle, string? trustedPublicKey)
    {
        var verification = new BundleVerification(bundle, trustedPublicKey);
        foreach (var stream in bundle.Streams)
        {
            verification.Add(stream);
        }

        return verification.Report();
    }

    /// <summary>
    /// <see cref="Verify"/> of a bundle document read as it streams (<see cref="AuditBundleReading"/>), a stream at a
    /// time: the whole simulated tree's bundle of a 30,000-organisation store is 550 MB, a national one's ten times that.
    /// Throws <see cref="JsonException"/> when the document is not a bundle.
    /// </summary>
    public static async Task<(AuditBundle Bundle, BundleReport Report)> VerifyAsync(Stream document, string? trustedPublicKey, CancellationToken cancellationToken = default)
    {
        var reading = new AuditBundleReading(document);
        BundleVerification? verification = null;
        await foreach (var stream in reading.StreamsAsync(cancellationToken))
        {
            verification ??= new BundleVerification(reading.Bundle!, trustedPublicKey);
            verification.Add(stream);
        }

        verification ??= new BundleVerification(reading.Bundle!, trustedPublicKey);
        return (reading.Bundle!, verification.Report());
    }

    /// <summary>True when the head, at its place among the pin's heads, leads with its proof to the signed Merkle root.</summary>
    internal static bool IsPinned(StreamHead head, PinnedHead pinned, CheckpointPin pin)
    {
        var proof = new List<byte[]>();
        foreach (var hash in pinned.Proof)
        {
            if (!TryHex(hash, out var bytes))
            {
                return false;
            }

            proof.Add(bytes);
        }

        return TryHex(head.Hash, out _)
            && MerkleTree.RootFrom(MerkleTree.Leaf(head), pinned.Index, pin.Streams, proof) is { } root
            && Convert.ToHexStringLower(root) == pin.MerkleRoot;
    }

    internal static bool TryHex(string text, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromHexString(text);
            return bytes.Length == 32;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}

/// <summary>
/// One bundle's check, fed a stream at a time (<see cref="AuditBundles"/>): what it keeps is each stream's id, and for a
/// bundle of format 1 the checkpoint's heads it carries.
/// </summary>
public sealed class BundleVerification
{
    private readonly List<IntegrityViolation> _violations = [];
    // Format 1: the checkpoint's heads. A file is anyone's to edit: a stream named twice is reported, never a reason to stop reading.
    private readonly Dictionary<string, StreamHead> _heads = new(StringComparer.Ordinal);
    private readonly HashSet<string> _bundled = new(StringComparer.Ordinal);
    private readonly SignedPin? _pin;
    private readonly bool _signatureValid;
    private readonly bool _keyPinned;
    private long _events;

    public BundleVerification(AuditBundle bundle, string? trustedPublicKey)
    {
        _keyPinned = trustedPublicKey is not null;
        switch (bundle)
        {
            case { Format: AuditBundle.WholeCheckpointFormat, Checkpoint: { } checkpoint }:
                _signatureValid = SignedCheckpoints.IsAuthentic(checkpoint, trustedPublicKey ?? checkpoint.PublicKey);
                foreach (var head in checkpoint.Checkpoint.Streams.Where(h => !_heads.TryAdd(h.StreamId, h)))
                {
                    _violations.Add(new IntegrityViolation(head.StreamId, head.Version, head.GlobalPosition, "the checkpoint names the stream twice"));
                }

                break;
            case { Format: AuditBundle.PinnedFormat, Pin: { } pin }:
                _signatureValid = SignedCheckpoints.IsAuthentic(pin, trustedPublicKey ?? pin.PublicKey);
                _pin = pin;
                break;
            default:
                _violations.Add(new IntegrityViolation("(bundle)", 0, null, bundle.Format is AuditBundle.WholeCheckpointFormat or AuditBundle.PinnedFormat
                    ? $"a bundle of format '{bundle.Format}' carries its {(bundle.Format == AuditBundle.PinnedFormat ? "pin" : "checkpoint")}, and this one does not"
                    : $"unknown format '{bundle.Format}'"));
                break;
        }

        if (!_signatureValid)
        {
            _violations.Add(new IntegrityViolation("(checkpoint)", 0, null, trustedPublicKey is null
                ? "the checkpoint's signature does not verify with the key it names: the checkpoint was altered"
                : "the checkpoint is not signed by the trusted key"));
        }
    }

    /// <summary>Checks one stream of the bundle: its head (a pinned bundle's, against the signed root), then its chain to that head.</summary>
    public void Add(BundledStream stream)
    {
        if (!_bundled.Add(stream.StreamId))
        {
            _violations.Add(new IntegrityViolation(stream.StreamId, stream.AnchorVersion, null, "the stream appears twice in the bundle"));
            return;
        }

        _events += stream.Events.Count;
        if (HeadOf(stream) is not { } head)
        {
            return;
        }

        if (!AuditBundles.TryHex(stream.AnchorHash, out var anchor) || !AuditBundles.TryHex(head.Hash, out var headHash)
            || (stream.AnchorVersion == 0 && !anchor.AsSpan().SequenceEqual(EventDigest.Genesis)))
        {
            _violations.Add(new IntegrityViolation(stream.StreamId, stream.AnchorVersion, null, "the anchor before the first event is malformed"));
            return;
        }

        var walk = new ChainWalk(stream.StreamId, stream.AnchorVersion, anchor, head.Version, headHash, "the signed checkpoint has");
        foreach (var e in stream.Events)
        {
            var digest = EventDigest.Compute(e.EventId, stream.StreamId, e.StreamVersion, e.EventType, e.SchemaVersion, e.RecordedAt,
                e.ActorId, e.ActorRole, e.ActorOrg, e.CorrelationId, e.CausationId, e.Headers?.GetRawText(), e.Data.GetRawText());
            walk.Step(e.StreamVersion, e.GlobalPosition, AuditBundles.TryHex(e.Hash, out var stored) ? stored : [], digest, _violations);
        }

        walk.Finish(_violations);
        if (!walk.IsBroken && stream.Events.Count > 0 && stream.Events[^1].GlobalPosition != head.GlobalPosition)
        {
            _violations.Add(new IntegrityViolation(stream.StreamId, head.Version, stream.Events[^1].GlobalPosition,
                $"the head event is at global position {stream.Events[^1].GlobalPosition}, the signed checkpoint has {head.GlobalPosition}"));
        }
    }

    /// <summary>The head the stream's chain must reach, as the checkpoint signed it; null (and reported) when there is none to trust.</summary>
    private StreamHead? HeadOf(BundledStream stream)
    {
        if (_pin is null)
        {
            if (_heads.TryGetValue(stream.StreamId, out var head))
            {
                return head;
            }
        }
        else if (stream.Head is { } pinned)
        {
            var head = new StreamHead(stream.StreamId, pinned.Version, pinned.GlobalPosition, pinned.Hash);
            if (AuditBundles.IsPinned(head, pinned, _pin.Statement))
            {
                return head;
            }

            _violations.Add(new IntegrityViolation(stream.StreamId, head.Version, head.GlobalPosition,
                "the stream's head is not the one the signed checkpoint has: its proof does not lead to the signed Merkle root"));
            return null;
        }

        _violations.Add(new IntegrityViolation(stream.StreamId, 0, null, "the stream is not in the signed checkpoint"));
        return null;
    }

    public BundleReport Report() => new(_signatureValid, _keyPinned, _bundled.Count, _events, _violations);
}
