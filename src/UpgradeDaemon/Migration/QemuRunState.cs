namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>QEMU's run state (query-status, qapi/run-state.json), in the classes recovery tells apart.</summary>
public enum QemuRunState
{
    /// <summary><c>running</c>: the vCPUs run the guest.</summary>
    Running,

    /// <summary>Stopped but holding the guest: <c>paused</c>, <c>suspended</c>, <c>io-error</c>, <c>shutdown</c>, <c>guest-panicked</c> and the rest.</summary>
    Paused,

    /// <summary><c>finish-migrate</c>: the source stopped its vCPUs to send the last of the guest.</summary>
    FinishMigrate,

    /// <summary><c>postmigrate</c>: the source sent the whole guest; its copy is intact but stopped.</summary>
    Postmigrate,

    /// <summary><c>inmigrate</c>: a target still waiting for (or loading) the stream: it holds no guest yet.</summary>
    Inmigrate,
}
