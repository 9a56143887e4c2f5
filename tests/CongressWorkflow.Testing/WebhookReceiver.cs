using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace CongressWorkflow.Testing;

/// <summary>One POST as the receiver saw it, and whether its signature checked out against the secret.</summary>
public sealed record ReceivedWebhook(string DeliveryId, string Event, string Signature, string Body, bool SignatureValid, int AnsweredWith);

/// <summary>
/// A webhook receiver on a loopback port, as a subscriber would write one: it checks the Congress-Signature header
/// (t=…,v1=hex HMAC-SHA256 over "t.body" with the subscription's secret) and answers 500 while told to fail.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();

    private WebhookReceiver(WebApplication app) => _app = app;

    public Uri Url => new(_app.Urls.First() + "/hooks/congress");

    /// <summary>The subscription's secret, once the subscription is made.</summary>
    public string Secret { get; set; } = string.Empty;

    /// <summary>While true the receiver answers 500 Internal Server Error.</summary>
    public bool Failing { get; set; }

    /// <summary>When set, the receiver answers 307 Temporary Redirect to this address.</summary>
    public Uri? RedirectTo { get; set; }

    public IReadOnlyList<ReceivedWebhook> Received => [.. _received];

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hooks/congress", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var signature = http.Request.Headers["Congress-Signature"].ToString();
            var status = receiver.RedirectTo is not null ? StatusCodes.Status307TemporaryRedirect
                : receiver.Failing ? StatusCodes.Status500InternalServerError : StatusCodes.Status204NoContent;
            receiver._received.Enqueue(new ReceivedWebhook(http.Request.Headers["Congress-Delivery-Id"].ToString(),
                http.Request.Headers["Congress-Event"].ToString(), signature, body, Verify(receiver.Secret, signature, body), status));
            return receiver.RedirectTo is { } target ? Results.Redirect(target.ToString(), permanent: false, preserveMethod: true) : Results.StatusCode(status);
        });
        await app.StartAsync();
        return receiver;
    }

    /// <summary>What a receiver does: recompute the HMAC over "t.body" and compare in constant time.</summary>
    public static bool Verify(string secret, string header, string body)
    {
        var parts = header.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1) || !long.TryParse(t, CultureInfo.InvariantCulture, out _))
        {
            return false;
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"));
        return v1.Length == 64 && CryptographicOperations.FixedTimeEquals(expected, Convert.FromHexString(v1));
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
