using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>The QMP migration capabilities both sides set (qapi/migration.json MigrationCapability).</summary>
internal static class MigrationCapabilities
{
    /// <summary>events: MIGRATION events drive the job, no polling in the switch-over window.
    /// x-ignore-shared: RAM in a shared backend is mapped by the target, not sent.</summary>
    public static IReadOnlyList<MigrationCapabilityStatus> For(bool ignoreShared) =>
    [
        new(MigrationCapability.Events, true),
        new(MigrationCapability.XIgnoreShared, ignoreShared),
    ];
}
