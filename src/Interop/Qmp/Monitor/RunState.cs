namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>QEMU's run state (qapi/run-state.json <c>RunState</c>), as <c>query-status</c> reports it.</summary>
public enum RunState
{
    /// <summary>A value this build does not know (a newer QEMU), or none at all.</summary>
    Unknown,
    Debug,
    /// <summary>Waiting for an incoming migration (<c>-incoming</c>).</summary>
    Inmigrate,
    InternalError,
    IoError,
    Paused,
    /// <summary>The guest was migrated away; this QEMU holds a stale copy.</summary>
    Postmigrate,
    Prelaunch,
    FinishMigrate,
    RestoreVm,
    Running,
    SaveVm,
    Shutdown,
    Suspended,
    Watchdog,
    GuestPanicked,
    Colo,
}
