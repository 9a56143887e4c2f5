using CongressWorkflow.EventStore.Serialization;
using CongressWorkflow.Engine.Time;
using CongressWorkflow.Testing;

namespace CongressWorkflow.EventStore.Tests;

public sealed record MemberJoined(string Name, int Age);

/// <summary>Version 2 renamed "name" to "fullName" and added "reason"; version 1 data is upcast on read.</summary>
public sealed record MemberRenamed(string FullName, string Reason);

public sealed record Roster(IReadOnlyList<string> Names)
{
    public static Roster Empty { get; } = new([]);

    public static Roster Evolve(Roster state, object @event) => @event switch
    {
        MemberJoined joined => new Roster([.. state.Names, joined.Name]),
        MemberRenamed renamed => new Roster([.. state.Names.Take(state.Names.Count - 1), renamed.FullName]),
        _ => throw new InvalidOperationException($"Roster cannot apply {@event.GetType().Name}"),
    };
}

public static class TestEvents
{
    public const string MemberRenamedName = "test.member-renamed";

    public static readonly DateTimeOffset Start = new(2020, 1, 16, 8, 0, 0, TimeSpan.Zero);

    public static EventMetadata Meta { get; } = new(new Actor("user-1", "secretary", "org-1"), Guid.Parse("11111111-1111-1111-1111-111111111111"));

    public static EventTypeRegistry Registry() => new EventTypeRegistry()
        .Register<MemberJoined>("test.member-joined")
        .Register<MemberRenamed>(MemberRenamedName, 2)
        .AddUpcaster("test.member-renamed", 1, v1 =>
        {
            v1["fullName"] = v1["name"]!.DeepClone();
            v1.Remove("name");
            v1["reason"] = "not recorded before version 2";
            return v1;
        });

    public static PostgresEventStore Store(EventStoreDatabase db, TimeProvider? time = null) =>
        new(db.DataSource, Registry(), time ?? new ManualTimeProvider(Start));

    public static NewEvent Joined(string name, int age = 30) => new(Guid.NewGuid(), new MemberJoined(name, age));

    public static string NewStreamId() => "roster-" + Guid.NewGuid().ToString("N")[..12];
}
