using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CongressWorkflow.EventStore;
using CongressWorkflow.Engine.Time;

namespace CongressWorkflow.Server.Tests;

public sealed record NoteWritten(string Text);

public sealed class the_store_api(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task health_says_live_and_ready_without_a_token_with_each_check_named()
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        var live = await anonymous.GetAsync("/health/live");
        var ready = await anonymous.GetFromJsonAsync<JsonElement>("/health/ready");
        var legacy = await anonymous.GetFromJsonAsync<JsonElement>("/health");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("healthy", ready.GetProperty("status").GetString());
        var checks = ready.GetProperty("checks");
        Assert.Equal("reachable, migrations applied", checks.GetProperty("database").GetProperty("description").GetString());
        Assert.Equal("healthy", checks.GetProperty("projections").GetProperty("status").GetString());
        Assert.Equal("healthy", checks.GetProperty("hangfire").GetProperty("status").GetString());
        Assert.Equal("healthy", legacy.GetProperty("status").GetString());
    }

    [Fact]
    public async Task stream_history_comes_back_as_envelopes_as_of_a_date()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2020, 3, 12, 2, 0, 0, TimeSpan.Zero));
        var registry = fixture.Store.Registry;
        if (!registry.Types.Any(t => t.ClrType == typeof(NoteWritten)))
        {
            registry.Register<NoteWritten>("test.note-written");
        }

        var store = new PostgresEventStore(fixture.Store.DataSource, registry, clock);
        var stream = "note-" + Guid.NewGuid().ToString("N");
        var meta = new EventMetadata(new Actor("u1", "secretary", "org"), Guid.NewGuid());
        await store.AppendAsync(stream, "note", ExpectedVersion.NoStream, [new NewEvent(Guid.NewGuid(), new NoteWritten("10-KH/ĐU"))], meta);
        clock.Advance(TimeSpan.FromDays(30));
        await store.AppendAsync(stream, "note", ExpectedVersion.Exactly(1), [new NewEvent(Guid.NewGuid(), new NoteWritten("12-KH/ĐU"))], meta);

        var all = await fixture.Http.GetFromJsonAsync<JsonElement[]>($"/api/streams/{stream}/events");
        var asOf = await fixture.Http.GetFromJsonAsync<JsonElement[]>($"/api/streams/{stream}/events?asOf=2020-03-31");

        Assert.Equal(2, all!.Length);
        Assert.Equal("12-KH/ĐU", all[1].GetProperty("data").GetProperty("text").GetString());
        Assert.Equal(64, all[1].GetProperty("hash").GetString()!.Length);
        var only = Assert.Single(asOf!);
        Assert.Equal("10-KH/ĐU", only.GetProperty("data").GetProperty("text").GetString());
        Assert.Equal("secretary", only.GetProperty("actor").GetProperty("role").GetString());
    }

    [Theory]
    [InlineData("/api/streams/x/events?asOf=15-05-2020", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("/api/streams/x/events?upToVersion=-1", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("/api/streams/no-such-stream/events", HttpStatusCode.NotFound, "not-found")]
    [InlineData("/api/streams/%20/events", HttpStatusCode.BadRequest, "invalid-stream-id")]
    [InlineData("/api/store/verify?stream=x%00y", HttpStatusCode.BadRequest, "invalid-stream-id")]
    [InlineData("/api/audit/bundle?root=x%00y", HttpStatusCode.BadRequest, "invalid-id")]
    [InlineData("/api/audit/bundle?root=dang-bo-bo-cong-thuong&to=9999-12-31", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("/api/audit/bundle?root=dang-bo-bo-cong-thuong&from=0001-01-01", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("/api/campaigns/dai-hoi-xiii/notifications/dang-bo-bo-cong-thuong?from=2021-01-01&to=2019-01-01", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("/api/campaigns/dai-hoi-xiii/progress/dang-bo-bo-cong-thuong/audit?from=2021-01-01&to=2019-01-01", HttpStatusCode.BadRequest, "invalid-query")]
    public async Task bad_requests_get_a_problem_with_a_stable_code(string url, HttpStatusCode status, string code)
    {
        var response = await fixture.Http.GetAsync(url);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
    }

    /// <summary>An auditor's copy of a checkpoint with parts missing is bad input, not a verification that fails inside (it was a 500).</summary>
    [Theory]
    [InlineData("{}", "checkpoint is required")]
    [InlineData("""{"checkpoint": {"takenAt": "2020-01-01T00:00:00Z", "headPosition": 1, "root": "x"}, "algorithm": "ES256", "publicKey": "k", "signature": "s"}""",
        "checkpoint.streams is required")]
    [InlineData("""{"checkpoint": {"takenAt": "2020-01-01T00:00:00Z", "headPosition": 1, "streams": [null], "root": "x"}, "algorithm": "ES256", "publicKey": "k", "signature": "s"}""",
        "checkpoint.streams[0] is required")]
    [InlineData("""{"checkpoint": {"takenAt": "2020-01-01T00:00:00Z", "headPosition": 1, "streams": [], "root": "x"}, "algorithm": "ES256", "signature": "s"}""",
        "publicKey is required")]
    public async Task a_posted_checkpoint_with_a_part_missing_is_refused_as_a_missing_field(string body, string detail)
    {
        var response = await fixture.Http.PostAsync("/api/store/verify", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("missing-field", problem.GetProperty("code").GetString());
        Assert.Equal(detail, problem.GetProperty("detail").GetString());
    }

    /// <summary>
    /// An auditor's copy of a national store's checkpoint (215 MB at 300,000 organisations) is read as it streams in: a
    /// copy over the 64 MB an import may send is verified, where it was refused as too large (413).
    /// </summary>
    [Fact]
    public async Task an_auditors_copy_of_a_checkpoint_larger_than_an_import_is_verified_as_it_streams_in()
    {
        (await fixture.Http.PostAsync("/api/audit/checkpoints", null)).EnsureSuccessStatusCode();
        var latest = await fixture.Http.GetByteArrayAsync("/api/audit/checkpoints/latest");
        // Whitespace between the document's first tokens: the same checkpoint, 70 MB long.
        var padded = new byte[latest.Length + 70 * 1024 * 1024];
        padded.AsSpan().Fill((byte)' ');
        padded[0] = latest[0];
        latest.AsSpan(1).CopyTo(padded.AsSpan(padded.Length - latest.Length + 1));
        using var body = new ByteArrayContent(padded);
        body.Headers.ContentType = new("application/json");

        var response = await fixture.Http.PostAsync("/api/store/verify", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var report = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, report.GetProperty("checkpointsChecked").GetInt32());
        // (Another test of this class tampers with an event's hash: the chain may be broken, the checkpoint taken after it is extended.)
        Assert.DoesNotContain(report.GetProperty("violations").EnumerateArray(), v => v.GetProperty("streamId").GetString() == "(checkpoint)"
            || v.GetProperty("reason").GetString()!.Contains("checkpoint", StringComparison.Ordinal));
    }

    [Fact]
    public async Task a_posted_checkpoint_that_is_not_json_or_has_a_part_of_the_wrong_kind_is_refused_with_its_code()
    {
        var wrongKind = await fixture.Http.PostAsync("/api/store/verify", new StringContent(
            """{"checkpoint": {"takenAt": "2020-01-01T00:00:00Z", "headPosition": "first"}}""", System.Text.Encoding.UTF8, "application/json"));
        var notJson = await fixture.Http.PostAsync("/api/store/verify", new StringContent("""{"checkpoint": {""", System.Text.Encoding.UTF8, "application/json"));
        var asText = await fixture.Http.PostAsync("/api/store/verify", new StringContent("{}", System.Text.Encoding.UTF8, "text/plain"));

        foreach (var (response, status, code, detail) in new[]
                 {
                     (wrongKind, HttpStatusCode.BadRequest, "malformed-request", "not a signed checkpoint: checkpoint.headPosition must be a whole number"),
                     (notJson, HttpStatusCode.BadRequest, "malformed-request", "not a signed checkpoint: the document is not whole JSON"),
                     (asText, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type", "this endpoint does not take a body of type 'text/plain"),
                 })
        {
            Assert.Equal(status, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(code, problem.GetProperty("code").GetString());
            Assert.StartsWith(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task verify_reports_a_tampered_event_with_its_position()
    {
        var registry = fixture.Store.Registry;
        if (!registry.Types.Any(t => t.ClrType == typeof(NoteWritten)))
        {
            registry.Register<NoteWritten>("test.note-written");
        }

        var stream = "note-" + Guid.NewGuid().ToString("N");
        var result = await fixture.Store.AppendAsync(stream, "note", ExpectedVersion.NoStream,
            [new NewEvent(Guid.NewGuid(), new NoteWritten("original"))], new EventMetadata(new Actor("u1", "secretary"), Guid.NewGuid()));
        await using (var tamper = fixture.Store.DataSource.CreateCommand(
            "UPDATE event_store.events SET data = '{\"text\": \"forged\"}' WHERE stream_id = $1"))
        {
            tamper.Parameters.Add(new() { Value = stream });
            await tamper.ExecuteNonQueryAsync();
        }

        var report = await fixture.Http.GetFromJsonAsync<JsonElement>($"/api/store/verify?stream={stream}");

        Assert.False(report.GetProperty("isIntact").GetBoolean());
        var violation = report.GetProperty("firstViolation");
        Assert.Equal(stream, violation.GetProperty("streamId").GetString());
        Assert.Equal(1, violation.GetProperty("streamVersion").GetInt64());
        Assert.Equal(result.FirstGlobalPosition, violation.GetProperty("globalPosition").GetInt64());
    }
}
