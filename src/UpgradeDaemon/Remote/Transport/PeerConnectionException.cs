namespace LocalMigrate.UpgradeDaemon.Remote.Transport;

/// <summary>A peer stream could not be opened; the message names the host, the port and why.</summary>
internal sealed class PeerConnectionException(string host, int port, string reason, Exception? inner = null)
    : IOException($"cannot reach the peer daemon at {host}:{port}: {reason}", inner)
{
    public string Host { get; } = host;

    public int Port { get; } = port;

    public string Reason { get; } = reason;
}
