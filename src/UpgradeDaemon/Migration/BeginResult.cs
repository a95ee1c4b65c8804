using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <param name="SourceWasRunning">Only a guest that ran before the job is resumed by a rollback.</param>
public sealed record BeginResult(DomainInstance Source, string TargetBinary, QemuBinaryInfo TargetInfo,
    bool IgnoreShared, bool SourceWasRunning)
{
    /// <summary>The options as capabilities and parameters for both sides (see <see cref="MigrationTuning"/>).</summary>
    public MigrationTuning? Tuning { get; init; }
}
