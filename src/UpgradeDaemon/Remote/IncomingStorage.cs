using System.Net;
using System.Net.Sockets;
using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;
using LocalMigrate.UpgradeDaemon.Snapshots;

namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>
/// The destination's half of storage copy (DESIGN.md 6): the images are created before the target starts (so it opens
/// them like any disk), exported writable over NBD from the paused target with the stream's TLS credentials, the export
/// removed before the guest resumes, and the images deleted again when the job does not commit.
/// </summary>
internal static class IncomingStorage
{
    /// <summary>
    /// Pre-flight of the copied disks: an image is never overwritten (a file there is another guest's, or a copy of a
    /// shared disk: mark it shared), its directory must exist, and a top-layer copy needs its backing file here.
    /// </summary>
    public static IEnumerable<string> Check(DomainDefinition definition, IReadOnlyList<CopiedDisk> disks)
    {
        foreach (var copied in disks)
        {
            var disk = definition.Disks[copied.Index];
            if (disk.Shared || disk.ReadOnly)
                yield return $"disks[{copied.Index}] {disk.Path} is {(disk.Shared ? "shared" : "read-only")}: it is not copied, it must be here";
            else if (File.Exists(disk.Path))
                yield return $"disks[{copied.Index}] {disk.Path} exists here: storage copy never overwrites an image (if it is on shared storage, mark the disk shared)";
            else if (Path.GetDirectoryName(disk.Path) is { } directory && !Directory.Exists(directory))
                yield return $"disks[{copied.Index}] {disk.Path}: directory {directory} does not exist here";
            if (copied.CarriesSnapshots && disk.Format != "qcow2")
                yield return $"disks[{copied.Index}] is {disk.Format}: only a qcow2 image carries internal snapshots";
            if (copied.CarriesSnapshots && File.Exists(CopiedDisk.OverlayPathOf(disk.Path)))
                yield return $"disks[{copied.Index}]: {CopiedDisk.OverlayPathOf(disk.Path)} exists here (an overlay an earlier job left?): storage copy never overwrites it";
            if (copied.Backing is { } backing)
            {
                if (disk.Format != "qcow2")
                    yield return $"disks[{copied.Index}] is {disk.Format}: only a qcow2 image has a backing file to copy the top layer over";
                var resolved = Path.IsPathRooted(backing.Path) ? backing.Path : Path.Combine(Path.GetDirectoryName(disk.Path) ?? "/", backing.Path);
                if (!File.Exists(resolved))
                    yield return $"disks[{copied.Index}]: copyStorage inc needs its backing file {resolved} here";
            }
        }
    }

    /// <summary>Creates the images; on failure deletes the ones it made and rethrows.</summary>
    /// <returns>The paths created, for the journal (Abort deletes them).</returns>
    public static async Task<IReadOnlyList<string>> CreateImagesAsync(string qemuImg, DomainDefinition definition, IReadOnlyList<CopiedDisk> disks,
        CancellationToken cancellationToken)
    {
        var created = new List<string>();
        try
        {
            foreach (var copied in disks)
            {
                var disk = definition.Disks[copied.Index];
                await QemuImg.CreateAsync(qemuImg, disk.Path, disk.Format, copied.VirtualSize, copied.Backing, cancellationToken).ConfigureAwait(false);
                created.Add(disk.Path);
                if (!copied.CarriesSnapshots)
                    continue;
                // A valid image for the paused target to open (inactive, never read for data), as long as the file the
                // source copies into it byte for byte; the target re-reads it when it becomes active at cont.
                await using (var file = new FileStream(disk.Path, FileMode.Open, FileAccess.Write))
                {
                    if (file.Length > copied.BaseFileLength)
                        throw new SnapshotException($"disks[{copied.Index}]: the source's image is {copied.BaseFileLength} bytes, less than an empty qcow2 here");
                    file.SetLength(copied.BaseFileLength);
                }
                var overlay = CopiedDisk.OverlayPathOf(disk.Path);
                await QemuImg.CreateAsync(qemuImg, overlay, "qcow2", copied.VirtualSize, (disk.Path, "qcow2"), cancellationToken).ConfigureAwait(false);
                created.Add(overlay);
            }
            return created;
        }
        catch
        {
            DeleteImages(created);
            throw;
        }
    }

