namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>
/// <c>query-migrate</c> (qapi/migration.json <c>MigrationInfo</c>): the members the daemon reads. QEMU leaves
/// out what does not apply yet; an absent status means no migration ever ran.
/// </summary>
public sealed record MigrationInfo
{
    public MigrationStatus Status { get; init; } = MigrationStatus.None;

    /// <summary>Milliseconds since the migration started (running) or its whole length (completed).</summary>
    public long? TotalTime { get; init; }

    /// <summary>Milliseconds the guest was paused, once completed.</summary>
    public long? Downtime { get; init; }

    public long? ExpectedDowntime { get; init; }
    public long? SetupTime { get; init; }
    public MigrationRamStats? Ram { get; init; }

    /// <summary>Present while the xbzrle capability is on.</summary>
    public MigrationXbzrleCacheStats? XbzrleCache { get; init; }

    /// <summary>Percent the vCPUs are throttled by auto-converge.</summary>
    public int? CpuThrottlePercentage { get; init; }

    /// <summary>QEMU's reason, when the status is failed.</summary>
    public string? ErrorDesc { get; init; }

    /// <summary>Destination only: where <c>migrate-incoming</c> listens (the port QEMU picked for port 0).</summary>
    public IReadOnlyList<MigrationSocketAddress>? SocketAddress { get; init; }
}
