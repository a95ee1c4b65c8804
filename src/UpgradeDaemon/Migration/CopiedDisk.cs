using LocalMigrate.Interop.Qmp.Monitor;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>One disk a remote migration copies (storage copy): mirrored from the source into an image the destination creates.</summary>
/// <param name="Index">Position in the definition's disks: node disk{Index} on both QEMUs.</param>
/// <param name="VirtualSize">Bytes the guest sees: the new image's size.</param>
/// <param name="Sync">full: every byte; top: only the top layer, over <paramref name="Backing"/>, which the destination has.</param>
/// <param name="Backing">The backing file and its format as the image header names them (sync top only).</param>
public sealed record CopiedDisk(int Index, long VirtualSize, MirrorSync Sync, (string Path, string Format)? Backing = null)
{
    public string NodeName => $"disk{Index}";

    /// <summary>The NBD export on the destination, the client node and the mirror job on the source.</summary>
    public string ExportName => $"lm-copy-disk{Index}";

    public string ClientNodeName => $"lm-nbd-disk{Index}";

    public string JobId => $"lm-mirror-disk{Index}";
}
