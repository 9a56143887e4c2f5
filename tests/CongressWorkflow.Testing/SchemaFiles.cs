using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using NJsonSchema;

namespace CongressWorkflow.Testing;

/// <summary>Loads the JSON Schemas of schemas/ (copied next to the test binaries) and validates JSON text against them.</summary>
public static class SchemaFiles
{
    public static JsonSchema Load(string fileName) =>
        JsonSchema.FromFileAsync(Path.Combine(AppContext.BaseDirectory, "schemas", fileName)).GetAwaiter().GetResult();

    /// <summary>Each violation as "path: kind"; empty when the JSON is valid.</summary>
    public static IReadOnlyList<string> Validate(JsonSchema schema, string json)
    {
        // Dates stay strings, so format and pattern checks see the text exactly as it was written.
        using var reader = new JsonTextReader(new StringReader(json)) { DateParseHandling = DateParseHandling.None };
        var token = JToken.Load(reader);
        return schema.Validate(token).Select(e => $"{e.Path}: {e.Kind}").ToList();
    }
}
