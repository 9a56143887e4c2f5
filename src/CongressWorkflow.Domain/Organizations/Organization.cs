using System.Text;
using System.Text.RegularExpressions;
using CongressWorkflow.Domain.Common;

namespace CongressWorkflow.Domain.Organizations;

/// <summary>The five levels (cấp), from the top. A child sits at a deeper level than its parent; levels may be skipped.</summary>
public enum OrganizationLevel
{
    Central = 1,
    Bloc = 2,
    Ministry = 3,
    Grassroots = 4,
    Branch = 5,
}

public enum Sector
{
    StateManagement,
    MassOrganization,
    PublicServiceUnit,
    Enterprise,
}

[StoredAs("organization.registered")]
public sealed record OrganizationRegistered(string OrganizationId, string Name, OrganizationLevel Level, Sector? Sector, string? ParentId, DateTimeOffset RegisteredAt);

[StoredAs("organization.renamed")]
public sealed record OrganizationRenamed(string OrganizationId, string OldName, string NewName, DateTimeOffset RenamedAt);

[StoredAs("organization.moved")]
public sealed record OrganizationMoved(string OrganizationId, string? FromParentId, string ToParentId, DateTimeOffset MovedAt);

[StoredAs("organization.dissolved")]
public sealed record OrganizationDissolved(string OrganizationId, string Reason, DateTimeOffset DissolvedAt);

/// <summary>Who at an organisation hears of its deadlines: an email address per role, in Vietnamese (vi) or English (en).</summary>
public sealed record Contact(string Role, string Email, string? Name, string Language);

[StoredAs("organization.contacts-set")]
public sealed record OrganizationContactsSet(string OrganizationId, IReadOnlyList<Contact> Contacts, DateTimeOffset SetAt);

/// <summary>What the tree rules need to know of a prospective parent: its level, whether it is dissolved, and its ancestors.</summary>
public sealed record ParentFacts(string OrganizationId, OrganizationLevel Level, bool IsDissolved, IReadOnlyList<string> AncestorIds);

public abstract record OrganizationCommand(string OrganizationId, CommandContext Context);

public sealed record RegisterOrganization(string OrganizationId, string Name, OrganizationLevel Level, Sector? Sector, ParentFacts? Parent, CommandContext Context)
    : OrganizationCommand(OrganizationId, Context);

public sealed record RenameOrganization(string OrganizationId, string NewName, CommandContext Context) : OrganizationCommand(OrganizationId, Context);

public sealed record MoveOrganization(string OrganizationId, ParentFacts NewParent, CommandContext Context) : OrganizationCommand(OrganizationId, Context);

public sealed record DissolveOrganization(string OrganizationId, string Reason, int ActiveChildren, CommandContext Context)
    : OrganizationCommand(OrganizationId, Context);

/// <summary>Replaces the organisation's contacts with these.</summary>
public sealed record SetContacts(string OrganizationId, IReadOnlyList<Contact> Contacts, CommandContext Context) : OrganizationCommand(OrganizationId, Context);

/// <summary>An organisation as its events leave it; <see cref="Organization.None"/> before it is registered.</summary>
public sealed record Organization(string Id, string Name, OrganizationLevel Level, Sector? Sector, string? ParentId, bool IsDissolved)
{
    public static Organization None { get; } = new(string.Empty, string.Empty, OrganizationLevel.Central, null, null, false);

    public IReadOnlyList<Contact> Contacts { get; init; } = [];

    public bool Exists => Id.Length > 0;

    public static string StreamId(string organizationId) => "org-" + organizationId;

    /// <summary>The organisation an organisation event is about; null for any other event.</summary>
    public static string? IdOf(object @event) => @event switch
    {
        OrganizationRegistered e => e.OrganizationId,
        OrganizationMoved e => e.OrganizationId,
        OrganizationDissolved e => e.OrganizationId,
        OrganizationRenamed e => e.OrganizationId,
        OrganizationContactsSet e => e.OrganizationId,
        _ => null,
    };
}

