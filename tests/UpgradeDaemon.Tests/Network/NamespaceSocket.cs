using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace LocalMigrate.UpgradeDaemon.Tests.Network;

/// <summary>
/// A TCP connection made from inside a network namespace by this test process: a socket belongs to the namespace of the
/// thread that creates it, so a short-lived thread joins the namespace (setns(2)), creates and connects the socket, and
/// ends. The socket keeps its namespace wherever it is used from; no helper process, no other thread changes namespace.
/// </summary>
internal static partial class NamespaceSocket
{
    private const int CLONE_NEWNET = 0x40000000;

    public static Socket Connect(string namespaceName, IPAddress address, int port, TimeSpan timeout)
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var ns = File.OpenHandle(Path.Combine("/run/netns", namespaceName));
                if (setns((int)ns.DangerousGetHandle(), CLONE_NEWNET) != 0)
                    throw new IOException($"setns({namespaceName}) failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                var connect = s.ConnectAsync(address, port);
                if (!connect.Wait(timeout))
                {
                    s.Dispose();
                    throw new TimeoutException($"no TCP connection to {address}:{port} from {namespaceName} within {timeout.TotalSeconds} s");
                }
                socket = s;
            }
            catch (Exception e)
            {
                failure = e is AggregateException { InnerException: { } inner } ? inner : e;
            }
        });
        thread.Start();
        thread.Join();
        return socket ?? throw failure!;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);
}
