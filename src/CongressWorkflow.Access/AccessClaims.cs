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
}
