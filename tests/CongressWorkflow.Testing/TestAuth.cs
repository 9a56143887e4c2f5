using System.Net.Http.Headers;
using CongressWorkflow.Access;
using CongressWorkflow.Domain.Common;

namespace CongressWorkflow.Testing;

/// <summary>
/// Tokens for tests: one signing key per test run (every server the tests start is given it as Auth:SigningKeyFile),
/// and who does what in the congress workflow, to sign requests as the role the product expects.
/// </summary>
public static class TestAuth
{
    public static string KeyFile { get; } = Path.Combine(Path.GetTempPath(), $"cw-tests-signing-key-{Environment.ProcessId}.pem");

    private static readonly Lazy<TokenIssuer> Issuer = new(() => new TokenIssuer(LocalSigningKey.LoadOrCreate(KeyFile)));

    public static string Token(string role, string organization, string? user = null, TimeSpan? lifetime = null) =>
        Issuer.Value.Issue(user ?? $"{role}@{organization}", organization, role, lifetime);

    public static AuthenticationHeaderValue Bearer(string role, string organization) => new("Bearer", Token(role, organization));

    /// <summary>A client of the server signed in as a role of an organisation.</summary>
    public static HttpClient Client(Uri server, string role, string organization) =>
        new() { BaseAddress = server, DefaultRequestHeaders = { Authorization = Bearer(role, organization) } };

    /// <summary>Signs a request as the role that does such a thing: plans and decisions by a committee, congress steps by the secretariat, the rest by an admin.</summary>
    public static HttpRequestMessage ActingFor(this HttpRequestMessage request, string organization)
    {
        request.Headers.Authorization = Bearer(RoleFor(request.RequestUri!.OriginalString), organization);
        return request;
    }

    public static string RoleFor(string path)
    {
        var route = path.Split('?')[0];
        if (!route.Contains("/congresses/", StringComparison.Ordinal))
        {
            return Roles.Admin;
        }

        return route.EndsWith("/plan", StringComparison.Ordinal) || route.EndsWith("/plan/amendments", StringComparison.Ordinal)
            || route.EndsWith("/approval", StringComparison.Ordinal) || route.EndsWith("/return", StringComparison.Ordinal)
            || route.EndsWith("/recognition", StringComparison.Ordinal) || route.EndsWith("/exemption", StringComparison.Ordinal)
            ? Roles.Committee
            : Roles.Secretariat;
    }
}
