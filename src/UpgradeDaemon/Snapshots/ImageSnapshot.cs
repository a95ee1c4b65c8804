namespace LocalMigrate.UpgradeDaemon.Snapshots;

/// <summary>One internal snapshot in an image's table, as <c>qemu-img info</c> reports it.</summary>
public sealed record ImageSnapshot(string Id, string Name, long VmStateSize, DateTimeOffset Date);
