namespace LocalMigrate.UpgradeDaemon.Snapshots;

/// <summary>How the daemon's record of a snapshot compares with what the images hold.</summary>
public enum SnapshotStatus
{
    /// <summary>Recorded, and every recorded image has it.</summary>
    Ok,

    /// <summary>Recorded, but at least one recorded image lacks it (deleted or the image replaced behind the daemon's back).</summary>
    Missing,

    /// <summary>In an image, but the daemon never recorded it (taken with qemu-img or by hand).</summary>
    Untracked,
}
