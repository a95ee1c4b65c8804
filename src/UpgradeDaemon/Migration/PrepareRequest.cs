using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <param name="IgnoreShared">Both sides must agree on x-ignore-shared: the target then expects no RAM pages.</param>
public sealed record PrepareRequest(string JobId, DomainDefinition Definition, string Binary, bool IgnoreShared)
{
    /// <summary>The target's capabilities and parameters (MigrationTuning.Target); null: events and x-ignore-shared only.</summary>
    public MigrationSideTuning? TargetTuning { get; init; }
}
