using System.Diagnostics;
using System.Net.Sockets;

namespace LocalMigrate.Interop.Qmp;

/// <summary>Connects to QEMU's unix socket, waiting for it to appear if asked to.</summary>
internal static class QmpSocketConnector
{
    // QEMU binds its socket a few ms after spawn; polling this often adds at most ~20 ms to a start.
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(20);

    public static async Task<Socket> ConnectAsync(string path, TimeSpan retryFor, CancellationToken cancellationToken)
    {
        var endpoint = new UnixDomainSocketEndPoint(path);
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
                return socket;
            }
            catch (SocketException ex) when (IsNotListeningYet(ex) && Stopwatch.GetElapsedTime(start) < retryFor)
            {
                // A failed connect leaves the socket unusable; the next attempt needs a fresh one.
                socket.Dispose();
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            await Task.Delay(RetryInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    // ENOENT (no socket file yet) surfaces as AddressNotAvailable; ECONNREFUSED (file exists, nobody
    // listening yet, or a stale file from a previous instance) as ConnectionRefused.
    private static bool IsNotListeningYet(SocketException ex) =>
        ex.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.ConnectionRefused;
}
