using System.Net;

namespace LocalMigrate.UpgradeDaemon.Remote.Transport;

/// <summary>Who is on the other end of an accepted peer stream.</summary>
/// <param name="RemoteEndPoint">The peer's address and port.</param>
/// <param name="ClientDn">Its certificate's subject DN in RFC 4514 form (checked against the allow-list); null over plain TCP.</param>
internal sealed record PeerIdentity(EndPoint RemoteEndPoint, string? ClientDn)
{
    public override string ToString() => ClientDn is null ? $"{RemoteEndPoint} (tcp)" : $"{RemoteEndPoint} ({ClientDn})";
}
