using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Upgrade;

/// <summary>
/// A target QEMU started ahead of a local migration (<c>-incoming defer</c>, in the shadow registry), bound to what it
/// was built for: the source instance, the definition that instance runs, the binary and the x-ignore-shared choice.
/// A migration takes it only when all of them still hold.
/// </summary>
public sealed record StandbyTarget(DomainInstance Target, string SourceInstanceId, DomainDefinition Definition, string Binary,
    bool IgnoreShared, DateTimeOffset ReadyAt);
