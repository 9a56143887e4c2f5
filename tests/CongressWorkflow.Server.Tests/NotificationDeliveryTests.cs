using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CongressWorkflow.Engine.Time;
using CongressWorkflow.Testing;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace CongressWorkflow.Server.Tests;

/// <summary>An SMTP server and a webhook receiver on loopback, shared by the tests of the notification channels.</summary>
public sealed class ChannelsFixture : IAsyncLifetime
{
    public SmtpSink Smtp { get; private set; } = null!;

    public WebhookReceiver Webhooks { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Smtp = await SmtpSink.StartAsync();
        Webhooks = await WebhookReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Webhooks.DisposeAsync();
        await Smtp.DisposeAsync();
    }
}

/// <summary>
/// The whole chain on real parts: the server's Hangfire (its PostgreSQL storage) runs the sweep, the ledger records a
/// reminder, and the delivery worker puts it in the inbox, emails the contacts through a real SMTP server and posts a
/// signed webhook to a real receiver. Each test has a database of its own and a manual clock set to June 2020.
/// </summary>
[Collection("notification channels")]
public sealed class delivering_notifications(ChannelsFixture channels) : IClassFixture<ChannelsFixture>, IAsyncLifetime
{
    private const string Campaign = "xiii";
    private const string Unit = "dang-bo-ttt";
    private readonly ManualTimeProvider _clock = new(new DateTimeOffset(2020, 1, 10, 2, 0, 0, TimeSpan.Zero));
    private readonly List<CongressServer> _nodes = [];
    private string _database = string.Empty;

    public async Task InitializeAsync()
    {
        _database = await TestCluster.CreateDatabaseAsync("notifications");
        channels.Webhooks.Failing = false;
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    private async Task<HttpClient> StartNodeAsync(string name, bool deliver = true, int maxAttempts = 6, bool systemClock = false)
    {
        var node = await CongressServer.CreateAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = _database,
            ["Urls"] = "http://127.0.0.1:0",
            ["Demo:Load"] = "false",
            ["Auth:SigningKeyFile"] = TestAuth.KeyFile,
            ["Postgres:DataDirectory"] = TestCluster.NewClusterFolder("server-files"),
            ["NodeId"] = name,
            ["Deadlines:SweepCron"] = "0 0 31 2 *",
            ["Hangfire:QueuePollInterval"] = "00:00:00.500",
            ["Hangfire:SchedulePollingInterval"] = "00:00:01",
            ["Notifications:Deliver"] = deliver ? "true" : "false",
            ["Notifications:PollInterval"] = "00:00:00.100",
            ["Notifications:MaxAttempts"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Notifications:Smtp:Host"] = "127.0.0.1",
            ["Notifications:Smtp:Port"] = channels.Smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Notifications:Smtp:From"] = "congressworkflow@ban-to-chuc.example",
        }, services =>
        {
            if (!systemClock)
            {
                services.AddSingleton<TimeProvider>(_clock);
            }
        });
        await node.App.StartAsync();
        _nodes.Add(node);
        return TestAuth.Client(node.BaseAddress, "admin", "trung-uong");
    }

    private static HttpRequestMessage Request(HttpMethod method, string url, object? body, string organization = "trung-uong")
    {
        var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        return request.ActingFor(organization);
    }

    private static async Task<JsonElement> SendAsync(HttpClient http, HttpRequestMessage request)
    {
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{request.Method} {request.RequestUri}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonSerializer.Deserialize<JsonElement>(text);
    }

