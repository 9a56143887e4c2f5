using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CongressWorkflow.Integrity;

/// <summary>
/// The hash chain computed outside PostgreSQL, byte for byte as <c>event_store.event_digest</c> computes it in the
/// database: SHA-256 of the canonical text PostgreSQL gives a <c>jsonb_build_array</c> of the event's stored fields,
/// chained as <c>sha256(previous hash ‖ digest)</c>. It lets the bulk append hash on the client, in parallel with the
/// server's ingest, and an audit bundle be verified with no database at all.
/// </summary>
public static class EventDigest
{
    /// <summary>The hash a stream's chain starts from.</summary>
    public static ReadOnlySpan<byte> Genesis => new byte[32];

    public static byte[] Compute(
        Guid eventId, string streamId, long streamVersion, string eventType, int schemaVersion, DateTimeOffset recordedAt,
        string actorId, string actorRole, string? actorOrg, Guid correlationId, Guid? causationId, string? headersJson, string dataJson)
    {
        var text = new CanonicalText(dataJson.Length * 2 + 512);
        try
        {
            text.Raw("["u8);
            text.String(eventId.ToString("D"));
            text.Raw(", "u8);
            text.String(streamId);
            text.Raw(", "u8);
            text.Number(streamVersion);
            text.Raw(", "u8);
            text.String(eventType);
            text.Raw(", "u8);
            text.Number(schemaVersion);
            text.Raw(", "u8);
            text.Number(EpochMicroseconds(recordedAt));
            text.Raw(", "u8);
            text.String(actorId);
            text.Raw(", "u8);
            text.String(actorRole);
            text.Raw(", "u8);
            text.NullableString(actorOrg);
            text.Raw(", "u8);
            text.String(correlationId.ToString("D"));
            text.Raw(", "u8);
            text.NullableString(causationId?.ToString("D"));
            text.Raw(", "u8);
            text.Json(headersJson);
            text.Raw(", "u8);
            text.Json(dataJson);
            text.Raw("]"u8);
            return SHA256.HashData(text.Written);
        }
        finally
        {
            text.Return();
        }
    }

    /// <summary>The link after <paramref name="previous"/>: SHA-256 over the previous hash and the event's digest.</summary>
    public static byte[] Chain(ReadOnlySpan<byte> previous, ReadOnlySpan<byte> digest)
    {
        Span<byte> both = stackalloc byte[previous.Length + digest.Length];
        previous.CopyTo(both);
        digest.CopyTo(both[previous.Length..]);
        return SHA256.HashData(both);
    }

    /// <summary>A moment as PostgreSQL stores it: whole microseconds.</summary>
    public static DateTimeOffset ToStoredPrecision(DateTimeOffset moment) =>
        new(moment.UtcTicks - moment.UtcTicks % (TimeSpan.TicksPerMillisecond / 1000), TimeSpan.Zero);

