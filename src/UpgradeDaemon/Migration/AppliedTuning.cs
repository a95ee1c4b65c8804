namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// A tuning one QEMU already holds (applied ahead of its job, for a standby target and its source) and what it read
/// back: a job that plans the very same tuning for that QEMU skips the four QMP round trips of applying it again.
/// </summary>
public sealed record AppliedTuning(MigrationSideTuning Tuning, MigrationSideSettings Settings);
