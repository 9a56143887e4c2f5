namespace CongressWorkflow.EventStore.Serialization;

/// <summary>
/// The stable stored name and schema version of an event type. The stored name never changes when the
/// class is renamed or moved; a new shape of the data gets a new version and an upcaster from the old one.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class EventTypeAttribute(string name, int version = 1) : Attribute
{
    public string Name { get; } = name;

    public int Version { get; } = version;
}
