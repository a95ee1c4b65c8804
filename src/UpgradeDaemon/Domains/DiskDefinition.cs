namespace LocalMigrate.UpgradeDaemon.Domains;

/// <param name="Shared">Attached with share-rw=on (a cluster file system or a disk written by several guests).</param>
public sealed record DiskDefinition(string Path, string Format, bool ReadOnly, bool Shared);
