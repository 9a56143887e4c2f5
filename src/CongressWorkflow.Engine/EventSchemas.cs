using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using CongressWorkflow.EventStore.Serialization;

namespace CongressWorkflow.Engine;

/// <summary>
/// The JSON Schema of every domain event's data, one file per stored name and version
/// (schemas/events/congress.plan-issued.v1.schema.json), derived from the event records with the serializer options
/// the store writes them with. The files are committed; a test fails when they drift from the records, so a change of
/// shape is a visible decision (and usually a new version with an upcaster).
/// </summary>
public static class EventSchemas
{
    public static IReadOnlyDictionary<string, string> Generate()
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var exporter = new JsonSchemaExporterOptions { TreatNullObliviousAsNonNullable = true, TransformSchemaNode = Tighten };
        foreach (var (type, storedAs) in DomainEventTypes.All)
        {
            var generated = JsonSchemaExporter.GetJsonSchemaAsNode(EventTypeRegistry.DefaultSerializerOptions, type, exporter).AsObject();
            var schema = new JsonObject
            {
                ["$schema"] = "http://json-schema.org/draft-07/schema#",
                ["$id"] = $"https://congressworkflow.example/schemas/events/{storedAs.Name}.v{storedAs.Version}.schema.json",
                ["title"] = $"{storedAs.Name}, schema version {storedAs.Version}",
            };
            foreach (var (key, value) in generated.ToList())
            {
                generated.Remove(key);
                schema[key] = value;
            }

            files[$"{storedAs.Name}.v{storedAs.Version}.schema.json"] = schema.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
        }

        return files;
    }

    /// <summary>Writes the files into a folder (ops/schemas calls this through the CLI).</summary>
    public static async Task WriteAsync(string folder, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(folder);
        foreach (var (name, content) in Generate())
        {
            await File.WriteAllTextAsync(Path.Combine(folder, name), content, cancellationToken);
        }
    }

    /// <summary>Objects accept no unknown members: an event's data is exactly its record.</summary>
    private static JsonNode Tighten(JsonSchemaExporterContext context, JsonNode schema)
    {
        if (schema is JsonObject obj && obj.ContainsKey("properties"))
        {
            obj["additionalProperties"] = false;
        }

        return schema;
    }
}
