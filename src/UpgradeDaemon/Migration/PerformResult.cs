using LocalMigrate.Interop.Qmp.Monitor;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// The source has sent the guest. QEMU's final figures (total-time, downtime) are still being read: it emits
/// MIGRATION completed a moment before it stores them, so they are awaited after Finish, off the switch's path.
/// </summary>
public sealed record PerformResult(Task<MigrationInfo> FinalFigures);
