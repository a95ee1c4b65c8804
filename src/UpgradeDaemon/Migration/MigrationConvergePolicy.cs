namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>What the source does when a migration does not converge (see <see cref="MigrationOptions.ConvergePolicy"/>).</summary>
public enum MigrationConvergePolicy
{
    /// <summary>migrate_cancel: the job fails saying it did not converge; the guest runs on at the source.</summary>
    Cancel,

    /// <summary>migrate-start-postcopy: the guest runs on the target at once and pulls the rest (needs postcopy).</summary>
    Postcopy,

    /// <summary>
    /// downtime-limit lifted to QEMU's maximum: at the next pass QEMU stops the guest and copies the rest while it is
    /// paused. The target resumes it (QEMU carries the run state); on failure QEMU resumes the source.
    /// </summary>
    Pause,
}