    private static long EpochMicroseconds(DateTimeOffset moment) =>
        (moment.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / (TimeSpan.TicksPerMillisecond / 1000);

    /// <summary>
    /// PostgreSQL's text form of a jsonb value, written as UTF-8 into a pooled buffer: keys ordered by length then
    /// bytes (the last of duplicates kept), ", " and ": " between, strings escaped as escape_json does, numbers as
    /// numeric prints them.
    /// </summary>
    private struct CanonicalText(int capacity)
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(capacity);
        private int _length;

        public readonly ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

        public readonly void Return() => ArrayPool<byte>.Shared.Return(_buffer);

        public void Raw(ReadOnlySpan<byte> bytes)
        {
            Ensure(bytes.Length);
            bytes.CopyTo(_buffer.AsSpan(_length));
            _length += bytes.Length;
        }

        public void Number(long value)
        {
            Ensure(20);
            value.TryFormat(_buffer.AsSpan(_length), out var written, default, CultureInfo.InvariantCulture);
            _length += written;
        }

        public void NullableString(string? value)
        {
            if (value is null)
            {
                Raw("null"u8);
            }
            else
            {
                String(value);
            }
        }

        /// <summary>escape_json: quotes, backslashes and control characters escaped, everything else as is.</summary>
        public void String(ReadOnlySpan<char> value)
        {
            Ensure(value.Length * 6 + 2);
            var span = _buffer.AsSpan();
            span[_length++] = (byte)'"';
            var runStart = 0;
            for (var i = 0; i < value.Length; i++)
            {
                var c = value[i];
                if (c >= ' ' && c != '"' && c != '\\')
                {
                    continue;
                }

                _length += Encoding.UTF8.GetBytes(value[runStart..i], span[_length..]);
                runStart = i + 1;
                ReadOnlySpan<byte> escape = c switch
                {
                    '\b' => "\\b"u8,
                    '\f' => "\\f"u8,
                    '\n' => "\\n"u8,
                    '\r' => "\\r"u8,
                    '\t' => "\\t"u8,
                    '"' => "\\\""u8,
                    '\\' => "\\\\"u8,
                    _ => default,
                };
                if (escape.IsEmpty)
                {
                    "\\u00"u8.CopyTo(span[_length..]);
                    _length += 4;
                    ((int)c).TryFormat(span[_length..], out var written, "x2", CultureInfo.InvariantCulture);
                    _length += written;
                }
                else
                {
                    escape.CopyTo(span[_length..]);
                    _length += escape.Length;
                }
            }

            _length += Encoding.UTF8.GetBytes(value[runStart..], span[_length..]);
            span[_length++] = (byte)'"';
        }

        public void Json(string? json)
        {
            if (json is null)
            {
                Raw("null"u8);
                return;
            }

            using var document = JsonDocument.Parse(json);
            Value(document.RootElement);
        }

        private void Value(JsonElement value)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.Object:
                    Object(value);
                    break;
                case JsonValueKind.Array:
                    Raw("["u8);
                    var first = true;
                    foreach (var item in value.EnumerateArray())
                    {
                        if (!first)
                        {
                            Raw(", "u8);
                        }

                        first = false;
                        Value(item);
                    }

                    Raw("]"u8);
                    break;
                case JsonValueKind.String:
                    String(value.GetString()!);
                    break;
                case JsonValueKind.Number:
                    Raw(Encoding.ASCII.GetBytes(Numeric(value.GetRawText())));
                    break;
                case JsonValueKind.True:
                    Raw("true"u8);
                    break;
                case JsonValueKind.False:
                    Raw("false"u8);
                    break;
                default:
                    Raw("null"u8);
                    break;
            }
        }

        private void Object(JsonElement value)
        {
            var members = new List<(byte[] Key, string Name, JsonElement Value)>();
            foreach (var property in value.EnumerateObject())
            {
                var key = Encoding.UTF8.GetBytes(property.Name);
                var same = members.FindIndex(m => m.Key.AsSpan().SequenceEqual(key));
                if (same >= 0)
                {
                    members.RemoveAt(same); // jsonb keeps the last of duplicate keys
                }

                members.Add((key, property.Name, property.Value));
            }

            members.Sort((x, y) => x.Key.Length != y.Key.Length ? x.Key.Length.CompareTo(y.Key.Length) : x.Key.AsSpan().SequenceCompareTo(y.Key));
            Raw("{"u8);
            for (var i = 0; i < members.Count; i++)
            {
                if (i > 0)
                {
                    Raw(", "u8);
                }

                String(members[i].Name);
                Raw(": "u8);
                Value(members[i].Value);
            }

            Raw("}"u8);
        }

        private void Ensure(int more)
        {
            if (_length + more <= _buffer.Length)
            {
                return;
            }

            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + more));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
    }

    /// <summary>
    /// A JSON number as PostgreSQL's numeric prints it: the exponent applied, as many decimals as the input had after
    /// the point less the exponent (never fewer than none), no sign on zero.
    /// </summary>
    private static string Numeric(string raw)
    {
        if (raw.AsSpan().IndexOfAnyExcept("0123456789") < 0 && (raw.Length == 1 || raw[0] != '0'))
        {
            return raw; // a plain non-negative integer prints as it came
        }

        var negative = raw.StartsWith('-');
        var body = negative ? raw[1..] : raw;
        var exponentAt = body.IndexOfAny(['e', 'E']);
        var exponent = exponentAt < 0 ? 0 : int.Parse(body[(exponentAt + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var mantissa = exponentAt < 0 ? body : body[..exponentAt];
        var point = mantissa.IndexOf('.');
        var fraction = point < 0 ? "" : mantissa[(point + 1)..];
        var digits = BigInteger.Parse(point < 0 ? mantissa : mantissa[..point] + fraction, CultureInfo.InvariantCulture);
        var scale = Math.Max(0, fraction.Length - exponent);
        var shift = scale - fraction.Length + exponent;
        var scaled = digits * BigInteger.Pow(10, shift);
        var whole = BigInteger.DivRem(scaled, BigInteger.Pow(10, scale), out var remainder);
        var sign = negative && !scaled.IsZero ? "-" : "";
        return scale == 0
            ? sign + whole.ToString(CultureInfo.InvariantCulture)
            : sign + whole.ToString(CultureInfo.InvariantCulture) + "." + remainder.ToString(CultureInfo.InvariantCulture).PadLeft(scale, '0');
    }
}
