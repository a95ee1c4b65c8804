namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// Bounds on a domain definition, checked before anything is allocated for its content, so a hostile or broken
/// document costs the daemon at most a few MiB (issue 11: 31 MB with 10 million NICs was stored as a 1 GB file
/// and left the daemon at 6 GB RSS). The CLI links this file and reads at most <see cref="MaxDocumentBytes"/> + 1
/// bytes of a file, so the two cannot disagree.
/// </summary>
internal static class DefinitionLimits
{
    /// <summary>
    /// UTF-8 bytes of one definition. A real one is under 2 KiB; the largest valid one (every path at
    /// <see cref="MaxStringBytes"/>, <see cref="MaxPciDevices"/> disks) is ~140 KiB, and stored (the writer escapes
    /// non-ASCII and HTML characters, up to 6 bytes for 1) still under this limit, so a stored file always loads again.
    /// </summary>
    public const int MaxDocumentBytes = 1024 * 1024;

    /// <summary>
    /// Disks and NICs are each one PCI device on the machine's root bus (no bridges are added): q35 and pc both have
    /// 30 free slots with -nodefaults (slot 0 is the host bridge, one more the ISA bridge); the 31st device fails with
    /// QEMU's "PCI: no slot/function available" (measured with QEMU 7.2).
    /// </summary>
    public const int MaxPciDevices = 30;

    /// <summary>Any string field, in UTF-8 bytes: PATH_MAX (4096 with its NUL) for paths; x86 Linux keeps 2048 bytes of a command line.</summary>
    public const int MaxStringBytes = 4095;
}
