namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>
/// The state of a migration (qapi/migration.json <c>MigrationStatus</c>, QEMU 7.2 to 10.0), from
/// <c>query-migrate</c> and the MIGRATION event.
/// </summary>
public enum MigrationStatus
{
    /// <summary>A value this build does not know (a newer QEMU adds states, e.g. postcopy-device in 10.2).</summary>
    Unknown,
    /// <summary>No migration has run in this QEMU.</summary>
    None,
    Setup,
    Cancelling,
    Cancelled,
    Active,
    PostcopyActive,
    PostcopyPaused,
    /// <summary>Since QEMU 9.1.</summary>
    PostcopyRecoverSetup,
    PostcopyRecover,
    Completed,
    Failed,
    Colo,
    /// <summary>Held before switch-over (capability pause-before-switchover) until <c>migrate-continue</c>.</summary>
    PreSwitchover,
    /// <summary>The guest is stopped and device state is being sent: the switch-over.</summary>
    Device,
    WaitUnplug,
}
