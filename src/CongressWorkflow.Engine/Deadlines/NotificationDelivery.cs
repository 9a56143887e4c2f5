using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Outbox;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Npgsql;
using Polly;
using Polly.Retry;

namespace CongressWorkflow.Engine.Deadlines;

/// <summary>Where email goes: an SMTP server from configuration. No host means email is not sent (it waits in the outbox).</summary>
public sealed record SmtpSettings(string? Host, int Port = 25, bool UseTls = false, string From = "congressworkflow@localhost", string? UserName = null,
    string? Password = null);

/// <summary>
/// Delivers what the outbox holds for the notification channels that leave the database, on every node: email (MailKit)
/// and webhooks (an HTTP POST signed with HMAC-SHA256 over "timestamp.body" with the subscription's secret). The inbox
/// needs no delivery: its items are written where they are recorded (<see cref="InboxItems"/>).
/// Each attempt retries quick transient failures in place (Polly: exponential back-off with jitter); a failed attempt is
/// tried again later by the outbox (durable back-off), and after the last one it is dead-lettered until an operator
/// redelivers it. Every outcome is recorded in congress.deliveries, beside the notification it belongs to.
/// </summary>
public sealed class NotificationDelivery(
    NpgsqlDataSource dataSource, TimeProvider timeProvider, HttpClient http, SmtpSettings smtp, OutboxDispatcherOptions? options = null)
{
    public const string SignatureHeader = "Congress-Signature";
    public const string DeliveryIdHeader = "Congress-Delivery-Id";
    public const string EventHeader = "Congress-Event";

    private static readonly TimeSpan SecretLifetime = TimeSpan.FromSeconds(30);

    private readonly OutboxDispatcher _dispatcher = new(dataSource, timeProvider, options);

    /// <summary>Signing secrets by subscription, re-read after 30 s: a removed subscription stops receiving within that time.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string? Secret, long ReadAt)> _secrets = new(StringComparer.Ordinal);

    private readonly ResiliencePipeline _quickRetries = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 2,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>(e => e.InnerException is not WebhookTargetRefusedException).Handle<IOException>()
                .Handle<TransientDeliveryException>()
                .Handle<System.Net.Sockets.SocketException>().Handle<SmtpProtocolException>().Handle<TaskCanceledException>(),
        })
        .Build();

    /// <summary>Channels this node delivers: email only when an SMTP host is configured.</summary>
    public IReadOnlyList<string> Destinations => string.IsNullOrWhiteSpace(smtp.Host)
        ? [DeliveryChannels.Webhook]
        : [DeliveryChannels.Email, DeliveryChannels.Webhook];

    /// <summary>Delivers one batch of due messages; returns how many it attempted.</summary>
    public Task<int> DeliverBatchAsync(int batchSize = 50, CancellationToken cancellationToken = default) =>
        _dispatcher.DispatchBatchAsync(Destinations, DeliverAsync, RecordAsync, batchSize, cancellationToken);

    /// <summary>Puts dead-lettered deliveries back in line; returns how many were dead.</summary>
    public async Task<int> RedeliverAsync(IReadOnlyCollection<Guid> deliveryIds, CancellationToken cancellationToken = default)
    {
        var count = await _dispatcher.RedeliverAsync(deliveryIds, cancellationToken);
        await using var command = dataSource.CreateCommand(
            "UPDATE congress.deliveries SET status = 'pending', attempts = 0, updated_at = $2 WHERE delivery_id = ANY($1) AND status = 'dead-lettered'");
        command.Parameters.AddPositional(deliveryIds.ToArray(), timeProvider.GetUtcNow());
        await command.ExecuteNonQueryAsync(cancellationToken);
        return count;
    }

    /// <summary>The signature header value a receiver checks: t=unix seconds, v1=hex HMAC-SHA256(secret, "t.body").</summary>
    public static string Sign(string secret, long unixSeconds, string body)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{unixSeconds.ToString(CultureInfo.InvariantCulture)}.{body}"));
        return $"t={unixSeconds.ToString(CultureInfo.InvariantCulture)},v1={Convert.ToHexStringLower(mac)}";
    }

    private async Task DeliverAsync(PendingOutboxMessage message, CancellationToken cancellationToken)
    {
        switch (DeliveryPayload.Read(message.Destination, message.PayloadJson))
        {
            case EmailDelivery email:
                await _quickRetries.ExecuteAsync(async ct => await SendEmailAsync(email, ct), cancellationToken);
                break;
            case WebhookDelivery webhook:
                await _quickRetries.ExecuteAsync(async ct => await PostWebhookAsync(webhook, ct), cancellationToken);
                break;
        }
    }

    private async Task SendEmailAsync(EmailDelivery email, CancellationToken cancellationToken)
    {
        var message = new MimeMessage { Subject = email.Subject, MessageId = $"{email.DeliveryId}@congressworkflow" };
        message.From.Add(MailboxAddress.Parse(smtp.From));
        foreach (var to in email.To)
        {
            message.To.Add(new MailboxAddress(to.Name ?? string.Empty, to.Address));
        }

        message.Headers.Add(DeliveryIdHeader, email.DeliveryId.ToString());
        message.Body = new TextPart("plain") { Text = email.Body };
        using var client = new SmtpClient { Timeout = 15_000 };
        await client.ConnectAsync(smtp.Host!, smtp.Port, smtp.UseTls ? SecureSocketOptions.StartTls : SecureSocketOptions.None, cancellationToken);
        if (!string.IsNullOrEmpty(smtp.UserName))
        {
            await client.AuthenticateAsync(smtp.UserName, smtp.Password ?? string.Empty, cancellationToken);
        }

        await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }

    private async Task PostWebhookAsync(WebhookDelivery webhook, CancellationToken cancellationToken)
    {
        var secret = await SecretAsync(webhook.SubscriptionId, cancellationToken);
        if (secret is null)
        {
            throw new InvalidOperationException($"subscription {webhook.SubscriptionId} was removed: nothing to deliver to");
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url) { Content = new StringContent(webhook.Body, Encoding.UTF8, "application/json") };
        request.Headers.Add(DeliveryIdHeader, webhook.DeliveryId.ToString());
        request.Headers.Add(EventHeader, webhook.EventType);
        request.Headers.Add(SignatureHeader, Sign(secret, timeProvider.GetUtcNow().ToUnixTimeSeconds(), webhook.Body));
        using var response = await http.SendAsync(request, cancellationToken);
        if ((int)response.StatusCode >= 500 || (int)response.StatusCode == 429)
        {
            throw new TransientDeliveryException($"the receiver answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"the receiver refused the delivery: {(int)response.StatusCode} {response.ReasonPhrase}");
        }
    }

    private async Task<string?> SecretAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        if (_secrets.TryGetValue(subscriptionId, out var known) && System.Diagnostics.Stopwatch.GetElapsedTime(known.ReadAt) < SecretLifetime)
        {
            return known.Secret;
        }

        await using var command = dataSource.CreateCommand("""
            SELECT w.secret FROM congress.webhook_secrets w JOIN congress.subscriptions s USING (subscription_id)
            WHERE w.subscription_id = $1 AND s.removed_at IS NULL
            """);
        command.Parameters.AddPositional(subscriptionId);
        var secret = await command.ExecuteScalarAsync(cancellationToken) as string;
        _secrets[subscriptionId] = (secret, System.Diagnostics.Stopwatch.GetTimestamp());
        return secret;
    }

    private static async Task RecordAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<DeliveryAttempt> attempts, CancellationToken cancellationToken)
    {
        var rows = attempts.Select(attempt =>
        {
            var payload = DeliveryPayload.Read(attempt.Message.Destination, attempt.Message.PayloadJson);
            var (notification, target) = (DeliveryPayload.NotificationOf(payload), DeliveryPayload.TargetOf(payload));
            var status = attempt.Outcome switch
            {
                DeliveryOutcome.Delivered => "delivered",
                DeliveryOutcome.WillRetry => "retrying",
                _ => "dead-lettered",
            };
            return (attempt, notification, target, status);
        }).ToList();
        await using var command = new NpgsqlCommand("""
            INSERT INTO congress.deliveries (delivery_id, notification_id, channel, target, status, attempts, last_error, created_at, updated_at, delivered_at)
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::timestamptz[], $8::timestamptz[],
                                 $9::timestamptz[])
            ON CONFLICT (delivery_id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, last_error = excluded.last_error,
                updated_at = excluded.updated_at, delivered_at = excluded.delivered_at
            """, connection, transaction);
        command.Parameters.AddPositional(
            rows.Select(r => r.attempt.Message.MessageId).ToArray(), rows.Select(r => r.notification).ToArray(),
            rows.Select(r => DeliveryChannels.ShortName(r.attempt.Message.Destination)).ToArray(), rows.Select(r => r.target).ToArray(),
            rows.Select(r => r.status).ToArray(), rows.Select(r => r.attempt.Message.Attempts).ToArray(), rows.Select(r => r.attempt.Error).ToArray(),
            rows.Select(r => r.attempt.At).ToArray(),
            rows.Select(r => r.attempt.Outcome == DeliveryOutcome.Delivered ? r.attempt.At : (DateTimeOffset?)null).ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>A failure worth trying again at once (a 5xx or 429 answer).</summary>
public sealed class TransientDeliveryException(string message) : Exception(message);