public static class OrganizationErrors
{
    public const string AlreadyRegistered = "organization-already-registered";
    public const string NotRegistered = "organization-not-registered";
    public const string Dissolved = "organization-dissolved";
    public const string InvalidName = "organization-invalid-name";
    public const string InvalidParent = "organization-invalid-parent";
    public const string LevelNotBelowParent = "organization-level-not-below-parent";
    public const string Cycle = "organization-cycle";
    public const string HasChildren = "organization-has-children";
    public const string InvalidContact = "organization-invalid-contact";
}

/// <summary>The organisation Decider: pure Decide and Evolve.</summary>
public static partial class OrganizationDecider
{
    public static Decision Decide(OrganizationCommand command, Organization state) => command switch
    {
        RegisterOrganization c when state.Exists =>
            Decision.Reject(OrganizationErrors.AlreadyRegistered, $"organisation {c.OrganizationId} is already registered as '{state.Name}'"),
        RegisterOrganization c => Register(c),
        _ when !state.Exists =>
            Decision.Reject(OrganizationErrors.NotRegistered, $"organisation {command.OrganizationId} is not registered"),
        _ when state.IsDissolved =>
            Decision.Reject(OrganizationErrors.Dissolved, $"organisation '{state.Name}' is dissolved"),
        RenameOrganization c => NameError(c.NewName) is { } invalid
            ? Decision.Reject(invalid.Code, invalid.Message)
            : NormalizeName(c.NewName) is var name && name == state.Name
                ? Decision.Accept()
                : Decision.Accept(new OrganizationRenamed(state.Id, state.Name, name!, c.Context.Now)),
        MoveOrganization c => CheckParent(c.OrganizationId, state.Level, c.NewParent) is { } error
            ? Decision.Reject(error.Code, error.Message)
            : c.NewParent.OrganizationId == state.ParentId
                ? Decision.Accept()
                : Decision.Accept(new OrganizationMoved(state.Id, state.ParentId, c.NewParent.OrganizationId, c.Context.Now)),
        DissolveOrganization c when c.ActiveChildren > 0 =>
            Decision.Reject(OrganizationErrors.HasChildren, $"'{state.Name}' still has {c.ActiveChildren} active subordinate organisation(s)"),
        DissolveOrganization c => Decision.Accept(new OrganizationDissolved(state.Id, c.Reason, c.Context.Now)),
        SetContacts c => CheckContacts(c.Contacts) is { } error
            ? Decision.Reject(error.Code, error.Message)
            : NormalizeContacts(c.Contacts) is var contacts && contacts.SequenceEqual(state.Contacts)
                ? Decision.Accept()
                : Decision.Accept(new OrganizationContactsSet(state.Id, contacts, c.Context.Now)),
        _ => throw new InvalidOperationException($"unhandled command {command.GetType().Name}"),
    };

    public static Organization Evolve(Organization state, object @event) => @event switch
    {
        OrganizationRegistered e => new Organization(e.OrganizationId, e.Name, e.Level, e.Sector, e.ParentId, false),
        OrganizationRenamed e => state with { Name = e.NewName },
        OrganizationMoved e => state with { ParentId = e.ToParentId },
        OrganizationDissolved => state with { IsDissolved = true },
        OrganizationContactsSet e => state with { Contacts = e.Contacts },
        _ => throw new InvalidOperationException($"an organisation cannot apply {@event.GetType().Name}"),
    };

    /// <summary>Names are kept exactly as written, in Unicode NFC, trimmed; null when nothing is left.</summary>
    /// <summary>A name is required, one line, bounded, and not a spreadsheet formula (the edge rules every name meets).</summary>
    public static DomainError? NameError(string? name) =>
        NormalizeName(name) is not { } normalized ? new DomainError(OrganizationErrors.InvalidName, "a name must not be empty")
        : EdgeRules.NameProblem(normalized) is { } problem ? new DomainError(OrganizationErrors.InvalidName, "the name " + problem)
        : null;

    public static string? NormalizeName(string? name) =>
        string.IsNullOrWhiteSpace(name) ? null : name.Trim().Normalize(NormalizationForm.FormC);

