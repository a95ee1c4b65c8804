using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// A domain as every caller sees it: its definition and at most one active instance. A migration target is
/// not here but in the <see cref="ShadowRegistry"/> until Confirm swaps it in through the registry.
/// </summary>
public sealed class Domain(DomainDefinition definition)
{
    /// <summary>Held by whoever changes the domain's instances (start, stop, a migration job): one at a time.</summary>
    public SemaphoreSlim Lock { get; } = new(1, 1);

    public DomainDefinition Definition { get; internal set; } = definition;
    public string Name => Definition.Name;
    public DomainInstance? Active { get; internal set; }
    public DomainState State { get; internal set; } = DomainState.Shutoff;

    /// <summary>The job running on this domain, if any.</summary>
    public MigrationJob? Job { get; internal set; }

    public MigrationJob? LastJob { get; internal set; }

    /// <summary>What holds <see cref="Lock"/> other than a migration job (e.g. "snapshot create s1"), for busy messages.</summary>
    public string? Operation { get; internal set; }

    /// <summary>Not stored on disk (a remote migration with persistent false): it is forgotten once it stops.</summary>
    public bool Transient { get; init; }

    /// <summary>Set on a domain made up at start-up for a running QEMU whose definition file cannot be read: why not.</summary>
    public string? DefinitionError { get; init; }
}
