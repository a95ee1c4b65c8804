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

    /// <summary>
    /// A QEMU of this domain runs but the domain's definition cannot be read (found at start-up). It keeps running
    /// and can be stopped; start is refused until the definition is fixed or the domain undefined.
    /// </summary>
    Orphaned,
}
