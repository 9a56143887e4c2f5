using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CongressWorkflow.Access;
using CongressWorkflow.Engine.Demo;
using CongressWorkflow.EventStore;
using CongressWorkflow.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CongressWorkflow.Server.Tests;

/// <summary>
/// Every role × every endpoint × a target in the caller's subtree / in another bloc, plus no token, an expired token
/// and a token signed with another key, over HTTP on the demo. The expectations are written out here, not derived
/// from the server's rules; after every refusal the store's head has not moved.
/// </summary>
public sealed class the_authorization_matrix(the_authorization_matrix.QuietDemoServer fixture) : IClassFixture<the_authorization_matrix.QuietDemoServer>
{
    /// <summary>The demo without a Hangfire server, so no sweep appends while the matrix watches the head.</summary>
    public sealed class QuietDemoServer : DemoServerFixture
    {
        protected override IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?> { ["Hangfire:Server"] = "false" };
    }

    private const string Campaign = DemoCampaign.CampaignId;
    private const string Bloc = DemoCampaign.CentralBloc;

    /// <summary>Where "own" points for an endpoint: the caller's organisation itself, one below it, or nothing.</summary>
    private enum Own { Self, Below, None }

    /// <param name="Allowed">The roles allowed on their own subtree.</param>
    /// <param name="TopLevelOnly">Only callers at a top-level organisation (Central) may, whatever their role.</param>
    private sealed record Row(HttpMethod Method, string Path, object? Body, Own Own, string[] Allowed, bool TopLevelOnly = false, string? Content = null);

    private static readonly string[] Everyone = ["secretariat", "committee", "monitor", "auditor", "admin"];

