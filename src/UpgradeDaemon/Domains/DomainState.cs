namespace LocalMigrate.UpgradeDaemon.Domains;

public enum DomainState
{
    /// <summary>Defined, no QEMU.</summary>
    Shutoff,
    Starting,
    Running,
    Paused,
    Stopping,

    /// <summary>QEMU ended without the daemon asking: reported, never silently restarted.</summary>
    Crashed,
}
