namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>
/// <c>authz-list</c>: the first rule whose <c>match</c> fits the identity decides, else <see cref="Policy"/>. For a TLS
/// migration the identity is the client certificate's DN as GnuTLS prints it (the certificate's own RDN order,
/// e.g. <c>O=LocalMigrate,CN=hostA</c>), or the PSK username.
/// </summary>
public sealed record AuthzList : QemuObject
{
    public override string QomType => "authz-list";

    public required AuthzListPolicy Policy { get; init; }

    public required IReadOnlyList<AuthzListRule> Rules { get; init; }
}
