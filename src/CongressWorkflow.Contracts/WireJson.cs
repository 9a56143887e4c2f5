using System.Text.Json;
using System.Text.Json.Serialization;

namespace CongressWorkflow.Contracts;

/// <summary>How the HTTP API spells JSON, for the server and its clients alike: web defaults, enums by kebab-case name only.</summary>
public static class WireJson
{
    /// <summary>Names only: a number would name no value, or a value by accident.</summary>
    public static JsonStringEnumConverter EnumsByName { get; } = new(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false);

    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(EnumsByName);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
