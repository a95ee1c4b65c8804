namespace LocalMigrate.UpgradeDaemon.Hosting;

/// <summary>
/// How this daemon meets its peers on other hosts (the <c>remote</c> object of <c>localmigrated.json</c>). Both
/// listeners are off unless configured: a host takes incoming migrations only where the operator said so.
/// </summary>
public sealed record RemoteOptions
{
    /// <summary>Port of the mutual-TLS peer listener (X.509 from <see cref="PkiDirectory"/>); null = off.</summary>
    public int? TlsPort { get; init; }

    /// <summary>Port of the plaintext peer listener; null = off, and refused unless <see cref="AllowInsecureTcp"/>.</summary>
    public int? TcpPort { get; init; }

    /// <summary>Address both listeners bind to.</summary>
    public string ListenAddress { get; init; } = "0.0.0.0";

    /// <summary>Plaintext control and migration streams (tcp:// URIs, the TCP listener): labs and tests only.</summary>
    public bool AllowInsecureTcp { get; init; }

    /// <summary>
    /// libvirt's layout: <c>ca-cert.pem</c>, <c>server-cert.pem</c>/<c>server-key.pem</c> (what this daemon shows
    /// to peers that call it), <c>client-cert.pem</c>/<c>client-key.pem</c> (what it shows when it calls them).
    /// </summary>
    public string PkiDirectory { get; init; } = "/etc/pki/localmigrate";

    /// <summary>Subject DNs (RFC 4514, e.g. <c>CN=hostA,O=LocalMigrate</c>) of client certificates the TLS listener accepts.</summary>
    public IReadOnlyList<string> AllowedClientDns { get; init; } = [];

    /// <summary>What ssh runs on the destination host: it bridges the ssh channel to that host's daemon.</summary>
    public string SshBridgeCommand { get; init; } = "localmigrate peer-bridge";

    /// <summary>The ssh client, with options the operator wants on every peer connection (BatchMode is always added).</summary>
    public string SshCommand { get; init; } = "ssh";

    /// <summary>
    /// How long a prepared incoming target waits for its source to call again (the source calls every 5 s while
    /// the stream flows) before it is dropped: it never ran, so the source still holds the guest.
    /// </summary>
    public TimeSpan IncomingLease { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Default libvirt-like ports, one above libvirtd's so both can run on one host.</summary>
    public const int DefaultTlsPort = 16515;

    public const int DefaultTcpPort = 16510;
}
