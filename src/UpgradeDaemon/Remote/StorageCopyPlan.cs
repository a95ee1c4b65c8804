using System.Globalization;
using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;
using LocalMigrate.UpgradeDaemon.Snapshots;

namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>
/// Which disks a remote migration copies, and how (DESIGN.md 6), and their form in Peer.Prepare's options
/// (<c>copyDisks</c>, <c>copyBackings</c>). Shared disks are on storage both hosts see; read-only ones (install media,
/// golden images) are never written, so the destination must have them, as without storage copy.
/// </summary>
public static class StorageCopyPlan
{
    /// <summary>The disks to copy, read from the images themselves (qemu-img info, which a running QEMU's lock allows).</summary>
    /// <exception cref="MigrationException">A disk that cannot be read, or snapshots in an image that is not qcow2.</exception>
    public static async Task<IReadOnlyList<CopiedDisk>> ForSourceAsync(DomainDefinition definition, CopyStorage mode, string qemuImg,
        CancellationToken cancellationToken)
    {
        if (mode == CopyStorage.None)
            return [];
        var disks = new List<CopiedDisk>();
        for (var i = 0; i < definition.Disks.Count; i++)
        {
            var disk = definition.Disks[i];
            if (disk.Shared || disk.ReadOnly)
                continue;
            ImageInfo info;
            try
            {
                info = await QemuImg.InfoAsync(qemuImg, disk.Path, cancellationToken).ConfigureAwait(false);
            }
            catch (SnapshotException e)
            {
                throw new MigrationException(MigrationPhase.Prepare, $"disks[{i}] {disk.Path}: {e.Message}", e);
            }
            var top = mode == CopyStorage.Inc && info.BackingFilename is { } backing
                ? (backing, info.BackingFormat ?? "raw")
                : ((string, string)?)null;
            // Internal snapshots (table, L1s, VM state) live in the qcow2 file and a mirror copies only what the guest
            // sees: such an image travels as a file, frozen under an overlay while it is copied (StorageMirror).
            var baseLength = info.Snapshots.Count > 0 ? new FileInfo(disk.Path).Length : 0;
            if (baseLength > 0 && info.Format != "qcow2")
                throw new MigrationException(MigrationPhase.Prepare, $"disks[{i}] {disk.Path}: internal snapshots in a {info.Format} image cannot be carried");
            disks.Add(new CopiedDisk(i, info.VirtualSize, top is null ? MirrorSync.Full : MirrorSync.Top, top, baseLength));
        }
        return disks;
    }

    public static string[] DiskEntries(IEnumerable<CopiedDisk> disks) =>
        disks.Select(d => string.Create(CultureInfo.InvariantCulture,
            $"{d.Index}:{d.VirtualSize}:{d.Sync.ToQapiString()}{(d.CarriesSnapshots ? $":{d.BaseFileLength}" : "")}")).ToArray();

    public static string[] BackingEntries(IEnumerable<CopiedDisk> disks) =>
        disks.Where(d => d.Backing is not null)
            .Select(d => string.Create(CultureInfo.InvariantCulture, $"{d.Index}:{d.Backing!.Value.Format}:{d.Backing.Value.Path}")).ToArray();

    /// <summary>The destination's reading of the two option arrays, checked against the definition.</summary>
    /// <exception cref="ArgumentException">Every malformed entry, named.</exception>
    public static IReadOnlyList<CopiedDisk> Parse(IReadOnlyList<string> diskEntries, IReadOnlyList<string> backingEntries, int diskCount)
    {
        var errors = new List<string>();
        var disks = new Dictionary<int, CopiedDisk>();
        foreach (var entry in diskEntries)
        {
            var parts = entry.Split(':');
            // A fourth field: the image carries internal snapshots and its file, this many bytes, is copied whole.
            var baseLength = 0L;
            if (parts.Length is 3 or 4 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < diskCount
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0
                && (parts.Length == 3 || long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out baseLength) && baseLength > 0)
                && QapiEnum.Parse<MirrorSync>(parts[2]) is var sync && sync != MirrorSync.Unknown
                && disks.TryAdd(index, new CopiedDisk(index, size, sync, BaseFileLength: baseLength)))
                continue;
            errors.Add($"option copyDisks: bad entry '{entry}' (expected INDEX:VIRTUALSIZE:full|top[:FILEBYTES], each disk once, index below {diskCount})");
        }
        foreach (var entry in backingEntries)
        {
            var parts = entry.Split(':', 3);
            if (parts.Length == 3 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                && disks.TryGetValue(index, out var disk) && disk.Sync == MirrorSync.Top && parts[1] is "raw" or "qcow2" && parts[2].Length > 0)
            {
                disks[index] = disk with { Backing = (parts[2], parts[1]) };
                continue;
            }
            errors.Add($"option copyBackings: bad entry '{entry}' (expected INDEX:raw|qcow2:PATH of a copyDisks entry with sync top)");
        }
        foreach (var disk in disks.Values.Where(d => d.Sync == MirrorSync.Top && d.Backing is null))
            errors.Add($"option copyDisks: disk {disk.Index} syncs top but copyBackings names no backing file for it");
        return errors.Count == 0 ? disks.Values.OrderBy(d => d.Index).ToList() : throw new ArgumentException(string.Join("; ", errors));
    }
}