    private static IReadOnlyList<Row> Rows(string subscriptionOwn, string subscriptionOther)
    {
        string[] secretariat = ["secretariat"], committee = ["committee"], admin = ["admin"], audit = ["auditor", "admin"];
        var congress = $"/api/campaigns/{Campaign}/congresses/{{org}}";
        var progress = $"/api/campaigns/{Campaign}/progress/{{org}}";
        var plan = new { document = "10-KH/ĐU", plannedDate = "2020-05-28", window = new { start = "2020-05-01", end = "2020-06-30" } };
        var rows = new List<Row>
        {
            new(HttpMethod.Get, congress, null, Own.Below, Everyone),
            new(HttpMethod.Post, congress + "/plan", plan, Own.Below, committee),
            new(HttpMethod.Post, congress + "/plan/amendments", plan with { }, Own.Below, committee),
            new(HttpMethod.Post, congress + "/approval", new { decision = "15-QĐ/ĐU" }, Own.Below, committee),
            new(HttpMethod.Post, congress + "/return", new { comments = "bổ sung" }, Own.Below, committee),
            new(HttpMethod.Post, congress + "/exemption", new { decision = "15-QĐ/ĐU", reason = "x" }, Own.Below, committee),
            new(HttpMethod.Post, congress + "/recognition", new { decision = "15-QĐ/ĐU" }, Own.Below, committee),
            new(HttpMethod.Get, "/api/organizations", null, Own.None, Everyone),
            new(HttpMethod.Get, "/api/organizations/{org}", null, Own.Below, Everyone),
            new(HttpMethod.Get, "/api/organizations/{org}/children", null, Own.Below, Everyone),
            new(HttpMethod.Get, "/api/organizations/{org}/subtree", null, Own.Below, Everyone),
            new(HttpMethod.Post, "/api/organizations", new { id = "new-unit", name = "Chi bộ mới", level = "branch", parentId = "{org}" }, Own.Below, admin),
            new(HttpMethod.Put, "/api/organizations/{org}/name", new { name = "Tên mới" }, Own.Below, admin),
            new(HttpMethod.Post, "/api/organizations/{org}/move", new { parentId = "{org}" }, Own.Below, admin),
            new(HttpMethod.Post, "/api/organizations/{org}/dissolve", new { reason = "sáp nhập" }, Own.Below, admin),
            new(HttpMethod.Get, "/api/organizations/{org}/contacts", null, Own.Below, Everyone),
            new(HttpMethod.Put, "/api/organizations/{org}/contacts", new { contacts = Array.Empty<object>() }, Own.Below, admin),
            new(HttpMethod.Get, "/api/organizations/{org}/inbox", null, Own.Below, Everyone),
            new(HttpMethod.Post, $"/api/organizations/{{org}}/inbox/{Guid.Empty}/read", null, Own.Below, Everyone),
            new(HttpMethod.Post, "/api/organizations/import", null, Own.None, admin, TopLevelOnly: true, Content: "id,name,level,sector,parent_id\n"),
            new(HttpMethod.Get, "/api/campaigns", null, Own.None, Everyone),
            new(HttpMethod.Post, "/api/campaigns", new { id = "x" }, Own.None, admin, TopLevelOnly: true),
            new(HttpMethod.Get, $"/api/campaigns/{Campaign}/deadline-policy", null, Own.None, Everyone),
            new(HttpMethod.Put, $"/api/campaigns/{Campaign}/deadline-policy", new { reason = "x" }, Own.None, admin, TopLevelOnly: true),
            new(HttpMethod.Get, $"/api/campaigns/{Campaign}/deadlines/{{org}}", null, Own.Below, Everyone),
            new(HttpMethod.Get, $"/api/campaigns/{Campaign}/notifications/{{org}}", null, Own.Below, Everyone),
            new(HttpMethod.Get, $"/api/notifications/{Guid.Empty}", null, Own.None, Everyone),
            new(HttpMethod.Post, "/api/deadlines/sweep/trigger", null, Own.None, admin, TopLevelOnly: true),
            new(HttpMethod.Get, "/api/deliveries", null, Own.None, admin, TopLevelOnly: true),
            new(HttpMethod.Post, $"/api/deliveries/{Guid.Empty}/redeliver", null, Own.None, admin, TopLevelOnly: true),
            new(HttpMethod.Get, "/api/subscriptions", null, Own.None, admin),
            new(HttpMethod.Post, "/api/subscriptions", new { channel = "email", rootOrganizationId = "{org}" }, Own.Below, admin),
            new(HttpMethod.Get, progress, null, Own.Below, Everyone),
            new(HttpMethod.Get, progress + "/subordinates", null, Own.Below, Everyone),
            new(HttpMethod.Get, progress + "/overdue", null, Own.Below, Everyone),
            new(HttpMethod.Get, progress + "/units?q=x", null, Own.Below, Everyone),
            new(HttpMethod.Get, progress + "/upcoming", null, Own.Below, Everyone),
            new(HttpMethod.Get, progress + "/timeline", null, Own.Below, Everyone),
            new(HttpMethod.Get, progress + "/audit", null, Own.Below, audit),
            new(HttpMethod.Get, progress + "/conformance", null, Own.Below, audit),
            new(HttpMethod.Get, "/api/projections", null, Own.None, Everyone),
            new(HttpMethod.Post, "/api/simulations", new { size = 5 }, Own.None, admin, TopLevelOnly: true),
            new(HttpMethod.Get, "/api/simulations/no-such", null, Own.None, admin, TopLevelOnly: true),
            new(HttpMethod.Get, "/api/simulations", null, Own.None, admin, TopLevelOnly: true),
            new(HttpMethod.Post, "/api/projections/no-such/rebuild", null, Own.None, admin, TopLevelOnly: true),
            new(HttpMethod.Post, "/api/projections/no-such/resume", null, Own.None, admin, TopLevelOnly: true),
            new(HttpMethod.Get, "/api/store/status", null, Own.None, audit, TopLevelOnly: true),
            new(HttpMethod.Get, "/api/store/verify", null, Own.None, audit, TopLevelOnly: true),
            new(HttpMethod.Get, "/api/store/verify?stream=org-{org}", null, Own.Below, audit),
            new(HttpMethod.Get, "/api/streams/org-{org}/events", null, Own.Below, audit),
            new(HttpMethod.Get, "/api/auth/me", null, Own.None, Everyone),
            new(HttpMethod.Get, "/api/replica", null, Own.None, Everyone),
            new(HttpMethod.Post, "/api/store/verify", new
            {
                checkpoint = new { takenAt = "2026-01-01T00:00:00Z", headPosition = 0, streams = Array.Empty<object>(), root = "0" },
                algorithm = "ES256", publicKey = "AA==", signature = "AA==",
            }, Own.None, audit, TopLevelOnly: true),
            new(HttpMethod.Post, "/api/audit/checkpoints", null, Own.None, admin, TopLevelOnly: true),
            new(HttpMethod.Get, "/api/audit/checkpoints", null, Own.None, audit, TopLevelOnly: true),
            new(HttpMethod.Get, "/api/audit/checkpoints/latest", null, Own.None, audit, TopLevelOnly: true),
            new(HttpMethod.Get, "/api/audit/bundle?root={org}", null, Own.Below, audit),
        };
        foreach (var step in new[] { "subcommittees", "drafts", "comments", "personnel-plan", "submission", "schedule", "postponement", "reschedule",
                     "convening", "elections", "resolution", "action-programme", "dissemination" })
        {
            rows.Add(new Row(HttpMethod.Post, $"{congress}/{step}", step == "submission" ? null : new { }, Own.Self, secretariat));
        }

        rows.Add(new Row(HttpMethod.Delete, "/api/subscriptions/" + subscriptionOwn, null, Own.None, admin));
        rows.Add(new Row(HttpMethod.Delete, "/api/subscriptions/" + subscriptionOther, null, Own.None, [], TopLevelOnly: true));
        return rows;
    }

