namespace LocalMigrate.UpgradeDaemon.Migration;

/// <param name="Uri">Where the source sends the stream, in QMP migrate's syntax (unix:PATH for a local target).</param>
/// <param name="Port">The TCP port a remote target listens on (0 for a local one).</param>
public sealed record PrepareResult(string InstanceId, int Pid, string Uri, string QemuVersion, int Port = 0)
{
    /// <summary>What the target QEMU holds after Prepare set its migration capabilities and parameters (read back).</summary>
    public MigrationSideSettings TargetSettings { get; init; } = MigrationSideSettings.None;

    /// <summary>Local, from a standby target: the source tuning applied with it (Perform skips it when the job plans the same).</summary>
    public AppliedTuning? SourceTuned { get; init; }

    /// <summary>Storage copy: the port of the target's NBD server (0: no disk is copied).</summary>
    public int NbdPort { get; init; }

    /// <summary>Remote: the source's snapshot records the destination's images disagree with, "NAME: what differs".</summary>
    public IReadOnlyList<string> SnapshotProblems { get; init; } = [];
}
