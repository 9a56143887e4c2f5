using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CongressWorkflow.Access;

/// <summary>Mints tokens with the local key (the `congress token issue` command, the dashboard's demo sign-in, tests).</summary>
public sealed class TokenIssuer(SecurityKey key, TimeProvider? clock = null, string issuer = AccessClaims.LocalIssuer)
{
    public static TimeSpan DefaultLifetime { get; } = TimeSpan.FromHours(8);

    /// <summary>Token lifetimes are wall-clock time, whatever business clock the server runs on.</summary>
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public string Issue(string user, string organization, string role, TimeSpan? lifetime = null, string? name = null)
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        var expires = now + (lifetime ?? DefaultLifetime);
        var claims = new List<Claim>
        {
            new(AccessClaims.User, user),
            new(AccessClaims.Organization, organization),
            new(AccessClaims.Role, role),
        };
        if (name is not null)
        {
            claims.Add(new Claim(AccessClaims.Name, name));
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = AccessClaims.Audience,
            Subject = new ClaimsIdentity(claims),
            // A token already expired (for tests of refusal) is valid from before it ended.
            NotBefore = expires < now ? expires.AddHours(-1) : now,
            IssuedAt = expires < now ? expires.AddHours(-1) : now,
            Expires = expires,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256),
        });
    }
}
