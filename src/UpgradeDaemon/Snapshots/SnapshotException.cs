namespace LocalMigrate.UpgradeDaemon.Snapshots;

/// <summary>A snapshot operation that cannot be done on this domain as defined, or that QEMU/qemu-img refused.</summary>
public sealed class SnapshotException(string message, Exception? inner = null) : Exception(message, inner);
