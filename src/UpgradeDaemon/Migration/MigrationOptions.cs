namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>What a caller may choose for one migration; null means the default.</summary>
public sealed record MigrationOptions
{
    /// <summary>QEMU binary of the target; default: the domain's configured binary.</summary>
    public string? TargetBinary { get; init; }

    /// <summary>Bytes per second. QEMU 7.2's own default is 32 MiB/s, far too slow on one host, so the local default is unlimited.</summary>
    public long? MaxBandwidth { get; init; }

    /// <summary>Largest pause QEMU may plan for the switch-over (QMP downtime-limit).</summary>
    public int? DowntimeLimitMs { get; init; }

    /// <summary>Map shared guest RAM instead of copying it (x-ignore-shared). Default: on for shared-memory domains.</summary>
    public bool? IgnoreShared { get; init; }

    /// <summary>The whole migration is abandoned (and rolled back) after this long.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Remote only: the definition moves, nothing runs (the domain must be shut off).</summary>
    public bool Offline { get; init; }

    /// <summary>Remote only: define the domain on the destination (false: it runs there undefined).</summary>
    public bool Persistent { get; init; } = true;

    /// <summary>Remote only: remove the definition here once the guest runs there (false keeps a stopped copy).</summary>
    public bool UndefineSource { get; init; } = true;

    /// <summary>Local transfers have no network to share: the default max-bandwidth (bytes/s) when none is given.</summary>
    public const long UnlimitedBandwidth = 1L << 40;
}
