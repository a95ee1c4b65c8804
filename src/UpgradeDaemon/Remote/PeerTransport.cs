namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>What carries the control channel to a peer daemon (and decides how the QEMU stream is protected).</summary>
public enum PeerTransport
{
    /// <summary>The system ssh client runs <c>localmigrate peer-bridge</c> there; the QEMU stream uses a per-migration TLS PSK.</summary>
    Ssh,

    /// <summary>Mutual X.509 to the peer's TLS listener; the QEMU stream uses QEMU's x509 TLS with tls-authz.</summary>
    Tls,

    /// <summary>Plaintext, control and stream: only where the configuration says allowInsecureTcp.</summary>
    Tcp,
}
