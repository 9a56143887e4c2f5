using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;

namespace CongressWorkflow.Integrity;

/// <summary>Why a document is not a whole checkpoint: a part left out (<see cref="IsMissing"/>), or a part that is not what it should be.</summary>
public sealed record CheckpointDefect(bool IsMissing, string Detail);

/// <summary>
/// A checkpoint document read as it streams, in constant memory (a national store's is 215 MB, about a gigabyte
/// deserialized): its heads are handed over as they come, then it says what the document says of itself and, when a
/// trusted key was given, whether that key signed exactly this checkpoint. The canonical JSON that was signed is rebuilt
/// and hashed as the heads pass, and the root likewise, so the signature is checked without holding the document. The
/// heads must come after the checkpoint's takenAt and headPosition and before its root, as <see cref="SignedCheckpoints.WriteAsync"/>
/// writes them; in another order the document still reads, but is not authentic.
/// </summary>
public sealed class CheckpointReading : IDisposable
{
    private readonly Stream _document;
    private readonly string? _trustedPublicKey;
    private readonly Scan _scan;
    private bool _read;

    /// <summary>A reading that checks the document against <paramref name="trustedPublicKey"/> and hands its heads over; without a key, only what the document says of itself.</summary>
    public CheckpointReading(Stream document, string? trustedPublicKey)
        : this(document, trustedPublicKey, handHeadsOver: trustedPublicKey is not null)
    {
    }

    private CheckpointReading(Stream document, string? trustedPublicKey, bool handHeadsOver)
    {
        _document = document;
        _trustedPublicKey = trustedPublicKey;
        _scan = new Scan(checkHeads: trustedPublicKey is not null, handHeadsOver);
    }

    /// <summary>
    /// A reading that hands the heads over and checks nothing (never authentic): for a reader that proves them its own
    /// way, as a bundle's export does by the Merkle root it builds over them, which the offline check holds to the signed
    /// pin. It spares rebuilding and hashing the signed JSON: a few seconds for a national checkpoint.
    /// </summary>
    public static CheckpointReading HeadsOnly(Stream document) => new(document, trustedPublicKey: null, handHeadsOver: true);

    /// <summary>What the document says of itself once it has been read whole; null before, or when it is not a whole checkpoint.</summary>
    public CheckpointSummary? Summary => _read && _scan.Defect is null ? _scan.Summary() : null;

    /// <summary>Why the document is not a whole checkpoint (null while reading, and for one that is).</summary>
    public CheckpointDefect? Defect => _scan.Defect;

    /// <summary>
    /// True once read whole when the trusted key signed exactly this checkpoint (ES256 over its canonical JSON) and its
    /// root is that of its heads, which come in code-point order of their stream ids.
    /// </summary>
    public bool IsAuthentic => Summary is not null && _trustedPublicKey is not null && _scan.SignedBy(_trustedPublicKey);

    /// <summary>The checkpoint's signed pin (its Merkle root) once read whole, null when it has none (taken before pins were).</summary>
    public SignedPin? Pin => Summary is not null ? _scan.Pin() : null;

