namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>A journal file that could not be used, by name and why; it was renamed to <see cref="SetAsideAs"/> (null when even that failed).</summary>
public sealed record MigrationJournalRejection(string File, string Reason, string? SetAsideAs);
