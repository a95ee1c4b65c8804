using System.Text.RegularExpressions;
using LocalMigrate.Interop.Qmp;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Hosting;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Snapshots;

/// <summary>
/// qcow2 internal snapshots of a domain: with the VM state (a running guest returns to that instant on revert) or of
/// its disks only. Running: through QMP on the active QEMU. Shut off: with qemu-img. Each change holds the domain's
/// lock, so it never overlaps a migration, a start or a stop.
/// </summary>
public sealed partial class SnapshotService(DomainRegistry registry, DaemonOptions options, TimeProvider time, ILogger<SnapshotService> logger)
{
    /// <summary>A VM-state save or load of a large guest under load: minutes, not seconds.</summary>
    private static readonly TimeSpan QmpJobTimeout = TimeSpan.FromMinutes(10);

    public SnapshotCatalog Catalog { get; } = new(options.StateDirectory);

    /// <exception cref="DomainNotFoundException"/>
    /// <exception cref="DomainBusyException">A migration or another request holds the domain.</exception>
    /// <exception cref="ArgumentException">A bad snapshot name, or one that exists.</exception>
    /// <exception cref="SnapshotException">A disk cannot hold the snapshot (raw, shared), or QEMU refused.</exception>
    public async Task CreateAsync(string domainName, string snapshot, bool diskOnly, CancellationToken cancellationToken)
    {
        CheckName(snapshot);
        var domain = registry.Get(domainName);
        Enter(domain, $"snapshot create {snapshot}");
        try
        {
            var definition = domain.Definition;
            var instance = domain.Active;
            if (!diskOnly && instance is null)
                throw new SnapshotException($"domain {domainName} is not running: a VM-state snapshot needs a running guest (use --disk-only for its disks alone)");
            var disks = SnapshotDisks(definition, diskOnly ? "a disk-only snapshot" : "a VM-state snapshot");
            var records = Catalog.Read(definition.Uuid);
            if (records.Any(r => r.Name == snapshot))
                throw new ArgumentException($"snapshot: domain {domainName} already has a snapshot '{snapshot}'");
            var qemuImg = QemuImg.For(definition.Qemu ?? options.QemuBinary);
            foreach (var (_, disk) in disks)
            {
                var info = await QemuImg.InfoAsync(qemuImg, disk.Path, cancellationToken).ConfigureAwait(false);
                if (info.Snapshots.Any(s => s.Name == snapshot))
                    throw new ArgumentException($"snapshot: image {disk.Path} already holds a snapshot '{snapshot}' (untracked: delete it first)");
            }

            var nodes = disks.Select(d => DiskNode(d.Index)).ToList();
            if (instance is null)
            {
                foreach (var (_, disk) in disks)
                    await QemuImg.SnapshotAsync(qemuImg, 'c', snapshot, disk.Path, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                using var deadline = Deadline(cancellationToken);
                if (diskOnly)
                {
                    await SnapshotQmp.CreateInternalAsync(instance.Qmp, snapshot, nodes, deadline.Token).ConfigureAwait(false);
                }
                else
                {
                    await SnapshotQmp.SaveRamWithVmStateAsync(instance.Qmp, deadline.Token).ConfigureAwait(false);
                    await SnapshotQmp.SaveAsync(instance.Qmp, snapshot, nodes[0], nodes, deadline.Token).ConfigureAwait(false);
                }
            }
            var record = new SnapshotRecord(snapshot, time.GetUtcNow(), !diskOnly, disks.Select(d => d.Disk.Path).ToList());
            Catalog.Write(definition.Uuid, [.. records, record]);
            LogCreated(domainName, snapshot, !diskOnly);
        }
        finally
        {
            Leave(domain);
        }
    }

    /// <summary>The daemon's records beside what the images hold: a disagreement is listed, never hidden.</summary>
    public async Task<IReadOnlyList<SnapshotListing>> ListAsync(string domainName, CancellationToken cancellationToken)
    {
        var domain = registry.Get(domainName);
        var definition = domain.Definition;
        var records = Catalog.Read(definition.Uuid);
        var images = await ReadImagesAsync(definition, records, cancellationToken).ConfigureAwait(false);
        return Compare(records, images);
    }

    /// <summary>Pure: the records against each image's snapshot table (path → snapshots), in record order, then untracked by name.</summary>
    public static IReadOnlyList<SnapshotListing> Compare(IReadOnlyList<SnapshotRecord> records, IReadOnlyDictionary<string, IReadOnlyList<ImageSnapshot>> images)
    {
        var listings = new List<SnapshotListing>();
        foreach (var record in records)
        {
            var missingFrom = record.Disks.Where(path => !images.TryGetValue(path, out var table) || table.All(s => s.Name != record.Name)).ToList();
            listings.Add(new SnapshotListing(record.Name, record.Created, record.VmState, record.Disks,
                missingFrom.Count == 0 ? SnapshotStatus.Ok : SnapshotStatus.Missing, missingFrom));
        }
        var recorded = records.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        var untracked = images.SelectMany(image => image.Value.Select(s => (Path: image.Key, Snapshot: s)))
            .Where(x => !recorded.Contains(x.Snapshot.Name))
            .GroupBy(x => x.Snapshot.Name, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var group in untracked)
        {
            listings.Add(new SnapshotListing(group.Key, group.Min(x => x.Snapshot.Date), group.Any(x => x.Snapshot.VmStateSize > 0),
                group.Select(x => x.Path).Distinct().ToList(), SnapshotStatus.Untracked, []));
        }
        return listings;
    }

    /// <exception cref="ArgumentException">No such recorded snapshot.</exception>
    /// <exception cref="SnapshotException">The snapshot is missing from an image, or cannot be reverted in this state.</exception>
    public async Task RevertAsync(string domainName, string snapshot, CancellationToken cancellationToken)
    {
        CheckName(snapshot);
        var domain = registry.Get(domainName);
        Enter(domain, $"snapshot revert {snapshot}");
        try
        {
            var definition = domain.Definition;
            var records = Catalog.Read(definition.Uuid);
            var record = records.FirstOrDefault(r => r.Name == snapshot)
                ?? throw new ArgumentException($"snapshot: domain {domainName} has no recorded snapshot '{snapshot}' (see snapshot list)");
            var listing = Compare([record], await ReadImagesAsync(definition, [record], cancellationToken).ConfigureAwait(false))[0];
            if (listing.Status != SnapshotStatus.Ok)
                throw new SnapshotException($"snapshot '{snapshot}' of domain {domainName} is missing from {string.Join(", ", listing.MissingFrom)}: not reverted");
            var indexes = record.Disks.Select(path => IndexOf(definition, path, snapshot)).ToList();
            var instance = domain.Active;
            if (instance is null)
            {
                if (record.VmState)
                    throw new SnapshotException($"snapshot '{snapshot}' holds a VM state: start domain {domainName} first, then revert (reverting its disks alone would not match the saved guest)");
                var qemuImg = QemuImg.For(definition.Qemu ?? options.QemuBinary);
                foreach (var path in record.Disks)
                    await QemuImg.SnapshotAsync(qemuImg, 'a', snapshot, path, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                if (!record.VmState)
                    throw new SnapshotException($"snapshot '{snapshot}' is disk-only: revert it while domain {domainName} is shut off (a running guest would see its disks change under it)");
                using var deadline = Deadline(cancellationToken);
                var nodes = indexes.Select(DiskNode).ToList();
                await SnapshotQmp.SaveRamWithVmStateAsync(instance.Qmp, deadline.Token).ConfigureAwait(false);
                try
                {
                    await SnapshotQmp.LoadAsync(instance.Qmp, snapshot, nodes[0], nodes, deadline.Token).ConfigureAwait(false);
                }
                catch (SnapshotException e)
                {
                    // QEMU stops the guest before loading and resumes it only on success: after a failure part of the
                    // RAM may already be the snapshot's, so the daemon does not resume it; the operator must know.
                    var status = (await instance.Monitor.QueryStatusAsync().ConfigureAwait(false)).ToQapiString();
                    throw new SnapshotException($"{e.Message}; the guest is now {status} and may hold part of the snapshot's state: " +
                        "revert again, or stop it (stop --force)", e);
                }
            }
            LogReverted(domainName, snapshot);
        }
        finally
        {
            Leave(domain);
        }
    }

    /// <summary>Deletes a recorded or untracked snapshot from every image that holds it, then its record.</summary>
    /// <exception cref="ArgumentException">Neither recorded nor in any image.</exception>
    public async Task DeleteAsync(string domainName, string snapshot, CancellationToken cancellationToken)
    {
        CheckName(snapshot);
        var domain = registry.Get(domainName);
        Enter(domain, $"snapshot delete {snapshot}");
        try
        {
            var definition = domain.Definition;
            var records = Catalog.Read(definition.Uuid);
            var images = await ReadImagesAsync(definition, records, cancellationToken).ConfigureAwait(false);
            var holders = images.Where(i => i.Value.Any(s => s.Name == snapshot)).Select(i => i.Key).ToList();
            if (holders.Count == 0 && records.All(r => r.Name != snapshot))
                throw new ArgumentException($"snapshot: domain {domainName} has no snapshot '{snapshot}' (see snapshot list)");
            var instance = domain.Active;
            if (holders.Count > 0)
            {
                if (instance is null)
                {
                    var qemuImg = QemuImg.For(definition.Qemu ?? options.QemuBinary);
                    foreach (var path in holders)
                        await QemuImg.SnapshotAsync(qemuImg, 'd', snapshot, path, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    var nodes = holders.Select(path => DiskNode(IndexOf(definition, path, snapshot))).ToList();
                    using var deadline = Deadline(cancellationToken);
                    await SnapshotQmp.DeleteAsync(instance.Qmp, snapshot, nodes, deadline.Token).ConfigureAwait(false);
                }
            }
            Catalog.Write(definition.Uuid, records.Where(r => r.Name != snapshot).ToList());
            LogDeleted(domainName, snapshot);
        }
        finally
        {
            Leave(domain);
        }
    }

    /// <summary>Letters, digits, '.', '_', '-'; not all digits, since QEMU also matches a tag against snapshot ids.</summary>
    public static void CheckName(string snapshot)
    {
        if (!SnapshotName().IsMatch(snapshot))
            throw new ArgumentException($"snapshot: '{snapshot}' is not a snapshot name (1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit)");
        if (snapshot.All(char.IsAsciiDigit))
            throw new ArgumentException($"snapshot: '{snapshot}' is all digits, which QEMU would take for a snapshot id; add a letter");
    }

    /// <summary>The writable disks a snapshot covers; each must be a private qcow2 image.</summary>
    private static List<(int Index, DiskDefinition Disk)> SnapshotDisks(DomainDefinition definition, string what)
    {
        var disks = definition.Disks.Select((disk, index) => (Index: index, Disk: disk)).Where(d => !d.Disk.ReadOnly).ToList();
        if (disks.Count == 0)
            throw new SnapshotException($"domain {definition.Name} has no writable disk: {what} needs a writable qcow2 disk to live in");
        foreach (var (index, disk) in disks)
        {
            if (disk.Format != "qcow2")
                throw new SnapshotException($"disk {index} ({disk.Path}) is {disk.Format}: {what} needs every writable disk to be qcow2 (internal snapshots live in the image)");
            if (disk.Shared)
                throw new SnapshotException($"disk {index} ({disk.Path}) is shared: another writer would make {what} of it inconsistent");
        }
        return disks;
    }

    /// <summary>Each writable qcow2 disk of the definition and each recorded image, with its snapshot table (empty when unreadable as qcow2).</summary>
    private async Task<IReadOnlyDictionary<string, IReadOnlyList<ImageSnapshot>>> ReadImagesAsync(DomainDefinition definition,
        IReadOnlyList<SnapshotRecord> records, CancellationToken cancellationToken)
    {
        var qemuImg = QemuImg.For(definition.Qemu ?? options.QemuBinary);
        var paths = definition.Disks.Where(d => !d.ReadOnly && d.Format == "qcow2").Select(d => d.Path)
            .Concat(records.SelectMany(r => r.Disks)).Distinct(StringComparer.Ordinal);
        var images = new Dictionary<string, IReadOnlyList<ImageSnapshot>>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            // A recorded image that is gone or unreadable holds none of its snapshots: listed as missing, not an error.
            images[path] = File.Exists(path) ? (await QemuImg.InfoAsync(qemuImg, path, cancellationToken).ConfigureAwait(false)).Snapshots : [];
        }
        return images;
    }

    private static int IndexOf(DomainDefinition definition, string path, string snapshot)
    {
        for (var i = 0; i < definition.Disks.Count; i++)
        {
            if (definition.Disks[i].Path == path)
                return i;
        }
        throw new SnapshotException($"snapshot '{snapshot}' was taken of {path}, which is no longer a disk of domain {definition.Name}");
    }

    /// <summary>The qcow2 format node of disk <paramref name="index"/>, as <see cref="QemuCommandLine"/> names it.</summary>
    private static string DiskNode(int index) => $"disk{index}";

    private static void Enter(Domain domain, string operation)
    {
        if (!domain.Lock.Wait(TimeSpan.Zero))
        {
            throw new DomainBusyException(domain.Job is { } job
                ? $"domain {domain.Name} is busy: migration job {job.Id} is in phase {job.Phase}; {operation} refused"
                : $"domain {domain.Name} is busy with {domain.Operation ?? "another request"}; {operation} refused");
        }
        domain.Operation = operation;
    }

    private static void Leave(Domain domain)
    {
        domain.Operation = null;
        domain.Lock.Release();
    }

    private static CancellationTokenSource Deadline(CancellationToken cancellationToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(QmpJobTimeout);
        return deadline;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex SnapshotName();

    [LoggerMessage(Level = LogLevel.Information, Message = "Domain {Domain}: snapshot {Snapshot} created (VM state: {VmState})")]
    private partial void LogCreated(string domain, string snapshot, bool vmState);

    [LoggerMessage(Level = LogLevel.Information, Message = "Domain {Domain}: reverted to snapshot {Snapshot}")]
    private partial void LogReverted(string domain, string snapshot);

    [LoggerMessage(Level = LogLevel.Information, Message = "Domain {Domain}: snapshot {Snapshot} deleted")]
    private partial void LogDeleted(string domain, string snapshot);
}
