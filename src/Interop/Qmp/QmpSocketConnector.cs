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
                // Synchronous on purpose: a unix-socket connect completes or fails at once, and a failed async
                // connect builds its exception with the caller's stack trace *with file and line info*
                // (ExceptionDispatchInfo.SetCurrentStackTrace), which reads the PDBs: ~25 of those per QEMU start
                // while it binds its socket, CPU in the migration's Prepare and ~2 MB of resident PDB reader.
                socket.Connect(endpoint);
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
