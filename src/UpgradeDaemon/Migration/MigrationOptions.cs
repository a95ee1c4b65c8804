using LocalMigrate.Interop.Qmp.Monitor;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// What a caller may choose for one migration; null means the default. Read from the a{sv} of Migrate/Upgrade by
/// Api/MigrationOptionsReader (canonical keys and Salt's virt.migrate names); turned into QEMU capabilities and
/// parameters for both sides by <see cref="MigrationTuning"/>.
/// </summary>
public sealed record MigrationOptions
{
    /// <summary>QEMU binary of the target; default: the domain's configured binary.</summary>
    public string? TargetBinary { get; init; }

    /// <summary>Bytes per second, always sent (QEMU's default of 128 MiB/s keeps a busy guest from converging). Local default: unlimited.</summary>
    public long? MaxBandwidth { get; init; }

    /// <summary>Largest pause QEMU may plan for the switch-over (QMP downtime-limit).</summary>
    public int? DowntimeLimitMs { get; init; }

    /// <summary>Map shared guest RAM instead of copying it (x-ignore-shared). Default: on for shared-memory domains.</summary>
    public bool? IgnoreShared { get; init; }

    /// <summary>The whole migration is abandoned (and rolled back) after this long.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>multifd channels (Salt parallel_connections); more than 1 turns the multifd capability on.</summary>
    public int? ParallelConnections { get; init; }

    /// <summary>Salt's <c>compressed</c>: compress with <see cref="CompressMethods"/> (default mt).</summary>
    public bool? Compressed { get; init; }

    public MigrationCompressMethods? CompressMethods { get; init; }

    /// <summary>The algorithm of mt compression (multifd-compression); default zstd.</summary>
    public MultifdCompression? CompressMtAlgorithm { get; init; }

    /// <summary>Compression level of mt (zstd 0-20, zlib 0-9). QEMU before 9.0 ignores a level set on a running QEMU.</summary>
    public int? CompressMtLevel { get; init; }

    /// <summary>mt threads: multifd compresses on each channel, so this is the channel count.</summary>
    public int? CompressMtThreads { get; init; }

    /// <summary>xbzrle cache on the source, bytes.</summary>
    public long? CompressXbzrleCacheBytes { get; init; }

    /// <summary>Enable postcopy-ram on both sides; switch with StartPostcopy or the postcopy converge policy.</summary>
    public bool? Postcopy { get; init; }

    /// <summary>Bytes per second once in postcopy (max-postcopy-bandwidth); default unlimited.</summary>
    public long? PostcopyBandwidth { get; init; }

    /// <summary>
    /// The guest stays paused for the whole transfer (a non-live migration, what <c>virsh migrate</c> does without --live):
    /// one pass, nothing dirtied, downtime as long as the copy. Null: paused only where a live copy would lose guest
    /// writes (<see cref="MigrationTuning.LiveCopyHazard"/>), live otherwise.
    /// </summary>
    public bool? PauseGuest { get; init; }

    /// <summary>Options that only mean something while the guest runs during the copy: asking for one asks for a live migration.</summary>
    public bool AsksForLiveCopy => Postcopy == true || AutoConverge == true || UsesXbzrle || ConvergePolicy != MigrationConvergePolicy.Cancel
                                   || ConvergeTimeout is not null;

    /// <summary>auto-converge: QEMU throttles the guest's vCPUs when it dirties faster than it can be sent.</summary>
    public bool? AutoConverge { get; init; }

    /// <summary>Remote only: move the definition, nothing runs (Salt live=false).</summary>
    public bool? Offline { get; init; }

    /// <summary>Remote only: define the domain on the destination (default true).</summary>
    public bool? Persistent { get; init; }

    /// <summary>Remote only: remove the definition from the source (default true; false keeps a stopped copy).</summary>
    public bool? UndefineSource { get; init; }

    /// <summary>Remote only: which disks travel with the guest (Salt copy_storage); default none (shared storage).</summary>
    public CopyStorage CopyStorage { get; init; } = CopyStorage.None;

    public bool IsOffline => Offline == true;

    public bool DefinesOnDestination => Persistent ?? true;

    public bool UndefinesSource => UndefineSource ?? true;

    public MigrationConvergePolicy ConvergePolicy { get; init; } = MigrationConvergePolicy.Cancel;

    /// <summary>The policy acts when the expected downtime stays above downtime-limit for this many passes in a row.</summary>
    public int ConvergePasses { get; init; } = DefaultConvergePasses;

    /// <summary>The policy also acts when the migration has not completed after this long; null: no such deadline.</summary>
    public TimeSpan? ConvergeTimeout { get; init; }

    /// <summary>Local transfers have no network to share: the default max-bandwidth (bytes/s) when none is given.</summary>
    public const long UnlimitedBandwidth = 1L << 40;

    /// <summary>QEMU's own default downtime-limit.</summary>
    public const int DefaultDowntimeLimitMs = 300;

    /// <summary>A busy guest that converges does so within a few passes; 30 in a row over the limit is a guest that will not.</summary>
    public const int DefaultConvergePasses = 30;

    /// <summary>multifd is used: more than one channel, or mt compression (which multifd does).</summary>
    public bool UsesMultifd => ParallelConnections > 1 || CompressMtThreads > 1 || UsesMtCompression;

    public bool UsesMtCompression => Compressed == true && (CompressMethods ?? MigrationCompressMethods.Mt).HasFlag(MigrationCompressMethods.Mt);

    public bool UsesXbzrle => Compressed == true && (CompressMethods ?? MigrationCompressMethods.None).HasFlag(MigrationCompressMethods.Xbzrle);

    /// <summary>The channel count sent to QEMU when multifd is on.</summary>
    public int MultifdChannels => ParallelConnections ?? CompressMtThreads ?? 2;
}
