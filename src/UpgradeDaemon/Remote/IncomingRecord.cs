namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>
/// <c>&lt;state-dir&gt;/incoming/&lt;job&gt;.json</c>: the destination's side of one remote migration. The source
/// asks for it (Peer.Query) when a reply was lost; a restarted destination reads it to finish a commit or drop a target.
/// </summary>
public sealed record IncomingRecord
{
    public required string JobId { get; init; }
    public required string Domain { get; init; }
    public required Guid Uuid { get; init; }
    public required IncomingState State { get; init; }

    /// <summary>The definition as it will be stored here (machine type pinned), UTF-8 JSON.</summary>
    public required string Definition { get; init; }

    /// <summary>Who called: the peer's bus sender, for the log.</summary>
    public string? Source { get; init; }

    public string? TargetInstanceId { get; init; }
    public int TargetPid { get; init; }

    /// <summary>Define the domain here at Commit; otherwise it runs here undefined (gone once it stops).</summary>
    public bool Persistent { get; init; } = true;

    /// <summary>Resume the guest at Commit: it ran on the source before the job.</summary>
    public bool Resume { get; init; } = true;

    /// <summary>Offline: no QEMU; Commit only defines the domain.</summary>
    public bool Offline { get; init; }

    /// <summary>Storage copy: the images this host created for the job, deleted again unless it commits.</summary>
    public IReadOnlyList<string> CopiedImages { get; init; } = [];

    /// <summary>Storage copy: the disks (indexes) whose internal snapshots travel: an overlay to attach at Commit and merge after it.</summary>
    public IReadOnlyList<int> SnapshotDisks { get; init; } = [];

    /// <summary>
    /// The domain's snapshot records, stored beside the definition at Commit; null when the source sent none. Without
    /// <see cref="SnapshotDisks"/> (shared storage): already checked against the images at Prepare. With them: as sent,
    /// checked once the copied images are merged.
    /// </summary>
    public IReadOnlyList<Snapshots.SnapshotRecord>? Snapshots { get; init; }

    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}
