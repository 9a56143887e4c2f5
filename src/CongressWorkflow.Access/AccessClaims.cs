using CongressWorkflow.Domain.Common;

namespace CongressWorkflow.Access;

/// <summary>
/// The claims a CongressWorkflow token carries, whoever issued it (the local key or an identity provider):
/// the user, the organisation they act for, and their role there.
/// </summary>
public static class AccessClaims
{
    public const string User = "sub";
    public const string Organization = "org";
    public const string Role = "role";
    public const string Name = "name";

    /// <summary>Issuer and audience of tokens minted with the local key (an identity provider brings its own).</summary>
    public const string LocalIssuer = "congressworkflow-local";
    public const string Audience = "congressworkflow";

    public const int MaxUserLength = 200;

    /// <summary>
    /// What is wrong with the claims a token would carry, or null: the one rule for minting tokens and for taking them.
    /// A known role, an organisation id, and a user named on one bounded line that no spreadsheet would run.
    /// </summary>
    public static string? Problem(string? user, string? organization, string? role) =>
        !EdgeRules.IsId(organization) ? $"the organisation '{organization}' is not an organisation id (lower-case letters, digits and hyphens)"
        : !Roles.IsKnown(role) ? $"the role '{role}' is not one of {string.Join(", ", Roles.All)}"
        : string.IsNullOrWhiteSpace(user) || user.Length > MaxUserLength || EdgeRules.NameProblem(user) is not null
            ? $"the user '{user}' is not a usable name (one line of at most {MaxUserLength} characters, not starting with =, +, - or @)"
            : null;
}
