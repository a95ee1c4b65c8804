using LocalMigrate.Interop.Qmp.Monitor;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>One disk a remote migration copies (storage copy): mirrored from the source into an image the destination creates.</summary>
/// <param name="Index">Position in the definition's disks: node disk{Index} on both QEMUs.</param>
/// <param name="VirtualSize">Bytes the guest sees: the new image's size.</param>
/// <param name="Sync">full: every byte; top: only the top layer, over <paramref name="Backing"/>, which the destination has.</param>
/// <param name="Backing">The backing file and its format as the image header names them (sync top only).</param>
/// <param name="BaseFileLength">
/// Non-zero: the qcow2 holds internal snapshots, so it travels as a file (this many bytes, byte for byte, frozen under a
/// temporary overlay) and only what the guest writes meanwhile is mirrored, into an overlay on the destination (DESIGN.md 6).
/// </param>
public sealed record CopiedDisk(int Index, long VirtualSize, MirrorSync Sync, (string Path, string Format)? Backing = null, long BaseFileLength = 0)
{
    public string NodeName => $"disk{Index}";

    /// <summary>
    /// On the source, a read-only file node of the frozen image of its own: a mirror reads only from a root node, and the
    /// image's file node (file{Index}) has the qcow2 node over it.
    /// </summary>
    public string BaseSourceNodeName => $"lm-srcbase-disk{Index}";

    /// <summary>The NBD export on the destination, the client node and the mirror job on the source.</summary>
    public string ExportName => $"lm-copy-disk{Index}";

    public string ClientNodeName => $"lm-nbd-disk{Index}";

    public string JobId => $"lm-mirror-disk{Index}";

    /// <summary>The disk's internal snapshots travel with it: its file is copied whole, its new writes through an overlay.</summary>
    public bool CarriesSnapshots => BaseFileLength > 0;

    /// <summary>The temporary overlay over the frozen image, on either host (qcow2 node and its file node).</summary>
    public string OverlayNodeName => $"lm-ovl-disk{Index}";

    public string OverlayFileNodeName => $"lm-ovlfile-disk{Index}";

    /// <summary>The export of the destination's raw file node the frozen image is written into, and the source's client and job.</summary>
    public string BaseExportName => $"lm-base-disk{Index}";

    public string BaseFileNodeName => $"lm-basefile-disk{Index}";

    public string BaseClientNodeName => $"lm-nbdbase-disk{Index}";

    public string BaseJobId => $"lm-mirror-base-disk{Index}";

    /// <summary>The job merging the overlay back into the image (the source after a rollback, the destination after the switch).</summary>
    public string CommitJobId => $"lm-commit-disk{Index}";

    /// <summary>Where the temporary overlay of the image at <paramref name="imagePath"/> lives: beside it, found again by name.</summary>
    public static string OverlayPathOf(string imagePath) => imagePath + ".lm-overlay";
}
