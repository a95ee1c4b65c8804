namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>What start-up recovery did: instances kept (one per domain at most) and killed, domains found crashed, jobs ended.</summary>
public sealed record RecoveryReport(int Kept, int Killed, IReadOnlyList<string> CrashedDomains, IReadOnlyList<MigrationJob> RecoveredJobs,
    IReadOnlyList<MigrationJournalRejection> RejectedJournalFiles);
