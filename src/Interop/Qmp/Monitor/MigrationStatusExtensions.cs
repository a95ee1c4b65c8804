namespace LocalMigrate.Interop.Qmp.Monitor;

public static class MigrationStatusExtensions
{
    /// <summary>Completed, failed or cancelled: nothing more happens in this migration.</summary>
    public static bool IsTerminal(this MigrationStatus status) =>
        status is MigrationStatus.Completed or MigrationStatus.Failed or MigrationStatus.Cancelled;

    /// <summary>A stream is flowing (or about to) that <c>migrate_cancel</c> can still stop.</summary>
    public static bool IsCancellable(this MigrationStatus status) =>
        status is MigrationStatus.Setup or MigrationStatus.Active or MigrationStatus.Device or MigrationStatus.PreSwitchover
            or MigrationStatus.WaitUnplug;
}
