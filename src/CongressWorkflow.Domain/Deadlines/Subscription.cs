using CongressWorkflow.Domain.Common;

namespace CongressWorkflow.Domain.Deadlines;

/// <summary>How notifications about a subtree leave the system besides the in-app inbox, which every organisation has.</summary>
public enum DeliveryChannel
{
    /// <summary>To the contacts (per role) of each organisation a notification is for.</summary>
    Email,

    /// <summary>An HTTP POST of a signed JSON payload to a receiver of the subscriber's.</summary>
    Webhook,
}

[StoredAs("subscription.created")]
public sealed record SubscriptionCreated(
    string SubscriptionId, DeliveryChannel Channel, string RootOrganizationId, string? Url, string? SecretFingerprint, string CreatedBy, DateTimeOffset CreatedAt);

[StoredAs("subscription.removed")]
public sealed record SubscriptionRemoved(string SubscriptionId, string RemovedBy, DateTimeOffset RemovedAt);

/// <param name="RootIsActive">A fact the engine gathers: the subtree's root exists and is not dissolved.</param>
/// <param name="SecretFingerprint">For a webhook: a fingerprint of the signing secret (the secret itself is never stored in an event).</param>
public sealed record CreateSubscription(
    string SubscriptionId, DeliveryChannel Channel, string RootOrganizationId, string? Url, string? SecretFingerprint, bool RootIsActive, CommandContext Context);

public sealed record RemoveSubscription(string SubscriptionId, CommandContext Context);

public static class SubscriptionErrors
{
    public const string InvalidUrl = "subscription-invalid-url";
    public const string UnknownRoot = "subscription-unknown-root";
    public const string NotFound = "subscription-not-found";
    public const string AlreadyExists = "subscription-already-exists";
}

/// <summary>A subscription of an organisation subtree to a delivery channel, as its events leave it.</summary>
public sealed record Subscription(string Id, DeliveryChannel Channel, string RootOrganizationId, string? Url, bool IsRemoved)
{
    public static Subscription None { get; } = new(string.Empty, DeliveryChannel.Email, string.Empty, null, false);

    public bool Exists => Id.Length > 0;

    public static string StreamId(string subscriptionId) => "subscription-" + subscriptionId;

    public static Decision Decide(object command, Subscription state) => command switch
    {
        CreateSubscription c when state.Exists => Decision.Reject(SubscriptionErrors.AlreadyExists, $"subscription {c.SubscriptionId} already exists"),
        CreateSubscription { RootIsActive: false } c =>
            Decision.Reject(SubscriptionErrors.UnknownRoot, $"there is no active organisation '{c.RootOrganizationId}' to subscribe to"),
        CreateSubscription { Channel: DeliveryChannel.Webhook } c when !IsReceiverUrl(c.Url) =>
            Decision.Reject(SubscriptionErrors.InvalidUrl, "a webhook needs an absolute http or https address of at most 2,000 characters, without credentials"),
        CreateSubscription { Channel: DeliveryChannel.Webhook } c when WebhookAddresses.IsRefusedHost(new Uri(c.Url!)) =>
            Decision.Reject(SubscriptionErrors.InvalidUrl,
                "a webhook may not go to a link-local, unspecified, multicast or broadcast address (such as the cloud metadata service 169.254.169.254)"),
        CreateSubscription { Channel: DeliveryChannel.Email, Url: not null } =>
            Decision.Reject(SubscriptionErrors.InvalidUrl, "an email subscription writes to the organisations' contacts: give no address"),
        CreateSubscription c => Decision.Accept(new SubscriptionCreated(c.SubscriptionId, c.Channel, c.RootOrganizationId, c.Url, c.SecretFingerprint,
            c.Context.UserId, c.Context.Now)),
        RemoveSubscription c when !state.Exists || state.IsRemoved => Decision.Reject(SubscriptionErrors.NotFound, $"there is no subscription {c.SubscriptionId}"),
        RemoveSubscription c => Decision.Accept(new SubscriptionRemoved(state.Id, c.Context.UserId, c.Context.Now)),
        _ => throw new InvalidOperationException($"unhandled command {command.GetType().Name}"),
    };

    public static Subscription Evolve(Subscription state, object @event) => @event switch
    {
        SubscriptionCreated e => new Subscription(e.SubscriptionId, e.Channel, e.RootOrganizationId, e.Url, false),
        SubscriptionRemoved => state with { IsRemoved = true },
        _ => throw new InvalidOperationException($"a subscription cannot apply {@event.GetType().Name}"),
    };

    private static bool IsReceiverUrl(string? url) =>
        url is { Length: <= 2000 } && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.UserInfo);
}
