using System.Text.Json;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Serialization;
using Npgsql;

namespace CongressWorkflow.Engine.Deadlines;

/// <summary>
/// The delivery channels, named as outbox destinations: email and webhooks go through the outbox to the delivery worker;
/// the inbox is a table of this database, written directly (<see cref="InboxItems"/>).
/// </summary>
public static class DeliveryChannels
{
    public const string Email = "notify.email";
    public const string Webhook = "notify.webhook";

    /// <summary>The channel's short name (email, webhook).</summary>
    public static string ShortName(string destination) => destination["notify.".Length..];
}

/// <summary>What a delivery carries, by channel: read back from the outbox, and what it concerns.</summary>
public static class DeliveryPayload
{
    public static object Read(string destination, string json) => destination switch
    {
        DeliveryChannels.Email => JsonSerializer.Deserialize<EmailDelivery>(json, EventTypeRegistry.DefaultSerializerOptions)!,
        DeliveryChannels.Webhook => JsonSerializer.Deserialize<WebhookDelivery>(json, EventTypeRegistry.DefaultSerializerOptions)!,
        _ => throw new InvalidOperationException($"no channel delivers '{destination}'"),
    };

    /// <summary>The ledger step a delivery belongs to; none for an event notice.</summary>
    public static Guid? NotificationOf(object payload) => payload switch
    {
        EmailDelivery e => e.NotificationId,
        WebhookDelivery w => w.NotificationId,
        _ => null,
    };

    /// <summary>Whom a delivery goes to: an organisation's inbox, email addresses, or a webhook subscription.</summary>
    public static string TargetOf(object payload) => payload switch
    {
        EmailDelivery e => string.Join(", ", e.To.Select(t => t.Address)),
        WebhookDelivery w => w.SubscriptionId,
        _ => string.Empty,
    };
}

/// <summary>An item for an organisation's in-app inbox: a deadline notification or an event notice (approval requested, …).</summary>
public sealed record InboxDelivery(Guid DeliveryId, string OrganizationId, Guid? NotificationId, string Kind, string Title, string Body, string? CongressId);

/// <summary>
/// Inbox items are rows of this database, so they are delivered by being written: in the transaction that records what
/// they tell (the sweep's step, the congress's event), delivered at once. The item is its own delivery record (read as
/// one by <see cref="DeadlineQueries"/>): passing items through the outbox, as email and webhooks must go, cost every
/// item a message, its lease and its settling, and a delivery row beside each item repeated it (2.7 million items in a
/// national campaign). An item already there (the same delivery id) is left as it is.
/// </summary>
public static class InboxItems
{
    /// <summary>A ledger step's item in one recipient's inbox: the same id on every run of the step, stored beside the step's.</summary>
    public static Guid NotificationItemId(Guid notificationId, string recipientId) =>
        DeterministicId.Beside(notificationId, ItemName(notificationId, recipientId));

    /// <summary>
    /// The ids a step's item in one recipient's inbox may have: <see cref="NotificationItemId"/>, or the name's plain hash
    /// that versions before 2026-11-24 gave it.
    /// </summary>
    public static IEnumerable<Guid> NotificationItemIdsEverGiven(Guid notificationId, string recipientId) =>
        [NotificationItemId(notificationId, recipientId), DeterministicId.From(ItemName(notificationId, recipientId))];

    private static string ItemName(Guid notificationId, string recipientId) => $"delivery|{notificationId}|inbox|{recipientId}";

    /// <summary>An item read as a delivery (the columns of congress.deliveries): delivered, once, when written.</summary>
    public const string AsDelivery = """
        item_id AS delivery_id, notification_id, 'inbox' AS channel, organization_id AS target, 'delivered' AS status, 1 AS attempts,
        NULL::text AS last_error, created_at AS updated_at, created_at AS delivered_at
        """;

    public static NpgsqlBatchCommand Write(IReadOnlyList<InboxDelivery> items, DateTimeOffset now)
    {
        var command = new NpgsqlBatchCommand("""
            INSERT INTO congress.inbox (item_id, organization_id, notification_id, kind, title, body, congress_id, created_at)
            SELECT i.*, $8 FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[])
                AS i(item_id, organization_id, notification_id, kind, title, body, congress_id)
            ON CONFLICT (item_id) DO NOTHING
            """);
        command.Parameters.AddPositional(
            items.Select(i => i.DeliveryId).ToArray(), items.Select(i => i.OrganizationId).ToArray(), items.Select(i => i.NotificationId).ToArray(),
            items.Select(i => i.Kind).ToArray(), items.Select(i => i.Title).ToArray(), items.Select(i => i.Body).ToArray(),
            items.Select(i => i.CongressId).ToArray(), now);
        return command;
    }
}

public sealed record EmailRecipient(string Address, string? Name);

/// <summary>One email to the contacts of one organisation who read one language.</summary>
public sealed record EmailDelivery(Guid DeliveryId, Guid NotificationId, string OrganizationId, IReadOnlyList<EmailRecipient> To, string Subject, string Body);

/// <summary>One POST to a subscription's receiver: the body is the exact JSON that is signed and sent.</summary>
public sealed record WebhookDelivery(Guid DeliveryId, Guid NotificationId, string SubscriptionId, string Url, string EventType, string Body);
