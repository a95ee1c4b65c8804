namespace LocalMigrate.UpgradeDaemon.Snapshots;

/// <summary>One line of a snapshot list: the record (or what the images say, for an untracked one) and how they agree.</summary>
/// <param name="Disks">For a recorded snapshot the recorded images; for an untracked one the images that hold it.</param>
/// <param name="MissingFrom">Recorded images that lack the snapshot.</param>
public sealed record SnapshotListing(string Name, DateTimeOffset Created, bool VmState, IReadOnlyList<string> Disks,
    SnapshotStatus Status, IReadOnlyList<string> MissingFrom);