    /// <summary>A tree, a campaign, contacts, email and webhook subscriptions, and a plan due on 30/06/2020.</summary>
    private async Task<string> SetUpAsync(HttpClient http)
    {
        var import = Request(HttpMethod.Post, "/api/organizations/import", null);
        import.Content = new StringContent("""
            id,name,level,sector,parent_id
            trung-uong,Trung ương,central,,
            dang-bo-khoi,Đảng bộ Khối các cơ quan Trung ương,bloc,,trung-uong
            dang-bo-bo,Đảng bộ Bộ Công Thương,ministry,state-management,dang-bo-khoi
            dang-bo-ttt,Đảng bộ Trung tâm Thông tin Công nghiệp và Thương mại,grassroots,public-service-unit,dang-bo-bo
            """, Encoding.UTF8, "text/csv");
        await SendAsync(http, import);
        await SendAsync(http, Request(HttpMethod.Post, "/api/campaigns", new
        {
            id = Campaign, name = "Đại hội XIII", directive = "35-CT/TW", termStart = 2020, termEnd = 2025, branchTermEnd = 2022,
        }));
        await SendAsync(http, Request(HttpMethod.Put, $"/api/organizations/{Unit}/contacts", new
        {
            contacts = new object[]
            {
                new { role = "secretariat", email = "vanphong@ttt.example", name = "Văn phòng Đảng ủy", language = "vi" },
                new { role = "secretariat", email = "office@ttt.example", name = "Office", language = "en" },
                new { role = "committee", email = "thuongvu@ttt.example", language = "vi" },
            },
        }, Unit));
        await SendAsync(http, Request(HttpMethod.Post, "/api/subscriptions", new { channel = "email", rootOrganizationId = "dang-bo-khoi" }));
        var webhook = await SendAsync(http, Request(HttpMethod.Post, "/api/subscriptions",
            new { channel = "webhook", rootOrganizationId = "dang-bo-khoi", url = channels.Webhooks.Url.ToString() }));
        channels.Webhooks.Secret = webhook.GetProperty("secret").GetString()!;
        await SendAsync(http, Request(HttpMethod.Post, $"/api/campaigns/{Campaign}/congresses/{Unit}/plan", new
        {
            document = "10-KH/ĐU", plannedDate = "2020-05-28", window = new { start = "2020-04-01", end = "2020-06-30" },
        }, Unit));
        return webhook.GetProperty("id").GetString()!;
    }

    private void MoveClockTo(int month, int day) => _clock.SetUtcNow(new DateTimeOffset(2020, month, day, 2, 0, 0, TimeSpan.Zero));

    private static async Task<JsonElement> WaitForAsync(Func<Task<JsonElement?>> probe, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }

