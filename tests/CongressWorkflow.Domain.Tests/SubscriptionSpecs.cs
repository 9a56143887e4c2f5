using System.Net;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Deadlines;

namespace CongressWorkflow.Domain.Tests;

public sealed class webhook_subscriptions
{
    private static readonly CommandContext Admin = new("admin", "admin", "trung-uong", Spec.At(new DateOnly(2020, 1, 10)));

    private static Decision Subscribe(string url) =>
        Subscription.Decide(new CreateSubscription("sub-1", DeliveryChannel.Webhook, "trung-uong", url, "fp", RootIsActive: true, Admin), Subscription.None);

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/")] // the cloud metadata service
    [InlineData("http://[::ffff:169.254.169.254]/")] // the same, written as IPv6
    [InlineData("http://[fd00:ec2::254]/")]
    [InlineData("http://[fe80::1]:8080/hooks")]
    [InlineData("http://0.0.0.0:5080/")] // this machine by another name
    [InlineData("http://[::]/")]
    [InlineData("http://224.0.0.1/")]
    [InlineData("https://255.255.255.255/")]
    public void a_webhook_to_a_link_local_unspecified_or_multicast_address_is_refused(string url)
    {
        var error = Spec.ThenRejected(Subscribe(url), SubscriptionErrors.InvalidUrl);

        Assert.Contains("169.254.169.254", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9000/hooks")] // a receiver on this machine
    [InlineData("http://[::1]/hooks")]
    [InlineData("https://10.20.30.40/hooks")] // on the organisation's own network
    [InlineData("https://192.168.1.5/hooks")]
    [InlineData("https://receiver.ban-to-chuc.example/hooks")] // a name: checked on what it resolves to, when delivered
    public void a_webhook_to_loopback_a_private_network_or_a_name_is_accepted(string url) =>
        Assert.IsType<SubscriptionCreated>(Assert.Single(Spec.ThenAccepted(Subscribe(url))));

    [Fact]
    public void resolved_addresses_are_judged_by_the_same_rule()
    {
        Assert.True(WebhookAddresses.IsRefused(IPAddress.Parse("169.254.0.1")));
        Assert.True(WebhookAddresses.IsRefused(IPAddress.Parse("::ffff:0.0.0.0")));
        Assert.False(WebhookAddresses.IsRefused(IPAddress.Loopback));
        Assert.False(WebhookAddresses.IsRefused(IPAddress.Parse("172.16.0.9")));
        Assert.False(WebhookAddresses.IsRefused(IPAddress.Parse("2001:db8::1")));
    }
}
