using System.Reflection;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.EventStore.Serialization;

namespace CongressWorkflow.Engine;

public static class DomainEventTypes
{
    /// <summary>Every domain event with its [StoredAs] name and version.</summary>
    public static IReadOnlyList<(Type Type, StoredAsAttribute StoredAs)> All { get; } =
        typeof(StoredAsAttribute).Assembly.GetTypes()
            .Select(t => (Type: t, StoredAs: t.GetCustomAttribute<StoredAsAttribute>()))
            .Where(x => x.StoredAs is not null)
            .Select(x => (x.Type, x.StoredAs!))
            .OrderBy(x => x.Item2.Name, StringComparer.Ordinal)
            .ToList();

    /// <summary>The stored names of some domain events, e.g. the event types a projection reads (never written out by hand).</summary>
    public static IReadOnlySet<string> NamesOf(params Type[] types) =>
        types.Select(type => All.Single(e => e.Type == type).StoredAs.Name).ToHashSet(StringComparer.Ordinal);

    public static EventTypeRegistry Register(EventTypeRegistry registry)
    {
        foreach (var (type, storedAs) in All)
        {
            registry.Register(type, storedAs.Name, storedAs.Version);
        }

        return registry;
    }

    public static EventTypeRegistry CreateRegistry() => Register(new EventTypeRegistry());
}
