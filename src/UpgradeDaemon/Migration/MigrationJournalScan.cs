namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>What the journal dir held: the usable records, oldest first, and every file set aside.</summary>
public sealed record MigrationJournalScan(IReadOnlyList<MigrationJournalRecord> Records, IReadOnlyList<MigrationJournalRejection> Rejected);
