namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>qapi/crypto.json <c>QCryptoTLSCredsEndpoint</c>: which end of the TLS session the credentials serve.</summary>
public enum TlsCredsEndpoint
{
    Client,
    Server,
}
