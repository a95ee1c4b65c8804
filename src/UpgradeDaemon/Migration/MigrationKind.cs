namespace LocalMigrate.UpgradeDaemon.Migration;

public enum MigrationKind
{
    /// <summary>Into a fresh QEMU process on this host.</summary>
    Local,

    /// <summary>A local migration onto the currently installed QEMU binary (package upgrade).</summary>
    Upgrade,

    /// <summary>To the daemon of another host (ssh, TLS or TCP).</summary>
    Remote,
}
