using System.Text;

namespace CongressWorkflow.Testing;

/// <summary>A span as an OTLP collector receives it: the instrumentation scope that made it, its trace, and its name.</summary>
public sealed record ReceivedSpan(string Scope, string TraceId, string SpanId, string ParentSpanId, string Name);

/// <summary>
/// Reads the spans out of an OTLP/HTTP protobuf body (ExportTraceServiceRequest: resource_spans = 1 → scope_spans = 2 →
/// scope = 1 (name = 1), spans = 2 (trace_id = 1, span_id = 2, parent_span_id = 4, name = 5)) with a minimal wire-format reader.
/// </summary>
public static class OtlpSpans
{
    public static IEnumerable<ReceivedSpan> Parse(byte[] body)
    {
        foreach (var resourceSpans in Fields(body).Where(f => f.Number == 1))
        {
            foreach (var scopeSpans in Fields(resourceSpans.Bytes).Where(f => f.Number == 2))
            {
                var fields = Fields(scopeSpans.Bytes).ToList();
                var scope = fields.Where(f => f.Number == 1).Select(f => Fields(f.Bytes).Where(s => s.Number == 1).Select(s => Encoding.UTF8.GetString(s.Bytes))
                    .FirstOrDefault() ?? string.Empty).FirstOrDefault() ?? string.Empty;
                foreach (var span in fields.Where(f => f.Number == 2))
                {
                    var spanFields = Fields(span.Bytes).ToList();
                    string Hex(int number) => Convert.ToHexStringLower(spanFields.FirstOrDefault(f => f.Number == number).Bytes ?? []);
                    yield return new ReceivedSpan(scope, Hex(1), Hex(2), Hex(4),
                        Encoding.UTF8.GetString(spanFields.FirstOrDefault(f => f.Number == 5).Bytes ?? []));
                }
            }
        }
    }

    /// <summary>The fields of one message; only length-delimited ones carry bytes (numbers are skipped).</summary>
    private static IEnumerable<(int Number, byte[] Bytes)> Fields(byte[] message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var tag = Varint(message, ref position);
            var (number, wireType) = ((int)(tag >> 3), (int)(tag & 7));
            switch (wireType)
            {
                case 0:
                    Varint(message, ref position);
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    var length = (int)Varint(message, ref position);
                    yield return (number, message[position..(position + length)]);
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"wire type {wireType} at {position} is not one OTLP uses");
            }
        }
    }

    private static ulong Varint(byte[] message, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
