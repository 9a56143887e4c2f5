using System.Net;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Engine.Demo;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.Server.Hosting;

namespace CongressWorkflow.Server.Api;

public sealed record DemoSignInRequest(string? OrganizationId, string? Role);

public sealed record DemoUser(string OrganizationId, string OrganizationName, string Role, string User);

public sealed record SignedIn(string Token, string User, string OrganizationId, string Role);

public sealed record WhoAmI(string User, string OrganizationId, string? OrganizationName, string Role, IReadOnlyList<string> Capabilities);

/// <summary>
/// Who the caller is and what they may do (the dashboard shows only what the role allows), and the demo sign-in:
/// on loopback, with the demo loaded and the server signing its own tokens, a list of demo users to act as.
/// </summary>
public static class SignInEndpoints
{
    public static void MapSignInEndpoints(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/api/auth").AddEndpointFilter<EdgeValidation>();
        auth.MapGet("/me", async (HttpContext http, OrganizationTree tree, CancellationToken ct) =>
        {
            var caller = Caller.Of(http);
            return TypedResults.Ok(new WhoAmI(caller.UserId, caller.OrganizationId, (await tree.GetAsync(caller.OrganizationId, ct))?.Name, caller.Role,
                [.. Enum.GetValues<Capability>().Where(c => AccessGuard.RoleAllows(caller.Role, c)).Select(c => c.ToString().ToLowerInvariant())]));
        }).Requires(Capability.Read, routeValue: null);

        auth.MapGet("/demo-users", async (HttpContext http, OrganizationTree tree, LocalTokens tokens, IConfiguration configuration, CancellationToken ct) =>
        {
            RequireDemoSignIn(http, tokens, configuration);
            var users = new List<DemoUser>();
            foreach (var (organization, role) in DemoRoles)
            {
                if (await tree.GetAsync(organization, ct) is { } node)
                {
                    users.Add(new DemoUser(node.Id, node.Name, role, $"{role}@{node.Id}"));
                }
            }

            return TypedResults.Ok(users);
        }).AllowAnonymous();

        auth.MapPost("/demo-sign-in", async (DemoSignInRequest r, HttpContext http, OrganizationTree tree, LocalTokens tokens, IConfiguration configuration,
            CancellationToken ct) =>
        {
            RequireDemoSignIn(http, tokens, configuration);
            var organization = RequestParsing.Required(r.OrganizationId, "organizationId");
            var role = RequestParsing.Required(r.Role, "role");
            if (!Roles.IsKnown(role) || await tree.GetAsync(organization, ct) is null)
            {
                throw new RequestRejectedException(StatusCodes.Status400BadRequest, "unknown-demo-user",
                    $"sign in as one of the roles {string.Join(", ", Roles.All)} of an organisation that exists");
            }

            var user = $"{role}@{organization}";
            return TypedResults.Ok(new SignedIn(tokens.Issuer!.Issue(user, organization, role), user, organization, role));
        }).AllowAnonymous();
    }

    /// <summary>The organisations and roles the demo sign-in offers: one person per role that the demo's story needs.</summary>
    private static readonly (string Organization, string Role)[] DemoRoles =
    [
        (DemoCampaign.Central, Roles.Admin),
        (DemoCampaign.Central, Roles.Auditor),
        (DemoCampaign.Central, Roles.Monitor),
        (DemoCampaign.CentralBloc, Roles.Committee),
        (DemoCampaign.CentralBloc, Roles.Auditor),
        (DemoCampaign.Ministry, Roles.Committee),
        (DemoCampaign.Ministry, Roles.Secretariat),
        (DemoCampaign.ProvincialBloc, Roles.Committee),
        (DemoCampaign.ProvincialBloc, Roles.Monitor),
        (DemoCampaign.ThaiBinh, Roles.Secretariat),
    ];

    private static void RequireDemoSignIn(HttpContext http, LocalTokens tokens, IConfiguration configuration)
    {
        var allowed = tokens.Issuer is not null
            && configuration.GetValue("Auth:DemoSignIn", configuration.GetValue("Demo:Load", defaultValue: true))
            && http.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address);
        if (!allowed)
        {
            throw new RequestRejectedException(StatusCodes.Status404NotFound, RequestErrorCodes.NotFound,
                "the demo sign-in is only offered on loopback, with the demo loaded and locally signed tokens");
        }
    }
}
