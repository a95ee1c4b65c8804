using System.Net;
using LocalMigrate.UpgradeDaemon.Hosting;

namespace LocalMigrate.UpgradeDaemon.Remote.Transport;

/// <summary>What one <see cref="PeerListener"/> binds to and whom it lets in.</summary>
internal sealed record PeerListenerSettings
{
    public required PeerTransportMode Mode { get; init; }

    /// <summary>Port 0 picks a free port (tests); <see cref="PeerListener.LocalEndPoint"/> tells which.</summary>
    public required IPEndPoint EndPoint { get; init; }

    /// <summary>TLS: the directory of <see cref="PeerPki"/>'s files.</summary>
    public string PkiDirectory { get; init; } = "/etc/pki/localmigrate";

    /// <summary>TLS: client certificate subjects let in (RFC 4514 or .NET form); empty lets nobody in.</summary>
    public IReadOnlyList<string> AllowedClientDns { get; init; } = [];

    /// <summary>TCP connect to ready stream: a peer that takes longer is dropped, so it cannot hold a connection slot.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Connections still in their handshake at once; more are closed at once, so a flood cannot exhaust the daemon.</summary>
    public int MaxPendingHandshakes { get; init; } = 32;

    /// <summary>The listener of <paramref name="mode"/> that <paramref name="remote"/> configures, or null when its port is unset.</summary>
    /// <exception cref="ArgumentException">The listen address is not an IP address, or TCP is not allowed.</exception>
    public static PeerListenerSettings? FromRemoteOptions(RemoteOptions remote, PeerTransportMode mode)
    {
        int? port = mode == PeerTransportMode.Tls ? remote.TlsPort : remote.TcpPort;
        if (port is not { } p)
            return null;
        if (mode == PeerTransportMode.Tcp && !remote.AllowInsecureTcp)
            throw new ArgumentException("remote.tcpPort is set but remote.allowInsecureTcp is not: the plaintext listener stays off", nameof(remote));
        if (!IPAddress.TryParse(remote.ListenAddress, out var address))
            throw new ArgumentException($"remote.listenAddress '{remote.ListenAddress}' is not an IP address", nameof(remote));
        return new PeerListenerSettings
        {
            Mode = mode,
            EndPoint = new IPEndPoint(address, p),
            PkiDirectory = remote.PkiDirectory,
            AllowedClientDns = remote.AllowedClientDns,
        };
    }
}
