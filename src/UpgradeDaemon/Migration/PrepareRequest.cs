using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <param name="IgnoreShared">Both sides must agree on x-ignore-shared: the target then expects no RAM pages.</param>
public sealed record PrepareRequest(string JobId, DomainDefinition Definition, string Binary, bool IgnoreShared)
{
    /// <summary>null: a unix socket in the target's runtime dir (a local migration); else the address a remote target listens on.</summary>
    public string? ListenAddress { get; init; }

    /// <summary>
    /// A local migration's running source: a standby target started for it (upgrade --prepare) serves as the target
    /// instead of a new QEMU. null (remote targets): always a new one.
    /// </summary>
    public string? SourceInstanceId { get; init; }

    /// <summary>The target stays paused after the stream arrived (-S) until Commit resumes it: remote targets.</summary>
    public bool StartPaused { get; init; }

    /// <summary>Runs on the target after its tuning, before migrate-incoming: the stream's TLS credentials of a remote target.</summary>
    public Func<DomainInstance, CancellationToken, Task>? ConfigureTarget { get; init; }

    /// <summary>The target's capabilities and parameters (MigrationTuning.Target); null: events and x-ignore-shared only.</summary>
    public MigrationSideTuning? TargetTuning { get; init; }

    /// <summary>Storage copy (remote only): the disks the destination creates and exports for the source's mirrors.</summary>
    public IReadOnlyList<CopiedDisk> CopiedDisks { get; init; } = [];

    /// <summary>Remote only: the source's snapshot records of the domain, sent with Prepare (none: not sent).</summary>
    public IReadOnlyList<Snapshots.SnapshotRecord> Snapshots { get; init; } = [];
}
