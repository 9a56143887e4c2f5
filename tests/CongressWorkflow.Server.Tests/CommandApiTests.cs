using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CongressWorkflow.Testing;

namespace CongressWorkflow.Server.Tests;

public sealed class the_command_api(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string Tree = """
        id,name,level,sector,parent_id
        tu,Trung ương,central,,
        khoi-tinh,Đảng bộ Khối các cơ quan tỉnh,bloc,,tu
        so-ct,Đảng bộ Sở Công Thương,grassroots,state-management,khoi-tinh
        chi-bo-vp,Chi bộ Văn phòng,branch,state-management,so-ct
        """;

    private static HttpRequestMessage Post(string url, object? body, string organization, string? ifMatch = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = body is null ? null : JsonContent.Create(body) };
        request.ActingFor(organization);
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return request;
    }

    private async Task EnsureTreeAndCampaignAsync(string campaign)
    {
        var import = Post("/api/organizations/import", null, "tu");
        import.Content = new StringContent(Tree, Encoding.UTF8, "text/csv");
        (await fixture.Http.SendAsync(import)).EnsureSuccessStatusCode();
        var start = await fixture.Http.SendAsync(Post("/api/campaigns", new
        {
            id = campaign, name = "Đại hội XIII", directive = "35-CT/TW", termStart = 2020, termEnd = 2025, branchTermEnd = 2022,
        }, "tu"));
        Assert.Equal(HttpStatusCode.Created, start.StatusCode);
    }

    [Fact]
    public async Task a_branch_goes_from_plan_to_convening_over_http_with_versions_in_etags()
    {
        var campaign = "c" + Guid.NewGuid().ToString("N")[..8];
        await EnsureTreeAndCampaignAsync(campaign);
        var congress = $"/api/campaigns/{campaign}/congresses/chi-bo-vp";

        // Recorded today, so dated around today: a convening may not be dated before the approval it follows.
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        string Day(int offset) => today.AddDays(offset).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var plan = await fixture.Http.SendAsync(Post(congress + "/plan", new
        {
            document = "11-KH/ĐU", citesDocument = "10-KH/ĐU", plannedDate = Day(10),
            window = new { start = Day(-30), end = Day(60) },
            deadlines = new[] { new { milestone = "congress-held", due = Day(60) } },
        }, "chi-bo-vp"));
        Assert.Equal(HttpStatusCode.OK, plan.StatusCode);
        Assert.Equal("\"1\"", plan.Headers.ETag?.Tag);
        foreach (var (step, body) in new (string, object?)[]
        {
            ("drafts", new { kind = "political-report" }),
            ("drafts", new { kind = "review-report" }),
            ("personnel-plan", new { seats = 5, candidates = 6, women = 2, youth = 1 }),
            ("submission", null),
        })
        {
            (await fixture.Http.SendAsync(Post($"{congress}/{step}", body, "chi-bo-vp"))).EnsureSuccessStatusCode();
        }

        var stale = await fixture.Http.SendAsync(Post(congress + "/approval", new { decision = "15-QĐ/ĐU" }, "so-ct", ifMatch: "\"3\""));
        var approved = await fixture.Http.SendAsync(Post(congress + "/approval", new { decision = "15-QĐ/ĐU" }, "so-ct", ifMatch: "\"5\""));
        var convened = await fixture.Http.SendAsync(Post(congress + "/convening",
            new { convenedOn = Day(0), delegatesPresent = 11, delegatesExpected = 12 }, "chi-bo-vp"));
        var state = await fixture.Http.GetFromJsonAsync<JsonElement>(congress);

        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Equal("concurrency-conflict", (await stale.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        Assert.Equal(["congress.submission-approved"], (await approved.Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(HttpStatusCode.OK, convened.StatusCode);
        Assert.Equal("convened", state.GetProperty("state").GetProperty("stage").GetString());
        Assert.Equal(-10, state.GetProperty("state").GetProperty("convened").GetProperty("daysLate").GetInt32());
        Assert.Equal(7, state.GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task bad_input_gets_a_problem_with_a_stable_code_and_changes_nothing()
    {
        var campaign = "c" + Guid.NewGuid().ToString("N")[..8];
        await EnsureTreeAndCampaignAsync(campaign);
        var congress = $"/api/campaigns/{campaign}/congresses/so-ct";
        var goodPlan = new
        {
            document = "10-KH/ĐU", plannedDate = "2020-05-28", window = new { start = "2020-05-01", end = "2020-06-30" },
        };

        // fixture.Http signs every request as an admin, who issues no plans.
        var asAdmin = new HttpRequestMessage(HttpMethod.Post, congress + "/plan") { Content = JsonContent.Create(goodPlan) };
        var malformed = Post(congress + "/plan", null, "so-ct");
        malformed.Content = new StringContent("{ \"document\": ", Encoding.UTF8, "application/json");
        var cases = new (HttpRequestMessage Request, HttpStatusCode Status, string Code)[]
        {
            (asAdmin, HttpStatusCode.Forbidden, "forbidden"),
            (malformed, HttpStatusCode.BadRequest, "malformed-request"),
            (Post(congress + "/plan", goodPlan with { document = "10/KH/ĐU" }, "so-ct"), HttpStatusCode.BadRequest, "invalid-document-reference"),
            (Post(congress + "/plan", new { document = "10-KH/ĐU", plannedDate = "2020-05-28", window = new { start = "2020-06-30", end = "2020-05-01" } }, "so-ct"),
                HttpStatusCode.BadRequest, "invalid-window"),
            (Post(congress + "/plan", goodPlan with { document = "35-CT/TW" }, "so-ct"), HttpStatusCode.UnprocessableEntity, "congress-wrong-document-type"),
            (Post(congress + "/drafts", new { kind = "novel" }, "so-ct"), HttpStatusCode.BadRequest, "malformed-request"),
            (Post(congress + "/drafts", new { kind = "political-report" }, "so-ct"), HttpStatusCode.UnprocessableEntity, "congress-not-planned"),
            (Post(congress + "/plan", goodPlan, "so-ct", ifMatch: "\"abc\""), HttpStatusCode.BadRequest, "invalid-if-match"),
            (Post($"/api/campaigns/no-such-campaign/congresses/so-ct/plan", goodPlan, "so-ct"), HttpStatusCode.UnprocessableEntity, "campaign-not-started"),
        };

        foreach (var (request, status, code) in cases)
        {
            var response = await fixture.Http.SendAsync(request);
            Assert.True(status == response.StatusCode, $"{code}: got {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(code, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }

        var state = await fixture.Http.GetAsync(congress);
        Assert.Equal(HttpStatusCode.NotFound, state.StatusCode);
    }

    [Fact]
    public async Task an_import_with_bad_rows_is_a_problem_listing_each_row()
    {
        var import = Post("/api/organizations/import", null, "tu");
        import.Content = new StringContent("""
            id,name,level,sector,parent_id
            x-1,Chi bộ 1,branch,,khong-co
            X 2,Chi bộ 2,branch,,
            """, Encoding.UTF8, "text/csv");
        var wrongType = Post("/api/organizations/import", null, "tu");
        wrongType.Content = new StringContent("<xml/>", Encoding.UTF8, "application/xml");

        var response = await fixture.Http.SendAsync(import);
        var unsupported = await fixture.Http.SendAsync(wrongType);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("import-rejected", problem.GetProperty("code").GetString());
        Assert.Equal([2, 3], problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("line").GetInt32()).Distinct());
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, unsupported.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.GetAsync("/api/organizations/x-1")).StatusCode);
    }

    [Fact]
    public async Task an_import_file_that_is_not_utf8_is_refused_whole_and_one_with_a_byte_order_mark_is_read()
    {
        // "Chi bộ Kế toán" as a Windows-1258 file has it: ộ is 0xF4 0xF2 (ô, then a combining dot below), ế 0xEA 0xEC, á 0xE1.
        var legacy = Encoding.Latin1.GetBytes("id,name,level,sector,parent_id\nchi-bo-ke-toan,Chi b\u00f4\u00f2 K\u00ea\u00ec to\u00e1n,branch,,so-ct\n");
        var withMark = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("id,name,level,sector,parent_id\nchi-bo-bom,Chi bộ Kế toán,branch,,so-ct\n")).ToArray();
        await EnsureTreeAndCampaignAsync("c" + Guid.NewGuid().ToString("N")[..8]);
        var head = await fixture.Store.ReadHeadPositionAsync();
        HttpRequestMessage Import(byte[] file)
        {
            var request = Post("/api/organizations/import", null, "tu");
            request.Content = new ByteArrayContent(file) { Headers = { ContentType = new("text/csv") } };
            return request;
        }

        var refused = await fixture.Http.SendAsync(Import(legacy));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("not-utf8", problem.GetProperty("code").GetString());
        Assert.Contains("0xF4", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(head, await fixture.Store.ReadHeadPositionAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.GetAsync("/api/organizations/chi-bo-ke-toan")).StatusCode);

        (await fixture.Http.SendAsync(Import(withMark))).EnsureSuccessStatusCode();
        var read = await fixture.Http.GetFromJsonAsync<JsonElement>("/api/organizations/chi-bo-bom");
        Assert.Equal("Chi bộ Kế toán", read.GetProperty("name").GetString());
    }

    [Fact]
    public async Task a_bad_deadline_policy_contact_or_subscription_is_a_problem_and_writes_nothing()
    {
        var campaign = "c" + Guid.NewGuid().ToString("N")[..8];
        await EnsureTreeAndCampaignAsync(campaign);
        var head = await fixture.Store.ReadHeadPositionAsync();
        var put = (string url, object body, string organization) =>
        {
            var request = Post(url, body, organization);
            request.Method = HttpMethod.Put;
            return request;
        };
        // Over Limits:MaxBodyBytes (1 MB). Sent with Expect: 100-continue, so the refusal comes before the body: otherwise
        // the server closes the connection while the client still writes, and the client may see a broken pipe instead.
        // The client waits for that answer a minute, not the default second: on a loaded CI machine the second passed, the
        // body went anyway, and the broken pipe came back.
        var tooLarge = put("/api/organizations/so-ct/contacts",
            new { contacts = Enumerable.Range(0, 25_000).Select(i => new { role = "secretariat", email = $"a{i}@b.example" }) }, "so-ct");
        tooLarge.Headers.ExpectContinue = true;
        using var patient = new HttpClient(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromMinutes(1) }) { BaseAddress = fixture.Http.BaseAddress };
        var cases = new (HttpRequestMessage Request, HttpStatusCode Status, string Code, string Mentions)[]
        {
            (put($"/api/campaigns/{campaign}/deadline-policy", new { reminderDaysBefore = new[] { 0 }, reason = "x" }, "tu"),
                HttpStatusCode.UnprocessableEntity, "deadline-policy-invalid", "reminders"),
            (put($"/api/campaigns/{campaign}/deadline-policy", new { escalateAfterDays = 400, reason = "x" }, "tu"),
                HttpStatusCode.UnprocessableEntity, "deadline-policy-invalid", "escalateAfterDays"),
            (put($"/api/campaigns/{campaign}/deadline-policy", new { quietWeekdays = new[] { "monday", "tuesday", "wednesday", "thursday", "friday", "saturday" }, reason = "x" }, "tu"),
                HttpStatusCode.UnprocessableEntity, "deadline-policy-invalid", "quiet weekdays"),
            (put($"/api/campaigns/{campaign}/deadline-policy", new { escalationRoles = new[] { "chairman" }, reason = "x" }, "tu"),
                HttpStatusCode.UnprocessableEntity, "deadline-policy-invalid", "escalationRoles"),
            (put($"/api/campaigns/{campaign}/deadline-policy", new { reminderDaysBefore = new[] { 14 } }, "tu"),
                HttpStatusCode.UnprocessableEntity, "deadline-policy-reason-required", "why"),
            (put($"/api/campaigns/{campaign}/deadline-policy", new { quietWeekdays = new[] { "someday" }, reason = "x" }, "tu"),
                HttpStatusCode.BadRequest, "malformed-request", "at $.quietWeekdays[0]"),
            (put($"/api/campaigns/{campaign}/deadline-policy", new { reminderDays = new[] { 14 }, reason = "x" }, "tu"),
                HttpStatusCode.BadRequest, "malformed-request", "at $.reminderDays"),
            (put("/api/campaigns/no-such-campaign/deadline-policy", new { reason = "x" }, "tu"), HttpStatusCode.UnprocessableEntity, "campaign-not-started", ""),
            (put("/api/organizations/so-ct/contacts", new { contacts = new[] { new { role = "secretariat", email = "not an address" } } }, "so-ct"),
                HttpStatusCode.UnprocessableEntity, "organization-invalid-contact", "not an email address"),
            (put("/api/organizations/so-ct/contacts", new { contacts = new[] { new { role = "chairman", email = "a@b.example" } } }, "so-ct"),
                HttpStatusCode.UnprocessableEntity, "organization-invalid-contact", "role"),
            // The documented code, as for an import over its own limit (it was "http-413").
            (tooLarge, HttpStatusCode.RequestEntityTooLarge, "body-too-large", ""),
            (Post("/api/subscriptions", new { channel = "webhook", rootOrganizationId = "so-ct", url = "ftp://receiver.example" }, "tu"),
                HttpStatusCode.UnprocessableEntity, "subscription-invalid-url", "http"),
            (Post("/api/subscriptions", new { channel = "email", rootOrganizationId = "khong-co" }, "tu"), HttpStatusCode.UnprocessableEntity, "subscription-unknown-root", ""),
            (Post("/api/subscriptions", new { rootOrganizationId = "so-ct" }, "tu"), HttpStatusCode.BadRequest, "missing-field", "channel"),
            (Post("/api/subscriptions", new { channel = 7, rootOrganizationId = "so-ct" }, "tu"), HttpStatusCode.BadRequest, "malformed-request", "at $.channel"),
            (put($"/api/campaigns/{campaign}/deadline-policy", new { reason = "a\u0000b" }, "tu"),
                HttpStatusCode.BadRequest, "invalid-text", "reason contains a control character"),
            (put("/api/organizations/so-ct/contacts", new { contacts = new[] { new { role = "secretariat", email = "a@b.example", name = "x\u0000" } } }, "so-ct"),
                HttpStatusCode.BadRequest, "invalid-text", "contacts[0].name contains a control character"),
            (new HttpRequestMessage(HttpMethod.Get, $"/api/campaigns/{campaign}/deadlines/so-ct?asOf=9999-12-31"), HttpStatusCode.BadRequest, "invalid-query", "1900"),
            // A day given as 0001-01-01 was said to be missing ("plannedDate is required").
            (Post($"/api/campaigns/{campaign}/congresses/so-ct/plan", new { document = "10-KH/ĐU", plannedDate = "0001-01-01", window = new { start = "2020-04-01", end = "2020-06-30" } }, "so-ct"),
                HttpStatusCode.BadRequest, "invalid-day", "plannedDate (0001-01-01) is outside the years 1900 to 2199"),
        };

        foreach (var (request, status, code, mentions) in cases)
        {
            var response = await (request == tooLarge ? patient : fixture.Http).SendAsync(request);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(status == response.StatusCode, $"{code}: got {(int)response.StatusCode} {problem}");
            Assert.Equal(code, problem.GetProperty("code").GetString());
            Assert.Contains(mentions, problem.GetProperty("detail").GetString() ?? string.Empty, StringComparison.Ordinal);
        }

        Assert.Equal(head, await fixture.Store.ReadHeadPositionAsync());
        var policy = await fixture.Http.GetFromJsonAsync<JsonElement>($"/api/campaigns/{campaign}/deadline-policy");
        Assert.True(policy.GetProperty("isDefault").GetBoolean());
    }
}
