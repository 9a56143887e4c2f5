using CongressWorkflow.Access;
using CongressWorkflow.Server.Api;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.IdentityModel.Tokens;

namespace CongressWorkflow.Server.Hosting;

/// <summary>
/// Bearer tokens: from an OpenID Connect authority (Auth:Authority, Auth:Audience), from a key set file
/// (Auth:KeySetFile with Auth:Issuer), or, by default, signed with the local key the server creates on first run
/// (Auth:SigningKeyFile, by default signing-key.pem in the data folder). Every API endpoint requires one.
/// </summary>
public static class AccessSetup
{
    /// <summary>The cookie the Hangfire dashboard's own requests carry the token in (set when an admin opens it with ?access_token=).</summary>
    public const string DashboardCookie = "cw_dashboard_token";

    public static void AddCongressAccess(this IServiceCollection services, IConfiguration configuration, string dataFolder)
    {
        var section = configuration.GetSection("Auth");
        var authority = section["Authority"];
        var keySetFile = section["KeySetFile"];
        TokenIssuer? localIssuer = null;
        SecurityKey? localKey = null;
        if (string.IsNullOrWhiteSpace(authority) && string.IsNullOrWhiteSpace(keySetFile))
        {
            localKey = LocalSigningKey.LoadOrCreate(section["SigningKeyFile"] is { Length: > 0 } file ? file : LocalDataFolder.SigningKeyFile(dataFolder));
            localIssuer = new TokenIssuer(localKey);
        }

        services.AddSingleton(new LocalTokens(localIssuer));
        services.AddSingleton<AccessGuard>();
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(options =>
        {
            options.MapInboundClaims = false;
            var parameters = new TokenValidationParameters
            {
                NameClaimType = AccessClaims.User,
                RoleClaimType = AccessClaims.Role,
                ValidateIssuer = true,
                ValidateAudience = true,
                ValidAudience = section["Audience"] is { Length: > 0 } audience ? audience : AccessClaims.Audience,
                ValidateLifetime = true,
                RequireExpirationTime = true,
                ClockSkew = section.GetValue("ClockSkew", TimeSpan.FromSeconds(30)),
            };
            if (!string.IsNullOrWhiteSpace(authority))
            {
                options.Authority = authority;
                options.RequireHttpsMetadata = section.GetValue("RequireHttpsMetadata", true);
                parameters.ValidIssuer = section["Issuer"] is { Length: > 0 } issuer ? issuer : null;
            }
            else if (!string.IsNullOrWhiteSpace(keySetFile))
            {
                parameters.IssuerSigningKeys = new JsonWebKeySet(File.ReadAllText(keySetFile)).GetSigningKeys();
                parameters.ValidIssuer = section["Issuer"] is { Length: > 0 } issuer ? issuer
                    : throw new InvalidOperationException("Auth:KeySetFile needs Auth:Issuer, the issuer its tokens name");
            }
            else
            {
                parameters.IssuerSigningKey = localKey;
                parameters.ValidIssuer = AccessClaims.LocalIssuer;
            }

            options.TokenValidationParameters = parameters;
            options.Events = new JwtBearerEvents
            {
                OnMessageReceived = context =>
                {
                    var request = context.Request;
                    // EventSource cannot send headers: the live inbox passes its token in the query; Hangfire's pages use a cookie.
                    if (request.Path.Value?.EndsWith("/inbox/stream", StringComparison.Ordinal) == true || request.Path.StartsWithSegments("/hangfire"))
                    {
                        context.Token = request.Query["access_token"].ToString() is { Length: > 0 } query ? query
                            : request.Path.StartsWithSegments("/hangfire") ? request.Cookies[DashboardCookie] : null;
                    }

                    return Task.CompletedTask;
                },
                OnTokenValidated = context =>
                {
                    var principal = context.Principal!;
                    if (AccessClaims.Problem(principal.FindFirst(AccessClaims.User)?.Value, principal.FindFirst(AccessClaims.Organization)?.Value,
                            principal.FindFirst(AccessClaims.Role)?.Value) is { } problem)
                    {
                        context.Fail(problem);
                    }

                    return Task.CompletedTask;
                },
                OnChallenge = async context =>
                {
                    context.HandleResponse();
                    var (code, detail) = context.AuthenticateFailure switch
                    {
                        SecurityTokenExpiredException => (AccessErrorCodes.TokenExpired, "the token has expired: sign in again"),
                        null => (AccessErrorCodes.Unauthenticated, "sign in: send a bearer token (Authorization: Bearer …)"),
                        var failure => (AccessErrorCodes.TokenInvalid, "the token was refused: " + FirstLine(failure.Message)),
                    };
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    await ProblemMapping.WriteAsync(context.HttpContext, StatusCodes.Status401Unauthorized, code, "Not signed in", detail);
                },
            };
        });
        services.AddAuthorization(options =>
        {
            // Nothing under the API answers without a valid token unless it says so (health, the demo sign-in).
            options.FallbackPolicy = new AuthorizationPolicyBuilder(JwtBearerDefaults.AuthenticationScheme).RequireAuthenticatedUser().Build();
        });
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim() is var line && line.Length > 300 ? line[..300] : message.Split('\n')[0].Trim();
}

/// <summary>The issuer of locally signed tokens, when the server signs its own (null with an identity provider).</summary>
public sealed record LocalTokens(TokenIssuer? Issuer);

/// <summary>Hangfire's dashboard: for admins of a root organisation (a token in ?access_token= once, then its cookie).</summary>
public sealed class OperatorDashboardFilter : IDashboardAsyncAuthorizationFilter
{
    public async Task<bool> AuthorizeAsync(DashboardContext context)
    {
        var http = context.GetHttpContext();
        var result = await http.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
        if (!result.Succeeded)
        {
            return false;
        }

        http.User = result.Principal;
        try
        {
            await http.RequestServices.GetRequiredService<AccessGuard>().DemandAsync(http, Capability.Operate, [], http.RequestAborted);
        }
        catch (RequestRejectedException)
        {
            return false;
        }

        if (http.Request.Query["access_token"].ToString() is { Length: > 0 } token)
        {
            http.Response.Cookies.Append(DashboardCookieName, token,
                new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/hangfire", Secure = http.Request.IsHttps, MaxAge = TimeSpan.FromHours(1) });
        }

        return true;
    }

    private const string DashboardCookieName = AccessSetup.DashboardCookie;
}
