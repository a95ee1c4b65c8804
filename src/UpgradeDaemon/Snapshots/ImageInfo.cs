namespace LocalMigrate.UpgradeDaemon.Snapshots;

/// <summary>What <c>qemu-img info --output=json</c> says about one image (the fields snapshots and storage copy need).</summary>
public sealed record ImageInfo(string Filename, string Format, IReadOnlyList<ImageSnapshot> Snapshots)
{
    /// <summary>Bytes the guest sees.</summary>
    public long VirtualSize { get; init; }

    /// <summary>Bytes the image takes on its file system (sparse files: less than the virtual size).</summary>
    public long ActualSize { get; init; }

    /// <summary>The backing file as the image header names it; null without one.</summary>
    public string? BackingFilename { get; init; }

    public string? BackingFormat { get; init; }
}
