using System.Net;
using System.Net.Sockets;

namespace CongressWorkflow.Testing;

public static class Loopback
{
    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago, for a server a test starts.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
