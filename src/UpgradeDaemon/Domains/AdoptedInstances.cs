namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>What a start-up scan found: live instances re-attached, by role, and the dirs it cleaned.</summary>
public sealed record AdoptedInstances(
    IReadOnlyList<DomainInstance> Active,
    IReadOnlyList<DomainInstance> Incoming,
    IReadOnlyList<string> RemovedStaleDirectories,
    IReadOnlyList<string> CrashedDomains);
