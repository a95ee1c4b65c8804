using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <param name="SourceWasRunning">Only a guest that ran before the job is resumed by a rollback.</param>
public sealed record BeginResult(DomainInstance Source, string TargetBinary, QemuBinaryInfo TargetInfo,
    bool IgnoreShared, bool SourceWasRunning);
