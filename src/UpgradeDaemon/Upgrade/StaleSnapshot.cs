namespace LocalMigrate.UpgradeDaemon.Upgrade;

/// <summary>The last stale check of one instance, and the files it depended on as they were then.</summary>
internal sealed record StaleSnapshot(StaleReport Report, IReadOnlyDictionary<string, FileStamp> Files);
