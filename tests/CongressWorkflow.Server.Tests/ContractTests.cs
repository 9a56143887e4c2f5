using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CongressWorkflow.Engine.Demo;
using CongressWorkflow.EventStore;
using CongressWorkflow.Server.Api;
using CongressWorkflow.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CongressWorkflow.Server.Tests;

/// <summary>Idempotent commands, the published OpenAPI contract, and hostile input on every command endpoint, on the demo.</summary>
public sealed class the_api_contract(the_authorization_matrix.QuietDemoServer fixture) : IClassFixture<the_authorization_matrix.QuietDemoServer>
{
    private PostgresEventStore Store => fixture.Server.App.Services.GetRequiredService<PostgresEventStore>();

    private HttpRequestMessage Submission(string key, object body)
    {
        // The provincial bloc's congress forms a subcommittee: a step its secretariat records.
        var request = new HttpRequestMessage(HttpMethod.Post,
            $"/api/campaigns/{DemoCampaign.CampaignId}/congresses/{DemoCampaign.ProvincialBloc}/subcommittees") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        request.Headers.Authorization = TestAuth.Bearer("secretariat", DemoCampaign.ProvincialBloc);
        return request;
    }

    [Fact]
    public async Task a_command_retried_with_its_key_appends_once_and_another_body_under_the_key_is_refused()
    {
        var body = new { kind = "documents", head = "Đồng chí Bí thư", members = 9 };
        var key = "retry-" + Guid.NewGuid();
        var head = await Store.ReadHeadPositionAsync();

        var first = await fixture.Http.SendAsync(Submission(key, body));
        var firstBody = await first.Content.ReadAsStringAsync();
        var afterFirst = await Store.ReadHeadPositionAsync();
        var retry = await fixture.Http.SendAsync(Submission(key, body));
        var other = await fixture.Http.SendAsync(Submission(key, body with { members = 11 }));

        Assert.True(first.StatusCode == HttpStatusCode.OK, firstBody);
        Assert.Equal(head + 1, afterFirst);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(firstBody, await retry.Content.ReadAsStringAsync());
        Assert.Equal(first.Headers.ETag, retry.Headers.ETag);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        Assert.Equal("idempotency-key-reused", (await other.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal(afterFirst, await Store.ReadHeadPositionAsync());
    }

    [Fact]
    public async Task twenty_concurrent_duplicates_append_once_and_all_get_the_same_answer()
    {
        var body = new { kind = "personnel", head = "Đồng chí Phó Bí thư", members = 5 };
        var key = "burst-" + Guid.NewGuid();
        var head = await Store.ReadHeadPositionAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => fixture.Http.SendAsync(Submission(key, body))));
        var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Single(bodies.Distinct());
        Assert.Equal(head + 1, await Store.ReadHeadPositionAsync());
    }

