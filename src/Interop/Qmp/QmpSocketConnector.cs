using System.Diagnostics;
using System.Net.Sockets;

namespace LocalMigrate.Interop.Qmp;

/// <summary>Connects to QEMU's unix socket, waiting for it to appear if asked to.</summary>
internal static class QmpSocketConnector
{
    // QEMU binds its socket ~50 ms after spawn under TCG. A failed connect to a unix socket costs microseconds, so
    // polling this often is free and adds at most ~2 ms to the Prepare phase of a migration (20 ms added ~10 ms).
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(2);

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
