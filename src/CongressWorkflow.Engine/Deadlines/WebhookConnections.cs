using System.Net;
using System.Net.Sockets;
using CongressWorkflow.Domain.Deadlines;

namespace CongressWorkflow.Engine.Deadlines;

/// <summary>A receiver's name resolved only to addresses a webhook may not reach (<see cref="WebhookAddresses"/>): not worth retrying at once.</summary>
public sealed class WebhookTargetRefusedException(string message) : Exception(message);

/// <summary>
/// How deliveries reach webhook receivers: each connection goes only to addresses <see cref="WebhookAddresses"/> allows,
/// judged on what the receiver's name resolves to at that moment (a subscription checked when made can point elsewhere
/// later), and redirects are not followed (a receiver's 3xx would send the signed payload, and the request, wherever it
/// says; it counts as a refusal).
/// </summary>
public static class WebhookConnections
{
    public static SocketsHttpHandler CreateHandler() => new()
    {
        AllowAutoRedirect = false,
        ConnectCallback = ConnectAsync,
    };

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        // An address literal is taken as it is (the resolver refuses 0.0.0.0 and :: outright).
        var resolved = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = resolved.Where(a => !WebhookAddresses.IsRefused(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new WebhookTargetRefusedException(resolved.Length == 0
                ? $"'{host}' resolves to no address"
                : $"'{host}' resolves to {resolved[0]}, which a webhook may not reach (link-local, unspecified, multicast or broadcast)");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