    private async Task<HttpResponseMessage> SendAsync(Row row, string organization, string? token)
    {
        var path = row.Path.Replace("{org}", organization, StringComparison.Ordinal);
        using var request = new HttpRequestMessage(row.Method, path);
        if (row.Content is not null)
        {
            request.Content = new StringContent(row.Content, Encoding.UTF8, "text/csv");
        }
        else if (row.Body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(row.Body).Replace("{org}", organization, StringComparison.Ordinal), Encoding.UTF8,
                "application/json");
        }

        // A write that gets past the access check meets a version it cannot match, so nothing is written either way.
        request.Headers.TryAddWithoutValidation("If-Match", "\"999999\"");
        if (token is not null)
        {
            request.Headers.Authorization = new("Bearer", token);
        }

        using var anonymous = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        return await anonymous.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    private async Task<string> SubscribeAsync(string root)
    {
        var created = await fixture.Http.PostAsJsonAsync("/api/subscriptions", new { channel = "email", rootOrganizationId = root });
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task every_role_on_every_endpoint_is_let_in_on_its_own_subtree_only_and_a_refusal_writes_nothing()
    {
        var store = fixture.Server.App.Services.GetRequiredService<PostgresEventStore>();
        var rows = Rows(await SubscribeAsync(DemoCampaign.Ministry), await SubscribeAsync(DemoCampaign.ThaiBinh));
        var failures = new List<string>();

        async Task CheckAsync(Row row, string role, string caller, string target, bool allowed)
        {
            var head = await store.ReadHeadPositionAsync();
            using var response = await SendAsync(row, target, TestAuth.Token(role, caller));
            var status = (int)response.StatusCode;
            if (allowed ? status is 401 or 403 or >= 500 : status != 403)
            {
                failures.Add($"{role}@{caller} {row.Method} {row.Path} on {target}: {status}, expected {(allowed ? "to be let in" : "403")}");
            }

            if (!allowed && await store.ReadHeadPositionAsync() != head)
            {
                failures.Add($"{role}@{caller} {row.Method} {row.Path} on {target}: refused but the head moved");
            }

            if (!allowed && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            {
                failures.Add($"{role}@{caller} {row.Method} {row.Path}: a refusal without a problem document");
            }
        }

        foreach (var row in rows)
        {
            foreach (var role in Everyone)
            {
                // A user of the Central Agencies Bloc: its own subtree, then the provincial bloc's.
                var own = row.Own == Own.Self ? Bloc : DemoCampaign.Ministry;
                await CheckAsync(row, role, Bloc, own, row.Allowed.Contains(role) && !row.TopLevelOnly);
                if (row.Own != Own.None)
                {
                    await CheckAsync(row, role, Bloc, row.Own == Own.Self ? DemoCampaign.ProvincialBloc : DemoCampaign.ThaiBinh, allowed: false);
                }
            }

            // Top-level admins and auditors reach every bloc.
            foreach (var role in new[] { "admin", "auditor" })
            {
                if (row.Own != Own.Self)
                {
                    await CheckAsync(row, role, DemoCampaign.Central, DemoCampaign.ThaiBinh, row.Allowed.Contains(role) || (row.TopLevelOnly && row.Allowed.Length == 0 && role == "admin"));
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task no_token_an_expired_token_and_a_token_signed_with_another_key_are_401_problems_on_every_endpoint()
    {
        var store = fixture.Server.App.Services.GetRequiredService<PostgresEventStore>();
        var otherKey = Path.Combine(Path.GetTempPath(), $"cw-other-key-{Guid.NewGuid():N}.pem");
        var forged = new TokenIssuer(LocalSigningKey.LoadOrCreate(otherKey)).Issue("admin@" + DemoCampaign.Central, DemoCampaign.Central, "admin");
        File.Delete(otherKey);
        var expired = TestAuth.Token("admin", DemoCampaign.Central, lifetime: TimeSpan.FromHours(-1));
        var failures = new List<string>();
        foreach (var row in Rows("sub-0000000000000000", "sub-0000000000000001"))
        {
            foreach (var (token, code) in new[] { ((string?)null, "unauthenticated"), (expired, "token-expired"), (forged, "token-invalid") })
            {
                var head = await store.ReadHeadPositionAsync();
                using var response = await SendAsync(row, DemoCampaign.Ministry, token);
                var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
                if (response.StatusCode != HttpStatusCode.Unauthorized || problem.GetProperty("code").GetString() != code
                    || await store.ReadHeadPositionAsync() != head)
                {
                    failures.Add($"{row.Method} {row.Path} with {code}: {(int)response.StatusCode} {problem}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
