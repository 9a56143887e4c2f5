using System.Runtime.CompilerServices;
using System.Text.Json;

namespace CongressWorkflow.Integrity;

/// <summary>
/// An audit bundle document read as it streams: its fields first (what pins it), then its streams one at a time, so
/// only one stream's events are held whatever the bundle's size. The streams must come after the other fields, as
/// the export writes them; a field after the streams is refused as not a bundle.
/// </summary>
public sealed class AuditBundleReading(Stream document)
{
    private static readonly byte[] StreamsField = System.Text.Encoding.UTF8.GetBytes(AuditBundle.Json.PropertyNamingPolicy!.ConvertName(nameof(AuditBundle.Streams)));

    private readonly Dictionary<string, JsonElement> _fields = new(StringComparer.Ordinal);
    private readonly List<BundledStream> _pending = [];
    private JsonReaderState _state;
    private Place _place;

    /// <summary>The bundle's fields, with no streams: known once the first stream has been handed over, or the document read whole.</summary>
    public AuditBundle? Bundle { get; private set; }

    /// <summary>Where the reading is in the document.</summary>
    private enum Place
    {
        Opening,
        Fields,
        Streams,
        AfterStreams,
        End,
    }

    /// <summary>The streams in the order the document has them; <see cref="Bundle"/> is known before the first is handed over.</summary>
    public async IAsyncEnumerable<BundledStream> StreamsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var _ in JsonChunks.FeedAsync(document, (chunk, _) => Feed(chunk), cancellationToken))
        {
            foreach (var stream in _pending)
            {
                yield return stream;
            }

            _pending.Clear();
        }

        if (_place != Place.End)
        {
            throw new JsonException("the bundle is not whole JSON: it ends before its last brace");
        }
    }

    /// <summary>
    /// Reads what the chunk holds whole (a field or a stream is read only when all of it is there); returns the bytes
    /// consumed. Never the final block: a bundle ends with its closing brace, and a document cut short anywhere is then
    /// found so at its end (<see cref="Place"/> not reached its end) rather than as a token cut.
    /// </summary>
    private int Feed(ReadOnlySpan<byte> chunk)
    {
        var reader = new Utf8JsonReader(chunk, isFinalBlock: false, _state);
        while (true)
        {
            // Where to start again when what comes next is not whole in this chunk.
            var (consumed, state) = ((int)reader.BytesConsumed, reader.CurrentState);
            if (!ReadNext(ref reader))
            {
                _state = state;
                return consumed;
            }

            if (_place == Place.End)
            {
                _state = reader.CurrentState;
                return (int)reader.BytesConsumed;
            }
        }
    }

    /// <summary>Reads the next token, field or stream; false when it is not whole in the chunk.</summary>
    private bool ReadNext(ref Utf8JsonReader reader)
    {
        var ahead = reader;
        if (!ahead.Read())
        {
            return false;
        }

        switch (_place)
        {
            case Place.Opening:
                _place = ahead.TokenType == JsonTokenType.StartObject ? Place.Fields : throw new JsonException("a bundle is a JSON object");
                break;
            case Place.Fields or Place.AfterStreams when ahead.TokenType == JsonTokenType.EndObject:
                Bundle ??= Header();
                _place = Place.End;
                break;
            case Place.Fields when ahead.ValueTextEquals(StreamsField):
                if (!ahead.Read())
                {
                    return false;
                }

                _place = ahead.TokenType == JsonTokenType.StartArray ? Place.Streams : throw new JsonException("the bundle's streams are not an array");
                Bundle = Header();
                break;
            case Place.Fields:
                var name = ahead.GetString()!;
                if (!ahead.Read() || !ahead.TrySkip())
                {
                    return false;
                }

                reader.Read();
                reader.Read();
                _fields[name] = JsonElement.ParseValue(ref reader);
                return true;
            case Place.Streams when ahead.TokenType == JsonTokenType.EndArray:
                _place = Place.AfterStreams;
                break;
            case Place.Streams:
                if (!ahead.TrySkip())
                {
                    return false;
                }

                reader.Read();
                _pending.Add(JsonSerializer.Deserialize<BundledStream>(ref reader, AuditBundle.Json) ?? throw new JsonException("a bundled stream is null"));
                return true;
            default:
                throw new JsonException(_place == Place.AfterStreams
                    ? $"the bundle has '{ahead.GetString()}' after its streams: a bundle's streams come last"
                    : "the bundle goes on after its last brace");
        }

        reader = ahead;
        return true;
    }

    /// <summary>The bundle as its fields say, without its streams.</summary>
    private AuditBundle Header()
    {
        var fields = new Dictionary<string, object>(_fields.Select(f => KeyValuePair.Create(f.Key, (object)f.Value)), StringComparer.Ordinal)
        {
            [System.Text.Encoding.UTF8.GetString(StreamsField)] = Array.Empty<object>(),
        };
        return JsonSerializer.Deserialize<AuditBundle>(JsonSerializer.SerializeToUtf8Bytes(fields, AuditBundle.Json), AuditBundle.Json)
            ?? throw new JsonException("the bundle is null");
    }
}
