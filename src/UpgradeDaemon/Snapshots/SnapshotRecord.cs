namespace LocalMigrate.UpgradeDaemon.Snapshots;

/// <summary>A snapshot as the daemon recorded it when it took it.</summary>
/// <param name="VmState">True: the guest's RAM and devices were saved too (revert returns a running guest to that instant).</param>
/// <param name="Disks">The image paths the snapshot was taken in, in definition order.</param>
public sealed record SnapshotRecord(string Name, DateTimeOffset Created, bool VmState, IReadOnlyList<string> Disks);
