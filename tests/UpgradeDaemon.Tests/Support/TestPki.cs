namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>
/// A throw-away PKI made with the <c>openssl</c> command, in libvirt's layout (what the daemon and QEMU's
/// <c>tls-creds-x509</c> both read). <see cref="HostDirectory"/> is a complete, trusted host: CA, a server certificate
/// for 127.0.0.1 / ::1 / localhost (and any extra addresses asked for), a client certificate with <see cref="AllowedClientDn"/>.
/// The other directories hold the same CA but a client that must be refused, each for its own reason.
/// </summary>
public sealed class TestPki : IDisposable
{
    /// <summary>Subject of the trusted client, as the configuration writes it (RFC 4514, most specific first).</summary>
    public const string AllowedClientDn = "CN=hostA,O=LocalMigrate";

    /// <summary>The same as QEMU's authz sees it (GnuTLS prints the certificate's own RDN order).</summary>
    public const string AllowedClientGnuTlsDn = "O=LocalMigrate,CN=hostA";

    public const string RogueClientDn = "CN=rogue,O=LocalMigrate";

    private readonly string _root;

    /// <summary>The default PKI, for <c>IClassFixture&lt;TestPki&gt;</c>: one openssl run per test class, not per test.</summary>
    public TestPki()
        : this(Directory.CreateTempSubdirectory("lm-pki-").FullName) => Build([]);

    private TestPki(string root) => _root = root;

    /// <summary>CA, server (127.0.0.1, ::1, localhost, <c>serverAddresses</c>), allowed client.</summary>
    public string HostDirectory => Path.Combine(_root, "host");

    /// <summary>Same CA, a client certificate whose DN is not allowed.</summary>
    public string RogueClientDirectory => Path.Combine(_root, "rogue");

    /// <summary>The trusted CA file, but a client certificate (with the allowed DN) and a server certificate from another CA.</summary>
    public string OtherCaDirectory => Path.Combine(_root, "other-ca");

    /// <summary>Same CA, no client certificate at all.</summary>
    public string NoClientCertificateDirectory => Path.Combine(_root, "no-client");

    /// <summary>Same CA, a client whose subject needs escaping: <see cref="CommaClientDn"/>.</summary>
    public string CommaClientDirectory => Path.Combine(_root, "comma");

    /// <summary>.NET's spelling of the comma client's subject (it quotes the value with the comma).</summary>
    public const string CommaClientDn = "CN=hostB, OU=Ops, O=\"Example, Inc.\"";

    /// <summary>A host whose CA is the other one: it trusts nothing <see cref="HostDirectory"/> presents.</summary>
    public string OtherCaHostDirectory => Path.Combine(_root, "other-host");

    public static TestPki Create(params string[] serverAddresses)
    {
        var pki = new TestPki(Directory.CreateTempSubdirectory("lm-pki-").FullName);
        pki.Build(serverAddresses);
        return pki;
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Build(string[] serverAddresses)
    {
        var work = Path.Combine(_root, "work");
        Directory.CreateDirectory(work);
        string ca = MakeCa(work, "ca", "/O=LocalMigrate Test/CN=LocalMigrate Test CA");
        string otherCa = MakeCa(work, "other-ca", "/O=LocalMigrate Test/CN=Other CA");
        var sans = string.Join(',', new[] { "IP:127.0.0.1", "IP:::1", "DNS:localhost" }.Concat(serverAddresses.Select(a => a.Contains(':') || a.All(c => char.IsDigit(c) || c == '.') ? $"IP:{a}" : $"DNS:{a}")));

        // openssl's -subj lists RDNs in certificate order: /O=.../CN=... is CN=...,O=... in RFC 4514.
        Directory.CreateDirectory(HostDirectory);
        Copy(work, "ca-cert.pem", HostDirectory, "ca-cert.pem");
        MakeLeaf(work, ca, HostDirectory, "server", "/O=LocalMigrate/CN=localhost", "serverAuth", sans);
        MakeLeaf(work, ca, HostDirectory, "client", "/O=LocalMigrate/CN=hostA", "clientAuth", null);

        Directory.CreateDirectory(RogueClientDirectory);
        Copy(work, "ca-cert.pem", RogueClientDirectory, "ca-cert.pem");
        MakeLeaf(work, ca, RogueClientDirectory, "client", "/O=LocalMigrate/CN=rogue", "clientAuth", null);

        Directory.CreateDirectory(OtherCaDirectory);
        Copy(work, "ca-cert.pem", OtherCaDirectory, "ca-cert.pem");
        MakeLeaf(work, otherCa, OtherCaDirectory, "client", "/O=LocalMigrate/CN=hostA", "clientAuth", null);
        MakeLeaf(work, otherCa, OtherCaDirectory, "server", "/O=LocalMigrate/CN=localhost", "serverAuth", sans);

        Directory.CreateDirectory(NoClientCertificateDirectory);
        Copy(work, "ca-cert.pem", NoClientCertificateDirectory, "ca-cert.pem");

        Directory.CreateDirectory(CommaClientDirectory);
        Copy(work, "ca-cert.pem", CommaClientDirectory, "ca-cert.pem");
        MakeLeaf(work, ca, CommaClientDirectory, "client", "/O=Example, Inc./OU=Ops/CN=hostB", "clientAuth", null);

        Directory.CreateDirectory(OtherCaHostDirectory);
        Copy(work, "other-ca-cert.pem", OtherCaHostDirectory, "ca-cert.pem");
        MakeLeaf(work, otherCa, OtherCaHostDirectory, "server", "/O=LocalMigrate/CN=localhost", "serverAuth", sans);
        MakeLeaf(work, otherCa, OtherCaHostDirectory, "client", "/O=LocalMigrate/CN=hostA", "clientAuth", null);
    }

    private static string MakeCa(string work, string name, string subject)
    {
        ProcessRunner.Run("openssl", "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", Path.Combine(work, $"{name}-key.pem"), "-out", Path.Combine(work, $"{name}-cert.pem"), "-days", "3", "-subj", subject,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        return name;
    }

    // QEMU's credential checks want digitalSignature and keyEncipherment on leaves and the EKU of the leaf's role.
    private static void MakeLeaf(string work, string ca, string directory, string role, string subject, string usage, string? sans)
    {
        var key = Path.Combine(directory, $"{role}-key.pem");
        var request = Path.Combine(work, $"{Path.GetFileName(directory)}-{role}.csr");
        var extensions = Path.Combine(work, $"{Path.GetFileName(directory)}-{role}.ext");
        File.WriteAllText(extensions, $"basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage={usage}\n"
            + (sans is null ? "" : $"subjectAltName={sans}\n"));
        ProcessRunner.Run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
            "-out", request, "-subj", subject);
        ProcessRunner.Run("openssl", "x509", "-req", "-in", request, "-CA", Path.Combine(work, $"{ca}-cert.pem"), "-CAkey",
            Path.Combine(work, $"{ca}-key.pem"), "-set_serial", Random.Shared.NextInt64(1, long.MaxValue).ToString(), "-days", "2",
            "-extfile", extensions, "-out", Path.Combine(directory, $"{role}-cert.pem"));
    }

    private static void Copy(string fromDirectory, string from, string toDirectory, string to) =>
        File.Copy(Path.Combine(fromDirectory, from), Path.Combine(toDirectory, to));
}
