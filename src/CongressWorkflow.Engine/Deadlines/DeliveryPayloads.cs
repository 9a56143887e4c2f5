using System.Text.Json;
using CongressWorkflow.EventStore.Serialization;

namespace CongressWorkflow.Engine.Deadlines;

/// <summary>The outbox destinations the delivery worker drains, one per channel.</summary>
public static class DeliveryChannels
{
    public const string Inbox = "notify.inbox";
    public const string Email = "notify.email";
    public const string Webhook = "notify.webhook";

    public static IReadOnlyList<string> All { get; } = [Inbox, Email, Webhook];

    /// <summary>The channel's short name (inbox, email, webhook).</summary>
    public static string ShortName(string destination) => destination["notify.".Length..];
}

/// <summary>What a delivery carries, by channel: read back from the outbox, and what it concerns.</summary>
public static class DeliveryPayload
{
    public static object Read(string destination, string json) => destination switch
    {
        DeliveryChannels.Inbox => JsonSerializer.Deserialize<InboxDelivery>(json, EventTypeRegistry.DefaultSerializerOptions)!,
        DeliveryChannels.Email => JsonSerializer.Deserialize<EmailDelivery>(json, EventTypeRegistry.DefaultSerializerOptions)!,
        DeliveryChannels.Webhook => JsonSerializer.Deserialize<WebhookDelivery>(json, EventTypeRegistry.DefaultSerializerOptions)!,
        _ => throw new InvalidOperationException($"no channel delivers '{destination}'"),
    };

    /// <summary>The ledger step a delivery belongs to; none for an event notice.</summary>
    public static Guid? NotificationOf(object payload) => payload switch
    {
        InboxDelivery i => i.NotificationId,
        EmailDelivery e => e.NotificationId,
        WebhookDelivery w => w.NotificationId,
        _ => null,
    };

    /// <summary>Whom a delivery goes to: an organisation's inbox, email addresses, or a webhook subscription.</summary>
    public static string TargetOf(object payload) => payload switch
    {
        InboxDelivery i => i.OrganizationId,
        EmailDelivery e => string.Join(", ", e.To.Select(t => t.Address)),
        WebhookDelivery w => w.SubscriptionId,
        _ => string.Empty,
    };
}

/// <summary>An item for an organisation's in-app inbox: a deadline notification or an event notice (approval requested, …).</summary>
public sealed record InboxDelivery(Guid DeliveryId, string OrganizationId, Guid? NotificationId, string Kind, string Title, string Body, string? CongressId);

public sealed record EmailRecipient(string Address, string? Name);

/// <summary>One email to the contacts of one organisation who read one language.</summary>
public sealed record EmailDelivery(Guid DeliveryId, Guid NotificationId, string OrganizationId, IReadOnlyList<EmailRecipient> To, string Subject, string Body);

/// <summary>One POST to a subscription's receiver: the body is the exact JSON that is signed and sent.</summary>
public sealed record WebhookDelivery(Guid DeliveryId, Guid NotificationId, string SubscriptionId, string Url, string EventType, string Body);