    /// <summary>Contacts as stored: trimmed, addresses lower-cased, in role then address order.</summary>
    public static IReadOnlyList<Contact> NormalizeContacts(IReadOnlyList<Contact> contacts) =>
        [.. contacts
            .Select(c => new Contact(c.Role.Trim(), c.Email.Trim().ToLowerInvariant(), string.IsNullOrWhiteSpace(c.Name) ? null : c.Name.Trim().Normalize(NormalizationForm.FormC),
                c.Language.Trim()))
            .OrderBy(c => c.Role, StringComparer.Ordinal).ThenBy(c => c.Email, StringComparer.Ordinal)];

    /// <summary>The first contact that cannot be written to: an unknown role or language, an address that is not one, too many.</summary>
    public static DomainError? CheckContacts(IReadOnlyList<Contact>? contacts)
    {
        if (contacts is null || contacts.Count > 50)
        {
            return new DomainError(OrganizationErrors.InvalidContact, "an organisation has a list of at most 50 contacts");
        }

        foreach (var contact in contacts)
        {
            if (contact is null || !Roles.IsKnown(contact.Role?.Trim()))
            {
                return new DomainError(OrganizationErrors.InvalidContact, $"a contact's role is one of {string.Join(", ", Roles.All)}");
            }

            if (string.IsNullOrWhiteSpace(contact.Email) || contact.Email.Trim().Length > 254 || !EmailPattern().IsMatch(contact.Email.Trim()))
            {
                return new DomainError(OrganizationErrors.InvalidContact, $"'{contact.Email}' is not an email address");
            }

            if (contact.Language?.Trim() is not ("vi" or "en"))
            {
                return new DomainError(OrganizationErrors.InvalidContact, "a contact reads vi (Vietnamese) or en (English)");
            }

            if (contact.Name is { Length: > 200 } || contact.Name?.Any(char.IsControl) == true)
            {
                return new DomainError(OrganizationErrors.InvalidContact, "a contact's name is plain text of at most 200 characters");
            }
        }

        return contacts.Select(c => (c.Role.Trim(), c.Email.Trim().ToLowerInvariant())).Distinct().Count() == contacts.Count
            ? null
            : new DomainError(OrganizationErrors.InvalidContact, "the same address is given twice for one role");
    }

    [GeneratedRegex(@"^[^@\s\p{Cc}]+@[^@\s\p{Cc}]+\.[^@\s\p{Cc}]+$")]
    private static partial Regex EmailPattern();

    private static Decision Register(RegisterOrganization c)
    {
        if (NameError(c.Name) is { } invalid)
        {
            return Decision.Reject(invalid.Code, invalid.Message);
        }

        var name = NormalizeName(c.Name)!;

        if (c.Level == OrganizationLevel.Central)
        {
            return c.Parent is null
                ? Decision.Accept(new OrganizationRegistered(c.OrganizationId, name, c.Level, c.Sector, null, c.Context.Now))
                : Decision.Reject(OrganizationErrors.InvalidParent, "the Central level has no parent");
        }

        if (c.Parent is null)
        {
            return Decision.Reject(OrganizationErrors.InvalidParent, $"'{name}' at level {c.Level} needs a parent organisation");
        }

        return CheckParent(c.OrganizationId, c.Level, c.Parent) is { } error
            ? Decision.Reject(error.Code, error.Message)
            : Decision.Accept(new OrganizationRegistered(c.OrganizationId, name, c.Level, c.Sector, c.Parent.OrganizationId, c.Context.Now));
    }

    private static DomainError? CheckParent(string organizationId, OrganizationLevel level, ParentFacts parent)
    {
        if (parent.OrganizationId == organizationId || parent.AncestorIds.Contains(organizationId))
        {
            return new DomainError(OrganizationErrors.Cycle, $"{parent.OrganizationId} is {organizationId} itself or below it: that would make a cycle");
        }

        if (parent.IsDissolved)
        {
            return new DomainError(OrganizationErrors.Dissolved, $"parent {parent.OrganizationId} is dissolved");
        }

        return parent.Level >= level
            ? new DomainError(OrganizationErrors.LevelNotBelowParent,
                $"a {level} organisation cannot sit under a {parent.Level} one: a child must be at a deeper level than its parent")
            : null;
    }
}
