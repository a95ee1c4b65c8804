namespace LocalMigrate.UpgradeDaemon.Remote.Transport;

/// <summary>How a peer stream is carried between two daemons (ssh is the lead's launcher, not this folder).</summary>
internal enum PeerTransportMode
{
    /// <summary>Mutual X.509 TLS with the certificates of <see cref="PeerPki"/>; client DNs checked against an allow-list.</summary>
    Tls,

    /// <summary>Plaintext TCP: only where the configuration says <c>allowInsecureTcp</c>.</summary>
    Tcp,
}
