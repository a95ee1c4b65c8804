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

    /// <summary>
    /// A QEMU of this domain runs but its QMP socket does not answer (found at start-up). Start is refused, so
    /// a second copy of the guest can never boot beside it.
    /// </summary>
    Unreachable,
}
