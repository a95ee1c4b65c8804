namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>The figures of one migration. Downtime and QEMU's total are QEMU's own (query-migrate).</summary>
public sealed record MigrationStats
{
    public long DowntimeMs { get; init; }

    /// <summary>From the request until the guest runs on the target, as the daemon measured it.</summary>
    public long TotalMs { get; init; }

    /// <summary>QEMU's total-time: from migrate until completed.</summary>
    public long QemuTotalMs { get; init; }

    public long TransferredBytes { get; init; }
    public int SourcePid { get; init; }
    public int TargetPid { get; init; }
    public string? SourceVersion { get; init; }
    public string? TargetVersion { get; init; }
    public string? SourceBinary { get; init; }
    public string? TargetBinary { get; init; }
}
