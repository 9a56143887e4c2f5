namespace CongressWorkflow.Domain.Common;

/// <summary>A rule the command broke, with a stable code callers can branch on and a message people can read.</summary>
public sealed record DomainError(string Code, string Message);

/// <summary>What a Decider answers: the events that follow from a command, or the rule it broke.</summary>
public abstract record Decision
{
    public static Decision Accept(params object[] events) => new Accepted(events);

    public static Decision Reject(string code, string message) => new Rejected(new DomainError(code, message));

    public sealed record Accepted(IReadOnlyList<object> Events) : Decision;

    public sealed record Rejected(DomainError Error) : Decision;
}

/// <summary>The stable stored name and schema version of a domain event; the engine registers it with the event store.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class StoredAsAttribute(string name, int version = 1) : Attribute
{
    public string Name { get; } = name;

    public int Version { get; } = version;
}

/// <summary>Who issues a command, in which role and organisation, and when: commands carry the time, the domain never reads a clock.</summary>
public sealed record CommandContext(string UserId, string Role, string OrganizationId, DateTimeOffset Now)
{
    public DateOnly Today => DateOnly.FromDateTime(Now.UtcDateTime);
}
