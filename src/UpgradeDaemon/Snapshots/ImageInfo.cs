namespace LocalMigrate.UpgradeDaemon.Snapshots;

/// <summary>What <c>qemu-img info --output=json</c> says about one image (the fields snapshots need).</summary>
public sealed record ImageInfo(string Filename, string Format, IReadOnlyList<ImageSnapshot> Snapshots);