    /// <summary>The heads in the order the document has them, read chunk by chunk; stops at the first defect.</summary>
    public async IAsyncEnumerable<StreamHead> HeadsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var _ in JsonChunks.FeedAsync(_document, _scan.Feed, cancellationToken))
        {
            foreach (var head in _scan.TakeHeads())
            {
                yield return head;
            }
        }

        _read = true;
    }

    /// <summary>Reads the document to its end (the heads only counted, unless a trusted key asks for them to be checked).</summary>
    public async Task<CheckpointSummary?> ReadToEndAsync(CancellationToken cancellationToken = default)
    {
        await foreach (var _ in HeadsAsync(cancellationToken))
        {
        }

        return Summary;
    }

    public void Dispose() => _scan.Dispose();

    /// <summary>The fields a checkpoint document has, each with its place (depth 1: the document; 2: the checkpoint; 4: a head).</summary>
    private enum Field
    {
        None,
        Checkpoint,
        Algorithm,
        PublicKey,
        Signature,
        Pin,
        TakenAt,
        HeadPosition,
        Streams,
        Root,
        StreamId,
        Version,
        GlobalPosition,
        Hash,
        MerkleRoot,
        PinSignature,
    }

    /// <summary>The tokens as they come, chunk after chunk: where in the document they are, what has been read, the hashes so far.</summary>
    private sealed class Scan : IDisposable
    {
        private static readonly Dictionary<Field, byte[]> Names = Enum.GetValues<Field>().ToDictionary(f => f, f => System.Text.Encoding.UTF8.GetBytes(Name(f)));

        private readonly bool _checkHeads;
        private readonly bool _handHeadsOver;
        private readonly List<StreamHead> _pending = [];
        private readonly HashSet<Field> _seen = [];
        // The document's text fields (a head's are in _head).
        private readonly Dictionary<Field, string> _texts = [];
        private readonly IncrementalHash _rootHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly IncrementalHash _canonicalHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly Utf8JsonWriter _canonical;
        private readonly MerkleTree.Builder _merkle = new();
        private JsonReaderState _state;
        private bool _started;
        private bool _checkpointSeen;
        private Field _property;
        private bool _inCheckpoint;
        private bool _inPin;
        private bool _pinSeen;
        private bool _inStreams;
        private bool _inHead;
        private bool _canonicalOrder = true;
        private bool _streamsEnded;
        private int _heads;
        private string? _previous;
        private string? _rootComputed;
        private string? _merkleComputed;
        private (string? StreamId, long? Version, long? GlobalPosition, string? Hash) _head;

        public Scan(bool checkHeads, bool handHeadsOver)
        {
            _checkHeads = checkHeads;
            _handHeadsOver = handHeadsOver;
            _canonical = new Utf8JsonWriter(new SignedCheckpoints.HashingStream(_canonicalHash));
        }

        public CheckpointDefect? Defect { get; private set; }

        private DateTimeOffset? TakenAt { get; set; }

        private long? HeadPosition { get; set; }

        private string? Root => _texts.GetValueOrDefault(Field.Root);

        private string? Algorithm => _texts.GetValueOrDefault(Field.Algorithm);

        private string? PublicKey => _texts.GetValueOrDefault(Field.PublicKey);

        private string? Signature => _texts.GetValueOrDefault(Field.Signature);

        private string? MerkleRoot => _texts.GetValueOrDefault(Field.MerkleRoot);

        private string? PinSignature => _texts.GetValueOrDefault(Field.PinSignature);

        public CheckpointSummary Summary() => new(TakenAt!.Value, HeadPosition!.Value, _heads, Root!);

        public List<StreamHead> TakeHeads()
        {
            if (_pending.Count == 0)
            {
                return _pending;
            }

            var heads = _pending.ToList();
            _pending.Clear();
            return heads;
        }

        public SignedPin? Pin() => _pinSeen
            ? new SignedPin(new CheckpointPin(TakenAt!.Value, HeadPosition!.Value, _heads, MerkleRoot!), Algorithm!, PublicKey!, PinSignature!)
            : null;

        /// <summary>The checkpoint's signature, and its pin's when it has one, by the trusted key over exactly what was read.</summary>
        public bool SignedBy(string trustedPublicKey) =>
            _canonicalOrder && Algorithm == SignedCheckpoints.Algorithm && PublicKey == trustedPublicKey && _rootComputed == Root
            && SignedCheckpoints.VerifiesHash(trustedPublicKey, _canonicalHash.GetCurrentHash(), Signature!)
            && (Pin() is not { } pin || (_merkleComputed == pin.Statement.MerkleRoot && SignedCheckpoints.IsAuthentic(pin, trustedPublicKey)));

        /// <summary>The tokens of one chunk; how many of its bytes were consumed, or -1 once the document is found not to be a checkpoint.</summary>
        public int Feed(ReadOnlySpan<byte> chunk, bool isFinalBlock)
        {
            if (Defect is not null)
            {
                return -1;
            }

            try
            {
                var reader = new Utf8JsonReader(chunk, isFinalBlock, _state);
                while (Defect is null && reader.Read())
                {
                    Token(ref reader);
                }

                _state = reader.CurrentState;
                if (isFinalBlock && Defect is null)
                {
                    Finish();
                }

                return Defect is null ? (int)reader.BytesConsumed : -1;
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                Defect = Malformed($"the document is not whole JSON in UTF-8 ({e.Message})");
                return -1;
            }
        }

        private void Token(ref Utf8JsonReader reader)
        {
            var depth = reader.CurrentDepth;
            if (!_started)
            {
                _started = true;
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    Defect = Malformed("a checkpoint is a JSON object");
                }

                return;
            }

            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                _property = depth switch
                {
                    1 => Name(ref reader, Field.Checkpoint, Field.Algorithm, Field.PublicKey, Field.Signature, Field.Pin),
                    2 when _inCheckpoint => Name(ref reader, Field.TakenAt, Field.HeadPosition, Field.Streams, Field.Root),
                    2 when _inPin => Name(ref reader, Field.MerkleRoot, Field.PinSignature),
                    4 when _inHead => Name(ref reader, Field.StreamId, Field.Version, Field.GlobalPosition, Field.Hash),
                    _ => Field.None,
                };
                if (depth is 1 or 2 && _property != Field.None && !_seen.Add(_property))
                {
                    Defect = Malformed($"{Path(_property)} appears twice");
                }

                return;
            }

            switch (depth)
            {
                case 1 when reader.TokenType == JsonTokenType.EndObject && (_inCheckpoint || _inPin):
                    (_inCheckpoint, _inPin) = (false, false);
                    return;
                case 1 when _property != Field.None:
                    Value(ref reader);
                    return;
                case 2 when reader.TokenType == JsonTokenType.EndArray && _inStreams:
                    _inStreams = false;
                    _streamsEnded = true;
                    return;
                case 2 when (_inCheckpoint || _inPin) && _property != Field.None:
                    Value(ref reader);
                    return;
                case 3 when _inStreams && reader.TokenType == JsonTokenType.StartObject:
                    (_inHead, _head, _property) = (true, default, Field.None);
                    return;
                case 3 when _inStreams && reader.TokenType == JsonTokenType.EndObject:
                    _inHead = false;
                    Head();
                    return;
                case 3 when _inStreams:
                    Defect = reader.TokenType == JsonTokenType.Null
                        ? new CheckpointDefect(true, $"checkpoint.streams[{_heads}] is required")
                        : Malformed($"checkpoint.streams[{_heads}] must be an object");
                    return;
                case 4 when _inHead && _property != Field.None:
                    Value(ref reader);
                    return;
            }
        }

        /// <summary>The value of a known field: kept, or the defect it makes; a null leaves the field out.</summary>
        private void Value(ref Utf8JsonReader reader)
        {
            var field = _property;
            _property = Field.None;
            if (reader.TokenType == JsonTokenType.Null)
            {
                return;
            }

            switch (field)
            {
                case Field.Checkpoint when reader.TokenType == JsonTokenType.StartObject:
                    (_inCheckpoint, _checkpointSeen) = (true, true);
                    return;
                case Field.Pin when reader.TokenType == JsonTokenType.StartObject:
                    (_inPin, _pinSeen) = (true, true);
                    return;
                case Field.Streams when reader.TokenType == JsonTokenType.StartArray:
                    _inStreams = true;
                    if (TakenAt is { } taken && HeadPosition is { } head)
                    {
                        SignedCheckpoints.WriteCanonicalOpening(_canonical, taken, head);
                    }
                    else
                    {
                        _canonicalOrder = false;
                    }

                    return;
                case Field.TakenAt when reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var takenAt):
                    TakenAt = takenAt;
                    return;
                case Field.HeadPosition when reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var headPosition):
                    HeadPosition = headPosition;
                    return;
                case Field.Version when reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var version):
                    _head.Version = version;
                    return;
                case Field.GlobalPosition when reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var globalPosition):
                    _head.GlobalPosition = globalPosition;
                    return;
                case Field.StreamId when reader.TokenType == JsonTokenType.String:
                    _head.StreamId = reader.GetString();
                    return;
                case Field.Hash when reader.TokenType == JsonTokenType.String:
                    _head.Hash = reader.GetString();
                    return;
                case Field.Root or Field.Algorithm or Field.PublicKey or Field.Signature or Field.MerkleRoot or Field.PinSignature
                    when reader.TokenType == JsonTokenType.String:
                    _texts[field] = reader.GetString()!;
                    _canonicalOrder &= field != Field.Root || _streamsEnded;
                    return;
                default:
                    Defect = Malformed($"{Path(field)} must be {Kind(field)}");
                    return;
            }
        }

        private void Head()
        {
            if (_head is not ({ } streamId, { } version, { } globalPosition, { } hash))
            {
                var missing = _head.StreamId is null ? "streamId" : _head.Version is null ? "version" : _head.GlobalPosition is null ? "globalPosition" : "hash";
                Defect = new CheckpointDefect(true, $"checkpoint.streams[{_heads}].{missing} is required");
                return;
            }

            _heads++;
            if (!_handHeadsOver)
            {
                return;
            }

            var head = new StreamHead(streamId, version, globalPosition, hash);
            _pending.Add(head);
            if (!_checkHeads)
            {
                return;
            }

            _canonicalOrder &= _previous is null || SignedCheckpoints.Order.Compare(_previous, streamId) < 0;
            _previous = streamId;
            _rootHash.AppendData(SignedCheckpoints.RootEntry(head));
            _merkle.Add(MerkleTree.Leaf(head));
            if (_canonicalOrder)
            {
                SignedCheckpoints.WriteCanonicalHead(_canonical, head);
                if (_heads % 1_000 == 0)
                {
                    _canonical.Flush();
                }
            }
        }

        /// <summary>The whole document has been read: every field is there, and the canonical JSON and the root are complete.</summary>
        private void Finish()
        {
            foreach (var field in new[] { Field.Checkpoint, Field.TakenAt, Field.HeadPosition, Field.Streams, Field.Root, Field.Algorithm, Field.PublicKey, Field.Signature,
                         Field.MerkleRoot, Field.PinSignature })
            {
                var present = field switch
                {
                    Field.Checkpoint => _checkpointSeen,
                    Field.TakenAt => TakenAt is not null,
                    Field.HeadPosition => HeadPosition is not null,
                    Field.Streams => _streamsEnded,
                    Field.Root => Root is not null,
                    Field.Algorithm => Algorithm is not null,
                    Field.PublicKey => PublicKey is not null,
                    Field.Signature => Signature is not null,
                    // A pin is optional (checkpoints taken before pins have none); one that is there is whole.
                    Field.MerkleRoot => !_pinSeen || MerkleRoot is not null,
                    _ => !_pinSeen || PinSignature is not null,
                };
                if (!present)
                {
                    Defect = new CheckpointDefect(true, $"{Path(field)} is required");
                    return;
                }
            }

            _rootComputed = Convert.ToHexStringLower(_rootHash.GetHashAndReset());
            _merkleComputed = Convert.ToHexStringLower(_merkle.Root());
            if (_checkHeads && _canonicalOrder)
            {
                SignedCheckpoints.WriteCanonicalClosing(_canonical, Root!);
                _canonical.Flush();
            }
        }

        private static Field Name(ref Utf8JsonReader reader, params ReadOnlySpan<Field> known)
        {
            foreach (var field in known)
            {
                if (reader.ValueTextEquals(Names[field]))
                {
                    return field;
                }
            }

            return Field.None;
        }

        private string Path(Field field) => field switch
        {
            Field.Checkpoint or Field.Algorithm or Field.PublicKey or Field.Signature or Field.Pin => Name(field),
            Field.TakenAt or Field.HeadPosition or Field.Streams or Field.Root => $"checkpoint.{Name(field)}",
            Field.MerkleRoot or Field.PinSignature => $"pin.{Name(field)}",
            _ => $"checkpoint.streams[{_heads}].{Name(field)}",
        };

        /// <summary>The field's name in the document (camel case; the pin's signature is "signature" within "pin").</summary>
        private static string Name(Field field) => field == Field.PinSignature ? "signature" : char.ToLowerInvariant(field.ToString()[0]) + field.ToString()[1..];

        private static string Kind(Field field) => field switch
        {
            Field.Checkpoint or Field.Pin => "an object",
            Field.Streams => "an array",
            Field.TakenAt => "a date and time",
            Field.HeadPosition or Field.Version or Field.GlobalPosition => "a whole number",
            _ => "a string",
        };

        private static CheckpointDefect Malformed(string detail) => new(false, detail);

        public void Dispose()
        {
            _canonical.Dispose();
            _rootHash.Dispose();
            _canonicalHash.Dispose();
        }
    }
}
