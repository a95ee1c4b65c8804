using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;

namespace LocalMigrate.UpgradeDaemon.Remote.Transport;

/// <summary>
/// Puts TLS on QEMU's own migration stream (direct between the two QEMUs): credentials and authorization as QOM
/// objects, then the <c>tls-*</c> migration parameters. Order: the destination's <see cref="DstX509Async"/> or
/// <see cref="DstPskAsync"/> before its <c>migrate-incoming</c>; the source's <see cref="SrcX509Async"/> or
/// <see cref="SrcPskAsync"/> before its <c>migrate</c>; <see cref="RemoveAsync"/> on both after the migration ended
/// (either way), so a later migration of the same QEMU starts clean.
/// </summary>
internal static class QemuMigrationTls
{
    public const string CredsId = "lm-migration-tls";
    public const string AuthzId = "lm-migration-authz";

    /// <summary>
    /// Destination, X.509: the server end of <paramref name="pkiDirectory"/> (ca-cert, server-cert, server-key), a client
    /// certificate required, and only the subjects of <paramref name="allowedClientDns"/> (RFC 4514 or .NET form) let in.
    /// </summary>
    public static async Task DstX509Async(QemuMonitor monitor, string pkiDirectory, IReadOnlyList<string> allowedClientDns,
        CancellationToken cancellationToken = default)
    {
        var rules = allowedClientDns.Select(dn => new AuthzListRule(DistinguishedName.ToGnuTls(dn), AuthzListPolicy.Allow, AuthzListFormat.Exact)).ToList();
        await monitor.ObjectAddAsync(new TlsCredsX509
        {
            Id = CredsId, Dir = pkiDirectory, Endpoint = TlsCredsEndpoint.Server, VerifyPeer = true,
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        await monitor.ObjectAddAsync(new AuthzList { Id = AuthzId, Policy = AuthzListPolicy.Deny, Rules = rules }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        await monitor.MigrateSetParametersAsync(new MigrationParameters { TlsCreds = CredsId, TlsAuthz = AuthzId }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Source, X.509: the client end of <paramref name="pkiDirectory"/> (ca-cert, client-cert, client-key); the destination's
    /// certificate must name <paramref name="destinationHost"/> (the host of the tcp: URI, DNS name or IP).
    /// </summary>
    public static async Task SrcX509Async(QemuMonitor monitor, string pkiDirectory, string destinationHost, CancellationToken cancellationToken = default)
    {
        await monitor.ObjectAddAsync(new TlsCredsX509
        {
            Id = CredsId, Dir = pkiDirectory, Endpoint = TlsCredsEndpoint.Client, VerifyPeer = true,
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        await monitor.MigrateSetParametersAsync(new MigrationParameters { TlsCreds = CredsId, TlsHostname = destinationHost },
            cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Destination, PSK: <paramref name="pskDirectory"/> holds the <see cref="MigrationPsk"/> file with the source's username.</summary>
    public static async Task DstPskAsync(QemuMonitor monitor, string pskDirectory, CancellationToken cancellationToken = default)
    {
        await monitor.ObjectAddAsync(new TlsCredsPsk { Id = CredsId, Dir = pskDirectory, Endpoint = TlsCredsEndpoint.Server },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        await monitor.MigrateSetParametersAsync(new MigrationParameters { TlsCreds = CredsId }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Source, PSK: presents <paramref name="username"/> and that line's key from <paramref name="pskDirectory"/>.</summary>
    public static async Task SrcPskAsync(QemuMonitor monitor, string pskDirectory, string username = MigrationPsk.Username,
        CancellationToken cancellationToken = default)
    {
        await monitor.ObjectAddAsync(new TlsCredsPsk { Id = CredsId, Dir = pskDirectory, Endpoint = TlsCredsEndpoint.Client, Username = username },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        await monitor.MigrateSetParametersAsync(new MigrationParameters { TlsCreds = CredsId }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Turns migration TLS off and deletes the objects; objects that are not there are skipped.</summary>
    public static async Task RemoveAsync(QemuMonitor monitor, CancellationToken cancellationToken = default)
    {
        await monitor.MigrateSetParametersAsync(new MigrationParameters { TlsCreds = "", TlsHostname = "", TlsAuthz = "" },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var id in new[] { AuthzId, CredsId })
        {
            try
            {
                await monitor.ObjectDelAsync(id, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (QmpExecuteException)
            {
                // Never added (a PSK migration has no authz, a failed setup stopped early).
            }
        }
    }
}
