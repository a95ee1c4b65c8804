namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// What <c>&lt;state-dir&gt;/jobs/&lt;id&gt;.json</c> holds: enough to resolve the job after a daemon crash in any phase
/// (which instance is the source, which the target, and how far the protocol got).
/// </summary>
public sealed record MigrationJournalRecord
{
    public required string Id { get; init; }
    public required string Domain { get; init; }
    public required Guid Uuid { get; init; }
    public required MigrationKind Kind { get; init; }
    public required MigrationPhase Phase { get; init; }
    public required MigrationJobState State { get; init; }
    public string? SourceInstanceId { get; init; }
    public int SourcePid { get; init; }
    public string? TargetInstanceId { get; init; }
    public int TargetPid { get; init; }
    public string? TargetBinary { get; init; }
    public string? Uri { get; init; }

    /// <summary>A remote migration's destination (its URI); null for a local one. Recovery asks it what it did.</summary>
    public string? Peer { get; init; }

    /// <summary>Remote: whether the definition here goes once the destination runs the guest.</summary>
    public bool UndefineSource { get; init; } = true;

    /// <summary>Whether the guest was running when the job began: only then does a rollback resume it.</summary>
    public bool SourceWasRunning { get; init; }

    /// <summary>Storage copy: the disks (indexes) frozen under a temporary overlay on the source; recovery merges them back.</summary>
    public IReadOnlyList<int> SnapshotDisks { get; init; } = [];

    public string? Error { get; init; }
    public MigrationStats? Stats { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}
