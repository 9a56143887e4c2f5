using System.Net;
using System.Text;
using CongressWorkflow.Engine.Deadlines;
using CongressWorkflow.Testing;

namespace CongressWorkflow.Engine.Tests;

/// <summary>The connections deliveries make, against real receivers on loopback (nothing here leaves the machine).</summary>
public sealed class webhook_connections : IAsyncLifetime
{
    private WebhookReceiver _first = null!;
    private WebhookReceiver _second = null!;

    public async Task InitializeAsync()
    {
        _first = await WebhookReceiver.StartAsync();
        _second = await WebhookReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
    }

    private static HttpRequestMessage Post(Uri url) => new(HttpMethod.Post, url) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };

    [Fact]
    public async Task a_receiver_that_redirects_gets_its_answer_back_and_the_payload_goes_nowhere_else()
    {
        using var http = new HttpClient(WebhookConnections.CreateHandler());
        _first.RedirectTo = _second.Url;

        using var response = await http.SendAsync(Post(_first.Url));

        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        Assert.Single(_first.Received);
        Assert.Empty(_second.Received);
    }

    [Fact]
    public async Task an_address_a_webhook_may_not_reach_is_refused_before_connecting()
    {
        using var http = new HttpClient(WebhookConnections.CreateHandler());
        // 0.0.0.0 reaches this machine's receiver by another name; a name resolving to it would too.
        var unspecified = new UriBuilder(_second.Url) { Host = "0.0.0.0" }.Uri;

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => http.SendAsync(Post(unspecified)));

        Assert.IsType<WebhookTargetRefusedException>(refused.InnerException);
        Assert.Contains("0.0.0.0", refused.InnerException!.Message, StringComparison.Ordinal);
        Assert.Empty(_second.Received);
        using var allowed = await http.SendAsync(Post(_second.Url));
        Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
    }
}
