namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>How the QEMU migration stream between two hosts is protected; follows the control channel's transport.</summary>
public enum StreamSecurity
{
    /// <summary>Plaintext (tcp://, only with remote.allowInsecureTcp on both hosts).</summary>
    None,

    /// <summary>QEMU's tls-creds-psk with a key the source makes per migration and hands over through ssh (ssh://).</summary>
    Psk,

    /// <summary>QEMU's tls-creds-x509 from the PKI directory, the destination checking the source's DN (tls://).</summary>
    X509,
}
