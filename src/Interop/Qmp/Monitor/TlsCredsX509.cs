namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>
/// <c>tls-creds-x509</c>: X.509 credentials read from <see cref="Dir"/>, which must use libvirt's file names
/// (<c>ca-cert.pem</c>, <c>server-cert.pem</c>/<c>server-key.pem</c> for a server, <c>client-cert.pem</c>/<c>client-key.pem</c>
/// for a client). QEMU checks the files (usage, CA chain, dates) when the object is added, so a bad directory is refused here.
/// </summary>
public sealed record TlsCredsX509 : QemuObject
{
    public override string QomType => "tls-creds-x509";

    public required string Dir { get; init; }

    public required TlsCredsEndpoint Endpoint { get; init; }

    /// <summary>Server: require and check a client certificate. Client: check the server's certificate and name.</summary>
    public bool? VerifyPeer { get; init; }
}