    /// <summary>The unit's sent ledger step with this key, once all its deliveries are in the wanted state.</summary>
    private static async Task<JsonElement> StepAsync(HttpClient http, string stepKey, params string[] deliveryStatuses)
    {
        var seen = "nothing yet";
        try
        {
            return await WaitForAsync(async () =>
            {
                var ledger = await http.GetFromJsonAsync<JsonElement[]>($"/api/campaigns/{Campaign}/notifications/{Unit}?subtree=false");
                seen = "ledger: " + string.Join(", ", ledger!.Select(n => $"{n.GetProperty("stepKey").GetString()} {n.GetProperty("status").GetString()}"));
                var step = ledger!.FirstOrDefault(n => n.GetProperty("stepKey").GetString() == stepKey && n.GetProperty("status").GetString() == "sent");
                if (step.ValueKind == JsonValueKind.Undefined)
                {
                    return null;
                }

                var detail = await http.GetFromJsonAsync<JsonElement>($"/api/notifications/{step.GetProperty("notificationId").GetString()}");
                var deliveries = detail.GetProperty("deliveries").EnumerateArray().ToList();
                seen += "; deliveries: " + string.Join(", ", deliveries.Select(d =>
                    $"{d.GetProperty("channel").GetString()} {d.GetProperty("status").GetString()} {d.GetProperty("lastError").GetString()}"));
                return deliveries.Count == 4 && deliveries.All(d => deliveryStatuses.Contains(d.GetProperty("status").GetString())) ? detail : null;
            }, $"{stepKey} with deliveries {string.Join("/", deliveryStatuses)}");
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}; last seen: {seen}");
        }
    }

    /// <summary>Waits until the webhook delivery of the reminder has been attempted this many times.</summary>
    private static Task<JsonElement> WebhookAttemptsAsync(HttpClient http, int attempts) => WaitForAsync(async () =>
    {
        var deliveries = await http.GetFromJsonAsync<JsonElement[]>("/api/deliveries");
        return deliveries!.FirstOrDefault(d => d.GetProperty("channel").GetString() == "webhook" && d.GetProperty("attempts").GetInt32() == attempts) is
            { ValueKind: JsonValueKind.Object } found ? found : null;
    }, $"webhook attempt {attempts}");

    [Fact]
    public async Task hangfire_runs_the_sweep_and_a_reminder_reaches_the_inbox_the_contacts_by_email_and_a_signed_webhook()
    {
        var http = await StartNodeAsync("node-a");
        await SetUpAsync(http);
        MoveClockTo(6, 23);
        var mailsBefore = channels.Smtp.Messages().Count;
        var hooksBefore = channels.Webhooks.Received.Count;

        var triggered = await http.PostAsync("/api/deadlines/sweep/trigger", null);
        Assert.True(triggered.StatusCode == HttpStatusCode.Accepted, $"trigger: {(int)triggered.StatusCode} {await triggered.Content.ReadAsStringAsync()}");
        JsonElement reminder;
        try
        {
            reminder = await StepAsync(http, "reminder-7", "delivered");
        }
        catch (Xunit.Sdk.XunitException e)
        {
            var monitoring = _nodes[0].App.Services.GetRequiredService<CongressWorkflow.Server.Hosting.DeadlineJobs>().Storage.GetMonitoringApi();
            var stats = monitoring.GetStatistics();
            throw new Xunit.Sdk.XunitException($"{e.Message}; Hangfire: {stats.Enqueued} enqueued, {stats.Processing} processing, {stats.Succeeded} succeeded, " +
                $"{stats.Failed} failed ({string.Join("; ", monitoring.FailedJobs(0, 5).Select(f => f.Value.ExceptionMessage))}), {stats.Servers} servers");
        }

        // An operator (an admin of the top level, token once in the address, then a cookie) sees the job.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/hangfire/recurring?access_token={TestAuth.Token("admin", "trung-uong")}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await new HttpClient { BaseAddress = http.BaseAddress }.GetAsync("/hangfire/recurring")).StatusCode);
        var inbox = await http.GetFromJsonAsync<JsonElement>($"/api/organizations/{Unit}/inbox");
        var item = Assert.Single(inbox.GetProperty("items").EnumerateArray());
        Assert.Equal("[Nhắc hạn] Đảng bộ Trung tâm Thông tin Công nghiệp và Thương mại: Tổ chức đại hội — còn 7 ngày (hạn 30/06/2020)",
            item.GetProperty("title").GetString());

        var mails = channels.Smtp.Messages().Skip(mailsBefore).ToList();
        Assert.Equal(2, mails.Count);
        var vietnamese = mails.Single(m => m.To.Mailboxes.Any(a => a.Address == "vanphong@ttt.example"));
        var english = mails.Single(m => m.To.Mailboxes.Any(a => a.Address == "office@ttt.example"));
        Assert.Equal(item.GetProperty("title").GetString(), vietnamese.Subject);
        Assert.Contains("hạn \"Tổ chức đại hội\" là ngày 30/06/2020 theo kế hoạch 10-KH/ĐU; còn 7 ngày.", vietnamese.TextBody, StringComparison.Ordinal);
        Assert.Equal("utf-8", Assert.IsType<TextPart>(vietnamese.Body).ContentType.Charset, ignoreCase: true);
        Assert.Equal("[Reminder] Đảng bộ Trung tâm Thông tin Công nghiệp và Thương mại: Hold the congress — 7 day(s) left (due 30/06/2020)", english.Subject);
        Assert.DoesNotContain(mails, m => m.To.Mailboxes.Any(a => a.Address == "thuongvu@ttt.example"));

        var hook = Assert.Single(channels.Webhooks.Received.Skip(hooksBefore));
        Assert.True(hook.SignatureValid, $"signature {hook.Signature} does not verify");
        Assert.Equal("notification.reminder", hook.Event);
        var payload = JsonSerializer.Deserialize<JsonElement>(hook.Body);
        Assert.Equal(hook.DeliveryId, payload.GetProperty("deliveryId").GetString());
        Assert.Equal(reminder.GetProperty("notificationId").GetString(), payload.GetProperty("notificationId").GetString());
        Assert.Empty(SchemaFiles.Validate(SchemaFiles.Load(Path.Combine("webhooks", "notification.v1.schema.json")), hook.Body));
        Assert.False(WebhookReceiver.Verify(channels.Webhooks.Secret, hook.Signature, hook.Body + " "));
    }

    [Fact]
    public async Task a_failing_receiver_sees_retries_then_a_dead_letter_and_gets_the_redelivery()
    {
        var http = await StartNodeAsync("node-a", maxAttempts: 3);
        await SetUpAsync(http);
        MoveClockTo(6, 23);
        channels.Webhooks.Failing = true;
        var hooksBefore = channels.Webhooks.Received.Count;

        await SendAsync(http, Request(HttpMethod.Post, "/api/deadlines/sweep", null));
        for (var attempt = 1; attempt < 3; attempt++)
        {
            await WebhookAttemptsAsync(http, attempt);
            _clock.Advance(TimeSpan.FromHours(7)); // past the longest back-off
        }

        var dead = await StepAsync(http, "reminder-7", "delivered", "dead-lettered");
        var webhook = dead.GetProperty("deliveries").EnumerateArray().Single(d => d.GetProperty("channel").GetString() == "webhook");
        var attempts = channels.Webhooks.Received.Skip(hooksBefore).ToList();
        var deadLetters = await http.GetFromJsonAsync<JsonElement[]>("/api/deliveries?status=dead-lettered");
        channels.Webhooks.Failing = false;
        var redeliver = await http.PostAsync($"/api/deliveries/{webhook.GetProperty("deliveryId").GetString()}/redeliver", null);
        var delivered = await StepAsync(http, "reminder-7", "delivered");

        Assert.Equal(("dead-lettered", 3), (webhook.GetProperty("status").GetString(), webhook.GetProperty("attempts").GetInt32()));
        Assert.Equal(9, attempts.Count); // three attempts, each with two quick retries (Polly)
        Assert.All(attempts, a => Assert.Equal((500, true), (a.AnsweredWith, a.SignatureValid)));
        Assert.Single(attempts.Select(a => a.DeliveryId).Distinct());
        Assert.Contains(deadLetters!, d => d.GetProperty("deliveryId").GetString() == webhook.GetProperty("deliveryId").GetString());
        Assert.Equal(HttpStatusCode.Accepted, redeliver.StatusCode);
        Assert.Equal(204, channels.Webhooks.Received.Last().AnsweredWith);
        Assert.Equal(webhook.GetProperty("deliveryId").GetString(), channels.Webhooks.Received.Last().DeliveryId);
        Assert.Equal("delivered", delivered.GetProperty("deliveries").EnumerateArray()
            .Single(d => d.GetProperty("channel").GetString() == "webhook").GetProperty("status").GetString());
    }

    [Fact]
    public async Task a_receiver_that_redirects_is_not_followed_and_its_delivery_fails()
    {
        await using var elsewhere = await WebhookReceiver.StartAsync();
        var http = await StartNodeAsync("node-a", maxAttempts: 1);
        await SetUpAsync(http);
        MoveClockTo(6, 23);
        channels.Webhooks.RedirectTo = elsewhere.Url;
        try
        {
            await SendAsync(http, Request(HttpMethod.Post, "/api/deadlines/sweep", null));
            var dead = await StepAsync(http, "reminder-7", "delivered", "dead-lettered");

            var webhook = dead.GetProperty("deliveries").EnumerateArray().Single(d => d.GetProperty("channel").GetString() == "webhook");
            Assert.Equal("dead-lettered", webhook.GetProperty("status").GetString());
            Assert.Contains("307", webhook.GetProperty("lastError").GetString(), StringComparison.Ordinal);
            Assert.Empty(elsewhere.Received);
        }
        finally
        {
            channels.Webhooks.RedirectTo = null;
        }
    }

    [Fact]
    public async Task two_nodes_sweeping_and_delivering_at_once_send_each_notification_once()
    {
        var a = await StartNodeAsync("node-a");
        var b = await StartNodeAsync("node-b");
        await SetUpAsync(a);
        MoveClockTo(6, 23);
        var mailsBefore = channels.Smtp.Messages().Count;
        var hooksBefore = channels.Webhooks.Received.Count;

        await Task.WhenAll(
            a.PostAsync("/api/deadlines/sweep", null), b.PostAsync("/api/deadlines/sweep", null),
            a.PostAsync("/api/deadlines/sweep/trigger", null), b.PostAsync("/api/deadlines/sweep/trigger", null),
            a.PostAsync("/api/deadlines/sweep", null), b.PostAsync("/api/deadlines/sweep", null));
        await StepAsync(a, "reminder-7", "delivered");
        await Task.Delay(TimeSpan.FromSeconds(3)); // time enough for a second delivery, were there one

        var ledger = await a.GetFromJsonAsync<JsonElement[]>($"/api/campaigns/{Campaign}/notifications/{Unit}?subtree=false");
        Assert.Single(ledger!, n => n.GetProperty("status").GetString() == "sent");
        Assert.Single(channels.Webhooks.Received.Skip(hooksBefore));
        Assert.Equal(2, channels.Smtp.Messages().Count - mailsBefore);
        Assert.Single((await b.GetFromJsonAsync<JsonElement>($"/api/organizations/{Unit}/inbox")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task a_server_killed_after_recording_a_notification_has_it_delivered_once_after_the_restart()
    {
        await SetUpAsync(await StartNodeAsync("setup"));
        await _nodes[0].DisposeAsync();
        _nodes.Clear();
        var hooksBefore = channels.Webhooks.Received.Count;

        // A server process on the real clock (2026: the 30/06/2020 deadline is long past, so the sweep sends its last
        // step, a further escalation to the bloc) records the step and is killed before anything is delivered.
        var port = Loopback.FreePort();
        using (var recorder = StartServerProcess(port))
        {
            using var http = TestAuth.Client(new Uri($"http://127.0.0.1:{port}"), "admin", "trung-uong");
            await WaitForAsync(async () =>
            {
                try
                {
                    return (await http.GetAsync("/health")).IsSuccessStatusCode ? default(JsonElement) : null;
                }
                catch (HttpRequestException)
                {
                    return null;
                }
            }, "the server process to answer");
            var sweep = await SendAsync(http, Request(HttpMethod.Post, "/api/deadlines/sweep", null));
            Assert.Equal(1, sweep.GetProperty("sent").GetInt32());
            recorder.Kill(entireProcessTree: true);
            await recorder.WaitForExitAsync();
        }

        var restarted = await StartNodeAsync("restarted", systemClock: true);
        await WaitForAsync(async () => (await restarted.GetFromJsonAsync<JsonElement[]>("/api/deliveries"))!
            .All(d => d.GetProperty("status").GetString() == "delivered") ? default(JsonElement) : null, "the deliveries after the restart");
        await _nodes[0].DisposeAsync();
        _nodes.Clear();
        var again = await StartNodeAsync("again", systemClock: true);
        await Task.Delay(TimeSpan.FromSeconds(2)); // time enough for a second delivery, were there one

        var hook = Assert.Single(channels.Webhooks.Received.Skip(hooksBefore));
        Assert.Equal("notification.further-escalation", hook.Event);
        Assert.Single((await again.GetFromJsonAsync<JsonElement>("/api/organizations/dang-bo-khoi/inbox")).GetProperty("items").EnumerateArray());
    }

    private System.Diagnostics.Process StartServerProcess(int port) => DotnetProgram.Start(DotnetProgram.StartInfo("CongressWorkflow.Server.dll",
    [
        $"--ConnectionStrings:Postgres={_database}", $"--Urls=http://127.0.0.1:{port}", "--Demo:Load=false", "--Notifications:Deliver=false",
        "--Deadlines:SweepCron=0 0 31 2 *", "--NodeId=recorder", $"--Auth:SigningKeyFile={TestAuth.KeyFile}",
        $"--Postgres:DataDirectory={TestCluster.NewClusterFolder("server-files")}",
    ], removed: []));
}
