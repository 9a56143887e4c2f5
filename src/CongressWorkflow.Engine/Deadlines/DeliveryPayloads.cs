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

/// <summary>An item for an organisation's in-app inbox: a deadline notification or an event notice (approval requested, …).</summary>
public sealed record InboxDelivery(Guid DeliveryId, string OrganizationId, Guid? NotificationId, string Kind, string Title, string Body, string? CongressId);

public sealed record EmailRecipient(string Address, string? Name);

/// <summary>One email to the contacts of one organisation who read one language.</summary>
public sealed record EmailDelivery(Guid DeliveryId, Guid NotificationId, string OrganizationId, IReadOnlyList<EmailRecipient> To, string Subject, string Body);

/// <summary>One POST to a subscription's receiver: the body is the exact JSON that is signed and sent.</summary>
public sealed record WebhookDelivery(Guid DeliveryId, Guid NotificationId, string SubscriptionId, string Url, string EventType, string Body);
