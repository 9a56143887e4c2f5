using System.Net;

namespace CongressWorkflow.Domain.Deadlines;

/// <summary>
/// The addresses a webhook may not be delivered to, whoever subscribed it: link-local ones (among them the cloud
/// metadata service at 169.254.169.254, whose answers hold a machine's credentials), the unspecified address (0.0.0.0
/// reaches this machine by another name), multicast and broadcast. A receiver on this machine (loopback) or on the
/// organisation's own network (private ranges) is allowed: that is where an on-premises deployment's receivers are.
/// Checked on the address in a subscription's URL and again on every address a receiver's name resolves to when a
/// delivery connects (a name may point anywhere).
/// </summary>
public static class WebhookAddresses
{
    /// <summary>AWS's metadata service over IPv6 (in the unique-local range, which is otherwise allowed as private).</summary>
    private static readonly IPAddress MetadataV6 = IPAddress.Parse("fd00:ec2::254");

    public static bool IsRefused(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return IsRefused(address.MapToIPv4());
        }

        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            var bytes = address.GetAddressBytes();
            return bytes[0] == 0 // "this network", 0.0.0.0 among it
                || (bytes[0] == 169 && bytes[1] == 254) // link-local
                || bytes[0] >= 224; // multicast, reserved, broadcast
        }

        return address.Equals(IPAddress.IPv6Any) || address.IsIPv6LinkLocal || address.IsIPv6Multicast || address.Equals(MetadataV6);
    }

    /// <summary>True when a URL's host is an address literal that <see cref="IsRefused"/>; a name is checked when it is resolved.</summary>
    public static bool IsRefusedHost(Uri url) =>
        url.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 && IPAddress.TryParse(url.DnsSafeHost, out var address) && IsRefused(address);
}
