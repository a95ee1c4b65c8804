using System.Diagnostics;
using LocalMigrate.Contract.Client;

namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>
/// One control connection to a peer daemon: the D-Bus connection, and what carries it (an ssh process, a socket),
/// which goes with it.
/// </summary>
public sealed class PeerSession(PeerUri uri, DaemonConnection connection, Process? ssh) : IAsyncDisposable
{
    public PeerUri Uri => uri;

    public DaemonConnection Connection => connection;

    public PeerClient Peer => connection.Peer;

    /// <summary>Completes when the link to the peer is gone (ssh ended, the socket broke).</summary>
    public Task Disconnected => connection.Disconnected;

    public async ValueTask DisposeAsync()
    {
        connection.Dispose();
        if (ssh is null)
            return;
        try
        {
            if (!ssh.HasExited)
                ssh.Kill();
            await ssh.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
        }
        ssh.Dispose();
    }
}
