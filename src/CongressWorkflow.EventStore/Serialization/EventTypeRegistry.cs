using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace CongressWorkflow.EventStore.Serialization;

/// <summary>A registered event type: its stable name, current schema version and CLR type.</summary>
public sealed record EventTypeInfo(string Name, int Version, Type ClrType);

/// <summary>
/// Maps CLR event types to stable names and schema versions, serialises them with System.Text.Json, and
/// upcasts stored data of an older schema version to the current shape on read.
/// </summary>
public sealed class EventTypeRegistry
{
    private readonly Dictionary<string, EventTypeInfo> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, EventTypeInfo> _byType = [];
    private readonly Dictionary<(string Name, int FromVersion), Func<JsonObject, JsonObject>> _upcasters = [];

    public static JsonSerializerOptions DefaultSerializerOptions { get; } = CreateSerializerOptions();

    public JsonSerializerOptions SerializerOptions { get; } = DefaultSerializerOptions;

    public IReadOnlyCollection<EventTypeInfo> Types => _byName.Values;

    /// <summary>Registers a type under its stable stored name (the store itself defines no attribute: callers bring the names).</summary>
    public EventTypeRegistry Register<T>(string name, int version = 1) => Register(typeof(T), name, version);

    public EventTypeRegistry Register(Type type, string name, int version)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        if (_byName.TryGetValue(name, out var existing) && existing.ClrType != type)
        {
            throw new ArgumentException($"event type name '{name}' is already used by {existing.ClrType.Name}", nameof(name));
        }

        var info = new EventTypeInfo(name, version, type);
        _byName[name] = info;
        _byType[type] = info;
        return this;
    }

    /// <summary>Adds the step that turns data of <paramref name="fromVersion"/> into <paramref name="fromVersion"/> + 1.</summary>
    public EventTypeRegistry AddUpcaster(string eventType, int fromVersion, Func<JsonObject, JsonObject> upcast)
    {
        _upcasters[(eventType, fromVersion)] = upcast;
        return this;
    }

    public EventTypeInfo Describe(Type type) => _byType.TryGetValue(type, out var info)
        ? info
        : throw new EventStoreException(EventStoreErrorCodes.UnknownEventType, $"{type.Name} is not a registered event type");

    /// <summary>The stored type name, schema version and JSON of event data about to be appended.</summary>
    internal (string EventType, int SchemaVersion, string Json) Serialize(object data)
    {
        if (data is JsonEventData raw)
        {
            if (!_byName.ContainsKey(raw.EventType))
            {
                throw new EventStoreException(EventStoreErrorCodes.UnknownEventType, $"'{raw.EventType}' is not a registered event type");
            }

            try
            {
                using var document = JsonDocument.Parse(raw.Json);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new EventStoreException(EventStoreErrorCodes.InvalidEventData, $"data of '{raw.EventType}' must be a JSON object");
                }
            }
            catch (JsonException e)
            {
                throw new EventStoreException(EventStoreErrorCodes.InvalidEventData, $"data of '{raw.EventType}' is not valid JSON: {e.Message}", e);
            }

            return (raw.EventType, raw.SchemaVersion, raw.Json);
        }

        var info = Describe(data.GetType());
        return (info.Name, info.Version, JsonSerializer.Serialize(data, info.ClrType, SerializerOptions));
    }

    /// <summary>Turns stored JSON of a given type name and schema version into an instance of the current CLR type.</summary>
    public object Deserialize(string eventType, int schemaVersion, string json)
    {
        if (!_byName.TryGetValue(eventType, out var info))
        {
            throw new EventStoreException(EventStoreErrorCodes.UnknownEventType, $"stored event type '{eventType}' is not registered") { IsStoredDataFault = true };
        }

        if (schemaVersion > info.Version)
        {
            throw new EventStoreException(EventStoreErrorCodes.UnknownEventType, $"stored '{eventType}' has schema version {schemaVersion}, newer than the known version {info.Version}") { IsStoredDataFault = true };
        }

        try
        {
            if (schemaVersion == info.Version)
            {
                return JsonSerializer.Deserialize(json, info.ClrType, SerializerOptions)
                    ?? throw new EventStoreException(EventStoreErrorCodes.InvalidEventData, $"stored '{eventType}' data is null") { IsStoredDataFault = true };
            }

            var node = JsonNode.Parse(json) as JsonObject
                ?? throw new EventStoreException(EventStoreErrorCodes.InvalidEventData, $"stored '{eventType}' data is not a JSON object") { IsStoredDataFault = true };
            for (var version = schemaVersion; version < info.Version; version++)
            {
                var upcast = _upcasters.GetValueOrDefault((eventType, version))
                    ?? throw new EventStoreException(EventStoreErrorCodes.UnknownEventType, $"no upcaster turns '{eventType}' version {version} into version {version + 1}") { IsStoredDataFault = true };
                node = upcast(node);
            }

            return node.Deserialize(info.ClrType, SerializerOptions)
                ?? throw new EventStoreException(EventStoreErrorCodes.InvalidEventData, $"stored '{eventType}' data is null") { IsStoredDataFault = true };
        }
        catch (JsonException e)
        {
            throw new EventStoreException(EventStoreErrorCodes.InvalidEventData, $"stored '{eventType}' (schema version {schemaVersion}) does not fit {info.ClrType.Name}: {e.Message}", e) { IsStoredDataFault = true };
        }
    }

    private static JsonSerializerOptions CreateSerializerOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            RespectRequiredConstructorParameters = true,
            RespectNullableAnnotations = true,
        };
        // Names only: a number would name no value or a value by accident, and be stored as such.
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
