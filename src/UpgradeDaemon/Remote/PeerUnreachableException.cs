namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>The control channel to a peer could not be opened, or broke: names the peer and the reason.</summary>
public sealed class PeerUnreachableException(PeerUri uri, string reason, Exception? inner = null)
    : Exception($"destination {uri.Text} unreachable: {reason}", inner)
{
    public PeerUri Uri => uri;
}
