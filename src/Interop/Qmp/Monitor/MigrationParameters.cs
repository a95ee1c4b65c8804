namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>
/// Arguments of <c>migrate-set-parameters</c> (qapi/migration.json <c>MigrateSetParameters</c>). Only the
/// members that are set are sent; QEMU keeps its value for the rest. Add a member here to send a new one.
/// </summary>
public sealed record MigrationParameters
{
    /// <summary>Bytes per second. QEMU's default is 128 MiB/s, too low for a busy guest to converge.</summary>
    public long? MaxBandwidth { get; init; }

    /// <summary>Milliseconds the guest may be paused at switch-over. QEMU's default is 300.</summary>
    public long? DowntimeLimit { get; init; }

    public int? MultifdChannels { get; init; }

    public long? MaxPostcopyBandwidth { get; init; }

    /// <summary>Id of a <c>tls-creds-*</c> object; empty turns TLS off.</summary>
    public string? TlsCreds { get; init; }

    public string? TlsHostname { get; init; }

    /// <summary>Id of an <c>authz-*</c> object the destination asks about the client's TLS identity; empty turns it off.</summary>
    public string? TlsAuthz { get; init; }
}
