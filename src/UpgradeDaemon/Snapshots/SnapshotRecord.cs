namespace LocalMigrate.UpgradeDaemon.Snapshots;

/// <summary>A snapshot as the daemon recorded it when it took it.</summary>
/// <param name="VmState">True: the guest's RAM and devices were saved too (revert returns a running guest to that instant).</param>
/// <param name="Disks">The image paths the snapshot was taken in, in definition order.</param>
public sealed record SnapshotRecord(string Name, DateTimeOffset Created, bool VmState, IReadOnlyList<string> Disks)
{
    /// <summary>
    /// null: the record agreed with the images when it was made or arrived. Otherwise what a remote migration's
    /// destination found different in <c>qemu-img info</c> from what the source sent (the record then says what the images hold).
    /// </summary>
    public string? Problem { get; init; }
}