    /// <summary>
    /// NBD server on <paramref name="listenAddress"/> and one writable export per copied disk. nbd-server-start cannot take
    /// port 0 and report it, so a free port is found first (and another tried if it was taken meanwhile).
    /// </summary>
    public static async Task<int> ExportAsync(DomainInstance target, string listenAddress, IReadOnlyList<CopiedDisk> disks, StreamSecurity security,
        CancellationToken cancellationToken)
    {
        var creds = security == StreamSecurity.None ? null : Transport.QemuMigrationTls.CredsId;
        var authz = security == StreamSecurity.X509 ? Transport.QemuMigrationTls.AuthzId : null;
        var port = 0;
        for (var attempt = 1; ; attempt++)
        {
            port = FreePort(listenAddress);
            try
            {
                await target.Monitor.NbdServerStartAsync(listenAddress, port, creds, authz, cancellationToken: cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (QmpExecuteException) when (attempt < 5)
            {
                // Taken between the probe and the bind.
            }
        }
        foreach (var disk in disks.Where(d => d.CarriesSnapshots))
        {
            // Exporting a node activates it: the image's qcow2 node must stay inactive until cont, so that it reads the copied
            // file then, not the placeholder it opened. The file arrives through its own raw node; the guest's new writes into
            // an overlay with no backing yet, attached over the image at the commit (AttachOverlaysAsync).
            var path = target.Definition.Disks[disk.Index].Path;
            await target.Monitor.BlockdevAddFileAsync(disk.BaseFileNodeName, path, cancellationToken: cancellationToken).ConfigureAwait(false);
            await target.Monitor.BlockExportAddNbdAsync(disk.BaseExportName, disk.BaseFileNodeName, disk.BaseExportName, writable: true,
                cancellationToken: cancellationToken).ConfigureAwait(false);
            await target.Monitor.BlockdevAddQcow2OverlayAsync(disk.OverlayNodeName, disk.OverlayFileNodeName, CopiedDisk.OverlayPathOf(path),
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        if (disks.Any(d => d.CarriesSnapshots))
            await target.Monitor.MigrateSetCapabilitiesAsync([new MigrationCapabilityStatus(MigrationCapability.LateBlockActivate, true)],
                cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var disk in disks)
        {
            var node = disk.CarriesSnapshots ? disk.OverlayNodeName : disk.NodeName;
            await target.Monitor.BlockExportAddNbdAsync(disk.ExportName, node, disk.ExportName, writable: true, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }
        return port;
    }

    /// <summary>
    /// At the commit, the exports gone and the guest not yet resumed: the raw node the image's file came through goes, and
    /// each overlay goes over its image (the guest's disk from now on). Idempotent for recovery: done once the raw node is gone.
    /// </summary>
    public static async Task AttachOverlaysAsync(DomainInstance target, IReadOnlyList<int> snapshotDisks)
    {
        var nodes = await target.Monitor.QueryNamedBlockNodeNamesAsync().ConfigureAwait(false);
        foreach (var disk in snapshotDisks.Select(Carried))
        {
            if (!nodes.Contains(disk.BaseFileNodeName))
                continue;
            await target.Monitor.BlockdevDelAsync(disk.BaseFileNodeName).ConfigureAwait(false);
            await target.Monitor.BlockdevSnapshotAsync(disk.NodeName, disk.OverlayNodeName).ConfigureAwait(false);
        }
    }

    /// <summary>After cont: each overlay merged into its image, which is the guest's disk again (one qcow2, its snapshots intact).</summary>
    public static async Task MergeOverlaysAsync(DomainInstance target, IReadOnlyList<int> snapshotDisks, CancellationToken cancellationToken)
    {
        foreach (var disk in snapshotDisks.Select(Carried))
            await OverlayMerge.MergeAsync(target.Monitor, disk, CopiedDisk.OverlayPathOf(target.Definition.Disks[disk.Index].Path), cancellationToken)
                .ConfigureAwait(false);
    }

    private static CopiedDisk Carried(int index) => new(index, 0, MirrorSync.Full, BaseFileLength: 1);

    /// <summary>Before the guest resumes here: the exports and the server go (the source dropped its client nodes at the switch).</summary>
    public static async Task UnexportAsync(DomainInstance target)
    {
        try
        {
            await target.Monitor.NbdServerStopAsync().ConfigureAwait(false);
        }
        catch (QmpExecuteException)
        {
            // Not running: a restart after the commit, or an export never made.
        }
    }

    /// <summary>Deletes what a Prepare created, last first: an overlay goes before the image it is layered on, so an image
    /// that is gone never leaves an overlay behind for an observer to find.</summary>
    public static void DeleteImages(IEnumerable<string> paths)
    {
        foreach (var path in paths.Reverse())
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Reported by the caller's log of the abort; a leftover file is refused by the next Prepare, never reused.
            }
        }
    }

    private static int FreePort(string listenAddress)
    {
        using var probe = new TcpListener(IPAddress.TryParse(listenAddress, out var address) ? address : IPAddress.Any, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