    [Fact]
    public async Task the_openapi_document_lists_every_route_and_every_route_declares_who_may_call_it()
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        var document = await anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var documented = document.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => $"{m.Name.ToUpperInvariant()} {p.Name}")).ToHashSet();
        var routes = fixture.Server.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? [])
                .Select(m => (Route: $"{m} {Normalise(e.RoutePattern.RawText!)}", Endpoint: e)))
            .ToList();

        var undocumented = routes.Select(r => r.Route).Where(r => !documented.Contains(r)).ToList();
        var phantom = documented.Where(d => d.Contains(" /api", StringComparison.Ordinal) && routes.All(r => r.Route != d)).ToList();
        var unguarded = routes.Where(r => r.Endpoint.Metadata.GetMetadata<AccessRule>() is null
            && r.Endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is null).Select(r => r.Route).ToList();

        Assert.True(routes.Count > 50, $"only {routes.Count} routes found");
        Assert.True(undocumented.Count == 0, "not in the OpenAPI document: " + string.Join(", ", undocumented));
        Assert.True(phantom.Count == 0, "documented but not served: " + string.Join(", ", phantom));
        Assert.True(unguarded.Count == 0, "no access rule: " + string.Join(", ", unguarded));
        Assert.True(document.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("bearer", out _));
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/scalar/v1")).StatusCode);
    }

    [Fact]
    public async Task what_every_read_endpoint_returns_for_the_demo_is_what_the_openapi_document_says()
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        var document = await anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var schemas = document.GetProperty("components").GetProperty("schemas");
        var campaign = DemoCampaign.CampaignId;
        var org = DemoCampaign.Ministry;
        var notification = (await fixture.Http.GetFromJsonAsync<JsonElement[]>($"/api/campaigns/{campaign}/notifications/{org}"))!
            .First().GetProperty("notificationId").GetString();
        var reads = new (string Template, string Url)[]
        {
            ("/api/organizations", "/api/organizations"),
            ("/api/organizations/{id}", $"/api/organizations/{org}"),
            ("/api/organizations/{id}/children", $"/api/organizations/{org}/children"),
            ("/api/organizations/{id}/subtree", $"/api/organizations/{org}/subtree"),
            ("/api/organizations/{organizationId}/contacts", $"/api/organizations/{DemoCampaign.ThaiBinh}/contacts"),
            ("/api/organizations/{organizationId}/inbox", $"/api/organizations/{org}/inbox"),
            ("/api/campaigns", "/api/campaigns"),
            ("/api/campaigns/{campaignId}/congresses/{organizationId}", $"/api/campaigns/{campaign}/congresses/{org}"),
            ("/api/campaigns/{campaignId}/congresses/{organizationId}", $"/api/campaigns/{campaign}/congresses/{DemoCampaign.ThaiBinh}?asOf=2020-04-01"),
            ("/api/campaigns/{campaignId}/progress/{organizationId}", $"/api/campaigns/{campaign}/progress/{DemoCampaign.CentralBloc}?asOf=2020-05-15"),
            ("/api/campaigns/{campaignId}/progress/{organizationId}/subordinates", $"/api/campaigns/{campaign}/progress/{org}/subordinates?asOf=2020-05-15"),
            ("/api/campaigns/{campaignId}/progress/{organizationId}/overdue", $"/api/campaigns/{campaign}/progress/{DemoCampaign.ThaiBinh}/overdue?asOf=2020-04-01&knownAt=2020-03-11T00:00:00Z"),
            ("/api/campaigns/{campaignId}/progress/{organizationId}/upcoming", $"/api/campaigns/{campaign}/progress/{org}/upcoming?asOf=2020-05-01"),
            ("/api/campaigns/{campaignId}/progress/{organizationId}/timeline", $"/api/campaigns/{campaign}/progress/{org}/timeline?to=2020-08-01"),
            ("/api/campaigns/{campaignId}/progress/{organizationId}/audit", $"/api/campaigns/{campaign}/progress/{DemoCampaign.CentralBloc}/audit"),
            ("/api/campaigns/{campaignId}/deadline-policy", $"/api/campaigns/{campaign}/deadline-policy"),
            ("/api/campaigns/{campaignId}/deadlines/{organizationId}", $"/api/campaigns/{campaign}/deadlines/{org}?asOf=2020-04-23"),
            ("/api/campaigns/{campaignId}/notifications/{organizationId}", $"/api/campaigns/{campaign}/notifications/{org}"),
            ("/api/notifications/{notificationId}", $"/api/notifications/{notification}"),
            ("/api/deliveries", "/api/deliveries"),
            ("/api/subscriptions", "/api/subscriptions"),
            ("/api/projections", "/api/projections"),
            ("/api/store/status", "/api/store/status"),
            ("/api/store/verify", $"/api/store/verify?stream=org-{org}"),
            ("/api/streams/{streamId}/events", $"/api/streams/org-{org}/events"),
            ("/api/auth/me", "/api/auth/me"),
        };
        var problems = new List<string>();
        foreach (var (template, url) in reads)
        {
            var body = await fixture.Http.GetFromJsonAsync<JsonElement>(url);
            var operation = document.GetProperty("paths").GetProperty(template).GetProperty("get");
            var schema = operation.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema");
            Conform(body, schema, schemas, url, problems);
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(40)));
    }

    /// <summary>The value has the schema's types, no property the schema does not declare, and every property it requires.</summary>
    private static void Conform(JsonElement value, JsonElement schema, JsonElement schemas, string path, List<string> problems)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            schema = schemas.GetProperty(reference.GetString()!.Split('/')[^1]);
        }

        foreach (var alternatives in new[] { "oneOf", "anyOf" })
        {
            if (schema.TryGetProperty(alternatives, out var options))
            {
                var best = options.EnumerateArray().Select(o => { var found = new List<string>(); Conform(value, o, schemas, path, found); return found; })
                    .MinBy(f => f.Count)!;
                problems.AddRange(best);
                return;
            }
        }

        var kind = value.ValueKind switch
        {
            JsonValueKind.Null => "null",
            JsonValueKind.String => "string",
            JsonValueKind.Number => value.TryGetInt64(out _) ? "integer" : "number",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            JsonValueKind.Array => "array",
            _ => "object",
        };
        if (schema.TryGetProperty("type", out var type))
        {
            var types = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToList() : [type.GetString()!];
            if (!types.Contains(kind) && !(kind == "integer" && types.Contains("number")))
            {
                problems.Add($"{path}: a {kind} where the document says {string.Join("|", types)}");
                return;
            }
        }

        if (kind == "array" && schema.TryGetProperty("items", out var items))
        {
            var index = 0;
            foreach (var item in value.EnumerateArray().Take(25))
            {
                Conform(item, items, schemas, $"{path}[{index++}]", problems);
            }
        }

        if (kind != "object" || value.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var declared = schema.TryGetProperty("properties", out var properties) ? properties : default;
        var open = schema.TryGetProperty("additionalProperties", out var additional) ? additional : default;
        foreach (var property in value.EnumerateObject())
        {
            if (declared.ValueKind == JsonValueKind.Object && declared.TryGetProperty(property.Name, out var propertySchema))
            {
                Conform(property.Value, propertySchema, schemas, $"{path}.{property.Name}", problems);
            }
            else if (open.ValueKind == JsonValueKind.Object)
            {
                Conform(property.Value, open, schemas, $"{path}.{property.Name}", problems);
            }
            else if (open.ValueKind != JsonValueKind.True && !(declared.ValueKind != JsonValueKind.Object && schema.TryGetProperty("type", out _) is false))
            {
                problems.Add($"{path}.{property.Name}: returned but not documented");
            }
        }

        if (schema.TryGetProperty("required", out var required))
        {
            foreach (var name in required.EnumerateArray().Select(r => r.GetString()!).Where(r => !value.TryGetProperty(r, out _)))
            {
                problems.Add($"{path}.{name}: documented as required but not returned");
            }
        }
    }

    [Theory]
    [InlineData("GET", "/api/no-such-thing", 404, "not-found")]
    [InlineData("DELETE", "/api/campaigns", 405, "method-not-allowed")]
    public async Task errors_the_framework_writes_are_problems_with_a_code_too(string method, string path, int status, string code)
    {
        var response = await fixture.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task the_trail_filters_by_kind_and_actor_and_exports_as_csv_with_each_entrys_hash()
    {
        var trail = $"/api/campaigns/{DemoCampaign.CampaignId}/progress/{DemoCampaign.Central}/audit";
        var all = (await fixture.Http.GetFromJsonAsync<JsonElement[]>(trail))!;
        var approved = (await fixture.Http.GetFromJsonAsync<JsonElement[]>(trail + "?action=approved"))!;
        var byTheBloc = (await fixture.Http.GetFromJsonAsync<JsonElement[]>($"{trail}?actor={DemoCampaign.CentralBloc}&from=2020-01-01&to=2020-12-31"))!;
        var csv = await fixture.Http.GetAsync(trail + "?format=csv");
        var lines = (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var badKind = await fixture.Http.GetAsync(trail + "?action=deleted");

        Assert.NotEmpty(approved);
        Assert.True(approved.Length < all.Length);
        Assert.All(approved, e => Assert.Equal("approved", e.GetProperty("action").GetString()));
        Assert.NotEmpty(byTheBloc);
        Assert.All(byTheBloc, e => Assert.Equal(DemoCampaign.CentralBloc, e.GetProperty("byOrganization").GetString()));
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("occurred_on,action,organization_id,", lines[0], StringComparison.Ordinal);
        Assert.Equal(all.Length, lines.Length - 1);
        Assert.EndsWith("," + all[0].GetProperty("hash").GetString(), lines[1], StringComparison.Ordinal);
        Assert.Equal(64, all[0].GetProperty("hash").GetString()!.Length);
        Assert.Equal(HttpStatusCode.BadRequest, badKind.StatusCode);
    }

    [Fact]
    public void a_trail_cell_a_spreadsheet_would_run_is_neutralised_and_quoting_survives()
    {
        var entry = new TrailEntryView(7, Guid.Empty, "congress-x-y", 3, "x", "y", "returned", 1, "z", "=cmd|' /C calc'!A0", "committee", null,
            "=HYPERLINK(\"http://evil.example\", \"bấm\"), thêm", new DateOnly(2020, 3, 1), DateTimeOffset.UnixEpoch, false, "ab");

        var row = TrailCsv.Write([entry]).Split("\r\n")[1];

        Assert.Contains(",'=cmd|' /C calc'!A0,", row, StringComparison.Ordinal);
        Assert.Contains(",\"'=HYPERLINK(\"\"http://evil.example\"\", \"\"bấm\"\"), thêm\",", row, StringComparison.Ordinal);
    }

    /// <summary>"/api/x/{id:guid}/" as OpenAPI writes it: "/api/x/{id}".</summary>
    private static string Normalise(string pattern)
    {
        var path = System.Text.RegularExpressions.Regex.Replace(pattern, @"\{([^}:]+)(:[^}]+)?\}", "{$1}");
        return path.Length > 1 ? path.TrimEnd('/') : path;
    }

    [Fact]
    public async Task hostile_bodies_and_headers_on_every_command_endpoint_get_a_4xx_problem_and_write_nothing()
    {
        var congress = $"/api/campaigns/{DemoCampaign.CampaignId}/congresses/{DemoCampaign.Ministry}";
        var commands = new (HttpMethod Method, string Path, string Role, string Organization)[]
        {
            (HttpMethod.Post, congress + "/plan", "committee", DemoCampaign.Ministry),
            (HttpMethod.Post, congress + "/plan/amendments", "committee", DemoCampaign.Ministry),
            (HttpMethod.Post, congress + "/approval", "committee", DemoCampaign.CentralBloc),
            (HttpMethod.Post, congress + "/return", "committee", DemoCampaign.CentralBloc),
            (HttpMethod.Post, congress + "/exemption", "committee", DemoCampaign.CentralBloc),
            (HttpMethod.Post, congress + "/recognition", "committee", DemoCampaign.CentralBloc),
            (HttpMethod.Post, "/api/organizations", "admin", DemoCampaign.Central),
            (HttpMethod.Put, $"/api/organizations/{DemoCampaign.Ministry}/name", "admin", DemoCampaign.Central),
            (HttpMethod.Post, $"/api/organizations/{DemoCampaign.Ministry}/move", "admin", DemoCampaign.Central),
            (HttpMethod.Post, $"/api/organizations/{DemoCampaign.Ministry}/dissolve", "admin", DemoCampaign.Central),
            (HttpMethod.Put, $"/api/organizations/{DemoCampaign.Ministry}/contacts", "admin", DemoCampaign.Central),
            (HttpMethod.Post, "/api/campaigns", "admin", DemoCampaign.Central),
            (HttpMethod.Put, $"/api/campaigns/{DemoCampaign.CampaignId}/deadline-policy", "admin", DemoCampaign.Central),
            (HttpMethod.Post, "/api/subscriptions", "admin", DemoCampaign.Central),
        };
        var steps = new[] { "subcommittees", "drafts", "comments", "personnel-plan", "schedule", "postponement", "reschedule", "convening", "elections",
            "resolution", "action-programme", "dissemination" };
        var all = commands.Concat(steps.Select(s => (HttpMethod.Post, $"{congress}/{s}", "secretariat", DemoCampaign.Ministry))).ToList();
        var hostile = new[]
        {
            "", "null", "[]", "\"x\"", "{", "{\"kind\": 123}", "{\"kind\": -1}", "{\"level\": 7, \"sector\": 99}",
            "{\"id\": \"../../etc/passwd\", \"name\": \"x\", \"level\": \"branch\", \"parentId\": \"trung-uong\"}",
            "{\"id\": \"ＡＢＣ\", \"name\": \"x\", \"level\": \"branch\"}",
            "{\"id\": \"a b\", \"name\": \"<b>x</b>\", \"level\": \"bloc\", \"parentId\": \"trung-uong\"}",
            "{\"name\": \"=HYPERLINK(\\\"http://evil\\\")\"}", "{\"name\": \"x\\u0000y\"}", "{\"reason\": \"\\u0000\"}", "{\"head\": \"a\\u0001\", \"kind\": \"documents\", \"members\": 3}",
            "{\"name\": \"" + new string('x', 100_000) + "\"}", "{\"comments\": \"" + new string('y', 20_000) + "\"}",
            "{\"window\": {}, \"document\": \"10-KH/ĐU\", \"plannedDate\": \"2020-05-28\"}",
            "{\"window\": {\"start\": \"0001-01-01\", \"end\": \"9999-12-31\"}, \"document\": \"10-KH/ĐU\", \"plannedDate\": \"2020-05-28\"}",
            "{\"dates\": {\"start\": \"9999-12-31\", \"end\": \"9999-12-31\"}, \"reason\": \"x\"}",
            "{\"convenedOn\": \"0001-01-01\", \"delegatesPresent\": 1, \"delegatesExpected\": 1}",
            "{\"units\": 2147483648}", "{\"id\": \"x\", \"name\": \"y\", \"directive\": \"35-CT/TW\", \"termStart\": 2020, \"termEnd\": 2025, \"branchTermEnd\": 2022, \"extra\": {\"deep\": [1, 2, {\"x\": null}]}}",
            "{\"contacts\": [null]}", "{\"contacts\": [{\"role\": \"secretariat\", \"email\": \"a@b.example\", \"name\": \"=cmd\"}]}",
            "{\"channel\": \"webhook\", \"rootOrganizationId\": \"../x\", \"url\": \"http://127.0.0.1/\"}",
            "{\"quietDates\": [\"0001-01-01\"], \"reason\": \"x\"}", "{\"decision\": \"\\u0000\"}",
            // Accepted as they stand by the endpoints they fit: a name or reason that reads otherwise than stored, a field given twice.
            $"{{\"id\": \"chi-bo-rlo\", \"name\": \"Chi bộ \\u202Eoạh ếK\", \"level\": \"branch\", \"parentId\": \"{DemoCampaign.Ministry}\"}}",
            $"{{\"id\": \"chi-bo-zwsp\", \"name\": \"Chi bộ\\u200BVăn phòng\", \"level\": \"branch\", \"parentId\": \"{DemoCampaign.Ministry}\"}}",
            "{\"reason\": \"Gia hạn \\u202Ekhông\\u202C\"}",
            $"{{\"id\": \"chi-bo-mot\", \"name\": \"Chi bộ Một\", \"level\": \"branch\", \"parentId\": \"{DemoCampaign.Ministry}\", \"id\": \"chi-bo-hai\"}}",
        };
        var head = await Store.ReadHeadPositionAsync();
        var failures = new List<string>();
        foreach (var (method, path, role, organization) in all)
        {
            foreach (var body in hostile)
            {
                using var request = new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.Authorization = TestAuth.Bearer(role, organization);
                request.Headers.TryAddWithoutValidation("If-Match", "\"999999\"");
                using var response = await fixture.Http.SendAsync(request);
                var status = (int)response.StatusCode;
                if (status is < 400 or >= 500 || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                {
                    failures.Add($"{method} {path} with {(body.Length > 60 ? body[..60] + "…" : body)}: {status}");
                }
            }

            // Hostile headers: a bad If-Match, a bad idempotency key, a token stuffed with control characters.
            foreach (var (header, value) in new[] { ("If-Match", "\"-1\""), ("Idempotency-Key", new string('k', 500)), ("Authorization", "Bearer \u0001\u0002") })
            {
                using var request = new HttpRequestMessage(method, path) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
                request.Headers.Authorization = TestAuth.Bearer(role, organization);
                request.Headers.Remove(header);
                request.Headers.TryAddWithoutValidation(header, value);
                using var response = await fixture.Http.SendAsync(request);
                if ((int)response.StatusCode is < 400 or >= 500)
                {
                    failures.Add($"{method} {path} with {header}: {(int)response.StatusCode}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(head, await Store.ReadHeadPositionAsync());
    }
}
