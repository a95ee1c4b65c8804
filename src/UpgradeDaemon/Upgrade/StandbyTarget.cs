using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Upgrade;

/// <summary>
/// A target QEMU started ahead of a local migration (<c>-incoming defer</c>, in the shadow registry), bound to what it
/// was built for: the source instance, the definition that instance runs, the binary and the x-ignore-shared choice.
/// A migration takes it only when all of them still hold.
/// </summary>
public sealed record StandbyTarget(DomainInstance Target, string SourceInstanceId, DomainDefinition Definition, string Binary,
    bool IgnoreShared, DateTimeOffset ReadyAt)
{
    /// <summary>The migration settings of a job without options, already applied to the standby.</summary>
    public Migration.AppliedTuning? TargetTuned { get; init; }

    /// <summary>The same for its source: settings a QEMU holds until they are set again, and only a job sets them.</summary>
    public Migration.AppliedTuning? SourceTuned { get; init; }
}
