namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// What a start-up scan found, before anything is decided: which instance of a domain holds the guest is
/// <see cref="Migration.MigrationRecovery"/>'s decision, from the journal and QEMU's own state, never the scan's.
/// </summary>
/// <param name="Live">Running, attributed to a defined domain, QMP connected; not registered yet.</param>
/// <param name="Gone">instance.json of processes that ended while no daemon watched; their dirs were removed.</param>
/// <param name="Unreachable">Running but QMP does not answer: never killed, never adopted; dirs kept.</param>
/// <param name="Orphaned">Running QEMUs whose domain definition cannot be read: adopted as state orphaned.</param>
public sealed record AdoptedInstances(
    IReadOnlyList<DomainInstance> Live,
    IReadOnlyList<InstanceRecord> Gone,
    IReadOnlyList<InstanceRecord> Unreachable,
    IReadOnlyList<string> Orphaned,
    IReadOnlyList<string> RemovedStaleDirectories)
{
    /// <summary>Targets of remote migrations into this host, with their incoming journal record: not registered anywhere yet.</summary>
    public IReadOnlyList<(Remote.IncomingRecord Record, DomainInstance Target)> RemoteIncoming { get; init; } = [];
}
