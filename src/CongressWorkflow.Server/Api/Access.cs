using System.Security.Claims;
using CongressWorkflow.Access;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Engine.Organizations;

namespace CongressWorkflow.Server.Api;

/// <summary>What an endpoint lets a caller do, each scoped to the subtree of the caller's organisation.</summary>
public enum Capability
{
    /// <summary>Any role reads its subtree (with no target: anything not tied to one organisation, e.g. the campaigns).</summary>
    Read,

    /// <summary>Auditors (and admins) read raw histories, the approval trail and verification; with no target, the whole store, from a root.</summary>
    Audit,

    /// <summary>The secretariat records its own organisation's congress steps.</summary>
    Record,

    /// <summary>A committee approves, returns, recognises and exempts below it (the domain then requires the direct superior).</summary>
    Decide,

    /// <summary>A committee issues and amends plans in its subtree.</summary>
    Plan,

    /// <summary>An admin manages the organisations, contacts and subscriptions of its subtree.</summary>
    Administer,

    /// <summary>An admin of a root organisation runs the whole system (campaigns, imports, projections, jobs, deliveries).</summary>
    Operate,
}

/// <summary>Who calls, as the verified token says: the only source of the actor recorded on events.</summary>
public sealed record Caller(string UserId, string Role, string OrganizationId)
{
    public static Caller Of(HttpContext http) =>
        http.User.Identity?.IsAuthenticated == true
        && http.User.FindFirstValue(AccessClaims.User) is { Length: > 0 } user
        && http.User.FindFirstValue(AccessClaims.Role) is { Length: > 0 } role
        && http.User.FindFirstValue(AccessClaims.Organization) is { Length: > 0 } organization
            ? new Caller(user, role, organization)
            : throw new RequestRejectedException(StatusCodes.Status401Unauthorized, AccessErrorCodes.Unauthenticated, "sign in: send a bearer token");
}

public static class AccessErrorCodes
{
    public const string Unauthenticated = "unauthenticated";
    public const string TokenExpired = "token-expired";
    public const string TokenInvalid = "token-invalid";
    public const string Forbidden = "forbidden";
}

/// <summary>The one place that decides whether a caller may do something to an organisation.</summary>
public sealed class AccessGuard(OrganizationTree tree)
{
    /// <summary>Refuses with a 403 problem unless the caller has the capability over every target (none: a capability not tied to one).</summary>
    public async Task DemandAsync(HttpContext http, Capability capability, IReadOnlyList<string> targets, CancellationToken cancellationToken)
    {
        var caller = Caller.Of(http);
        if (!RoleAllows(caller.Role, capability))
        {
            throw Forbidden($"the {caller.Role} role may not {Describe(capability)}");
        }

        // Reading what belongs to no organisation (the campaigns, the projections) needs only a known role: no query.
        if (capability == Capability.Read && targets.Count == 0)
        {
            return;
        }

        var scope = await tree.ScopeAsync(caller.OrganizationId, targets, cancellationToken);
        // Before any organisation exists, an admin bootstraps the tree.
        var operatesEverything = scope.CallerIsRoot || (scope.TreeIsEmpty && caller.Role == Roles.Admin);
        // Without a target organisation (the whole store, a new top-level organisation) only a top-level caller may act.
        if (capability == Capability.Operate || (capability != Capability.Read && targets.Count == 0))
        {
            if (!operatesEverything)
            {
                throw Forbidden($"only the {caller.Role} role of a top-level organisation may {Describe(capability)} across the whole tree");
            }

            return;
        }

        foreach (var target in targets)
        {
            var allowed = capability switch
            {
                Capability.Record => target == caller.OrganizationId,
                Capability.Decide when target == caller.OrganizationId => false,
                // A root's subtree is everything: an unknown id then answers 404 rather than 403.
                _ => scope.CallerIsRoot || scope.InSubtree.Contains(target),
            };
            if (!allowed)
            {
                throw Forbidden(capability == Capability.Record
                    ? $"{caller.OrganizationId}'s secretariat records its own congress, not {target}'s"
                    : $"'{target}' is outside the subtree of {caller.OrganizationId}");
            }
        }
    }

    /// <summary>Which of some organisations lie in the caller's subtree (all of them for a top-level caller).</summary>
    public async Task<IReadOnlySet<string>> VisibleAsync(HttpContext http, IReadOnlyList<string> organizationIds, CancellationToken cancellationToken)
    {
        var scope = await tree.ScopeAsync(Caller.Of(http).OrganizationId, organizationIds, cancellationToken);
        return scope.CallerIsRoot ? organizationIds.ToHashSet(StringComparer.Ordinal) : scope.InSubtree;
    }

    public Task DemandAsync(HttpContext http, Capability capability, string? target, CancellationToken cancellationToken) =>
        DemandAsync(http, capability, target is null ? [] : [target], cancellationToken);

    /// <summary>Which roles hold a capability at all (the subtree decides the rest).</summary>
    public static bool RoleAllows(string role, Capability capability) => capability switch
    {
        Capability.Read => Roles.IsKnown(role),
        Capability.Audit => role is Roles.Auditor or Roles.Admin,
        Capability.Record => role == Roles.Secretariat,
        Capability.Decide or Capability.Plan => role == Roles.Committee,
        Capability.Administer or Capability.Operate => role == Roles.Admin,
        _ => false,
    };

    private static string Describe(Capability capability) => capability switch
    {
        Capability.Read => "read this",
        Capability.Audit => "read raw histories, the approval trail or verification",
        Capability.Record => "record congress steps",
        Capability.Decide => "decide on a subordinate's submission",
        Capability.Plan => "issue or amend plans",
        Capability.Administer => "manage organisations, contacts or subscriptions",
        _ => "run the system (campaigns, imports, projections, jobs, deliveries)",
    };

    private static RequestRejectedException Forbidden(string message) => new(StatusCodes.Status403Forbidden, AccessErrorCodes.Forbidden, message);
}

/// <summary>The access rule an endpoint declares (checked by a filter before the handler runs, listed by the API document).</summary>
public sealed record AccessRule(Capability Capability);

public static class AccessEndpointExtensions
{
    /// <summary>Checks the capability over the organisation named by a route value (or, with no route value, over none).</summary>
    public static TBuilder Requires<TBuilder>(this TBuilder builder, Capability capability, string? routeValue = "organizationId")
        where TBuilder : IEndpointConventionBuilder =>
        builder.Requires(capability, routeValue is null ? _ => [] : context => [context.HttpContext.GetRouteValue(routeValue)?.ToString() ?? string.Empty]);

    /// <summary>Checks the capability over the organisations a request names (route values or the bound body).</summary>
    public static TBuilder Requires<TBuilder>(this TBuilder builder, Capability capability, Func<EndpointFilterInvocationContext, IReadOnlyList<string?>> targets)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new AccessRule(capability));
        builder.AddEndpointFilter(async (context, next) =>
        {
            var named = targets(context).Where(t => t is not null).Select(t => t!).ToList();
            await context.HttpContext.RequestServices.GetRequiredService<AccessGuard>()
                .DemandAsync(context.HttpContext, capability, named, context.HttpContext.RequestAborted);
            return await next(context);
        });
        return builder;
    }
}
