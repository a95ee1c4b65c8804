using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace LocalMigrate.UpgradeDaemon.Remote.Transport;

/// <summary>
/// The certificates in a PKI directory with libvirt's file names, which QEMU's <c>tls-creds-x509</c> expects too, so
/// one directory serves the daemon's peer channel and QEMU's migration stream.
/// </summary>
internal static class PeerPki
{
    public const string CaCertificateFile = "ca-cert.pem";
    public const string ServerCertificateFile = "server-cert.pem";
    public const string ServerKeyFile = "server-key.pem";
    public const string ClientCertificateFile = "client-cert.pem";
    public const string ClientKeyFile = "client-key.pem";

    // TLS Web Server / Client Authentication (RFC 5280 4.2.1.12).
    public static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    public static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    /// <summary>Every certificate in <c>ca-cert.pem</c>: the only roots peers are checked against.</summary>
    public static X509Certificate2Collection LoadCertificateAuthorities(string directory)
    {
        var path = Path.Combine(directory, CaCertificateFile);
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new PeerPkiException($"cannot read the CA certificate {path}: {e.Message}", e);
        }
        if (authorities.Count == 0)
            throw new PeerPkiException($"the CA certificate file {path} holds no certificate");
        return authorities;
    }

    /// <summary>What this daemon shows to peers that call it.</summary>
    public static X509Certificate2 LoadServerCertificate(string directory) =>
        LoadPair(directory, ServerCertificateFile, ServerKeyFile);

    /// <summary>What this daemon shows when it calls a peer; null when the directory has no client certificate.</summary>
    public static X509Certificate2? LoadClientCertificate(string directory) =>
        File.Exists(Path.Combine(directory, ClientCertificateFile)) ? LoadPair(directory, ClientCertificateFile, ClientKeyFile) : null;

    /// <summary>A chain policy that trusts only <paramref name="authorities"/> and requires <paramref name="usage"/>.</summary>
    public static X509ChainPolicy ChainPolicy(X509Certificate2Collection authorities, Oid usage)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            // A private CA without CRL distribution: nothing to check, and nothing may be fetched from the network.
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.AddRange(authorities);
        policy.ApplicationPolicy.Add(usage);
        return policy;
    }

    private static X509Certificate2 LoadPair(string directory, string certificateFile, string keyFile)
    {
        var certificate = Path.Combine(directory, certificateFile);
        var key = Path.Combine(directory, keyFile);
        try
        {
            return X509Certificate2.CreateFromPemFile(certificate, key);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new PeerPkiException($"cannot load the certificate {certificate} with its key {key}: {e.Message}", e);
        }
    }
}
