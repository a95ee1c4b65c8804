using System.Diagnostics;
using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>
/// The source's half of storage copy (DESIGN.md 6): an NBD client node per copied disk, on the destination's export,
/// over the RAM stream's TLS credentials; a mirror from the guest's disk node into it until READY; at pre-switchover
/// (guest stopped) each mirror is cancelled, which in READY leaves the destination's image identical to the source's
/// (no write lost, none twice), and the client node goes; then the RAM migration continues. The mirror never pivots:
/// whatever happens, the source's disks stay the guest's disks here, so a rollback only stops the jobs.
/// <para>
/// A qcow2 holding internal snapshots first freezes under a temporary overlay (<see cref="FreezeAsync"/>): its file is
/// mirrored whole from a read-only file node into a raw export (snapshot table, L1s and VM states included), and the
/// overlay, where the guest now writes, sync top into the destination's overlay. A rollback merges the overlay back
/// (<see cref="OverlayMerge"/>); after a switch it is committed into the image once this QEMU is gone.
/// </para>
/// </summary>
public sealed partial class StorageMirror(DomainInstance source, IReadOnlyList<CopiedDisk> planned, MigrationJob job, ILogger logger)
{
    private IReadOnlyList<CopiedDisk> _disks = planned;

    /// <summary>The disks to copy; after <see cref="FreezeAsync"/>, with each frozen image's final file length.</summary>
    public IReadOnlyList<CopiedDisk> Disks => _disks;

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>How long the switch waits for the cancelled mirrors to drain their last dirty blocks.</summary>
    private static readonly TimeSpan SwitchTimeout = TimeSpan.FromMinutes(2);

    /// <summary>One NBD client node and the mirror job writing into it (a disk, or the frozen file of a snapshot-carrying one).</summary>
    private sealed record Leg(string JobId, string ClientNodeName, string SourceNode);

    private readonly List<Leg> _clients = [];
    private readonly List<Leg> _jobs = [];
    private readonly List<CopiedDisk> _overlays = [];
    private readonly List<CopiedDisk> _baseReaders = [];
    private QemuMonitor Monitor => source.Monitor;

    private string OverlayPathOf(CopiedDisk disk) => CopiedDisk.OverlayPathOf(source.Definition.Disks[disk.Index].Path);

    private static IEnumerable<Leg> LegsOf(CopiedDisk disk) => disk.CarriesSnapshots
        ? [new Leg(disk.BaseJobId, disk.BaseClientNodeName, disk.BaseSourceNodeName), new Leg(disk.JobId, disk.ClientNodeName, disk.OverlayNodeName)]
        : [new Leg(disk.JobId, disk.ClientNodeName, disk.NodeName)];

    /// <summary>The extra guest pause the disk switch cost (cancels drained, client nodes gone), for the report.</summary>
    public TimeSpan SwitchDuration { get; private set; }

    /// <summary>
    /// Before the destination prepares: leftovers of an interrupted job go, and each snapshot-carrying image freezes under an
    /// overlay, so that its file (snapshot table, L1s, VM states) is copied byte for byte while only the guest's new writes
    /// are mirrored, into the destination's overlay over that copy. The file's length is read once it no longer changes.
    /// </summary>
    public async Task FreezeAsync(CancellationToken cancellationToken)
    {
        await ClearLeftoversAsync(cancellationToken).ConfigureAwait(false);
        var frozen = new List<CopiedDisk>();
        foreach (var disk in _disks)
        {
            if (!disk.CarriesSnapshots)
            {
                frozen.Add(disk);
                continue;
            }
            var path = source.Definition.Disks[disk.Index].Path;
            _overlays.Add(disk);
            await OverlayMerge.PutOnAsync(Monitor, Snapshots.QemuImg.For(source.Binary), disk, path, OverlayPathOf(disk), cancellationToken)
                .ConfigureAwait(false);
            await Monitor.BlockdevAddFileAsync(disk.BaseSourceNodeName, path, readOnly: true, cancellationToken: cancellationToken).ConfigureAwait(false);
            _baseReaders.Add(disk);
            LogOverlayOn(job.Id, job.DomainName, disk.NodeName, OverlayPathOf(disk));
            frozen.Add(disk with { BaseFileLength = new FileInfo(path).Length });
        }
        _disks = frozen;
    }

    /// <summary>Connects to the destination's export of each disk and starts the mirrors.</summary>
    /// <param name="tlsHostname">The name the destination's x509 certificate carries (x509 only).</param>
    public async Task StartAsync(string host, int port, StreamSecurity security, CancellationToken cancellationToken)
    {
        var creds = security == StreamSecurity.None ? null : Transport.QemuMigrationTls.CredsId;
        var tlsHostname = security == StreamSecurity.X509 ? host : null;
        foreach (var disk in _disks)
        {
            foreach (var leg in LegsOf(disk))
            {
                var export = leg.ClientNodeName == disk.BaseClientNodeName ? disk.BaseExportName : disk.ExportName;
                await Monitor.BlockdevAddNbdAsync(leg.ClientNodeName, host, port, export, creds, tlsHostname, cancellationToken: cancellationToken)
                    .ConfigureAwait(false);
                _clients.Add(leg);
                // maxBandwidth caps the disks as it caps the RAM (as libvirt does): the link is the same. The overlay holds
                // only what the guest wrote since it went on: top.
                var sync = leg.SourceNode == disk.OverlayNodeName ? MirrorSync.Top : leg.SourceNode == disk.BaseSourceNodeName ? MirrorSync.Full : disk.Sync;
                await Monitor.BlockdevMirrorAsync(leg.JobId, leg.SourceNode, leg.ClientNodeName, sync, job.Options.MaxBandwidth,
                        cancellationToken: cancellationToken)
                    .ConfigureAwait(false);
                _jobs.Add(leg);
                LogMirrorStarted(job.Id, job.DomainName, leg.SourceNode, sync.ToQapiString(), host, port);
            }
        }
    }

    /// <summary>
    /// A daemon that died during a storage copy left its jobs and client nodes in this QEMU (recovery resumes the guest, it
    /// does not know them): they go before new ones take their names. The guest's disks were never touched by them.
    /// </summary>
    private async Task ClearLeftoversAsync(CancellationToken cancellationToken)
    {
        var legs = _disks.SelectMany(LegsOf).ToList();
        var ids = legs.Select(l => l.JobId).ToHashSet(StringComparer.Ordinal);
        var stale = (await Monitor.QueryBlockJobsAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Where(j => ids.Contains(j.Device)).ToList();
        var nodes = await Monitor.QueryNamedBlockNodeNamesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        // An overlay an interrupted job left on the guest's image is merged back before a new one goes on.
        _overlays.AddRange(_disks.Where(d => d.CarriesSnapshots && nodes.Contains(d.OverlayNodeName)));
        _baseReaders.AddRange(_disks.Where(d => d.CarriesSnapshots && nodes.Contains(d.BaseSourceNodeName)));
        if (stale.Count == 0 && _overlays.Count == 0 && _baseReaders.Count == 0)
            return;
        _jobs.AddRange(legs.Where(l => stale.Any(j => j.Device == l.JobId)));
        var problem = await AbortAsync().ConfigureAwait(false);
        if (problem.Length > 0)
            throw new MigrationException(MigrationPhase.Perform, $"a storage copy left over from an earlier job could not be cleared{problem}");
        foreach (var leg in legs)
        {
            try
            {
                await Monitor.BlockdevDelAsync(leg.ClientNodeName, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (QmpExecuteException)
            {
                // Never added, or gone with its job.
            }
        }
    }

    /// <summary>Until every mirror is READY (the bulk copy done), reporting disk and RAM bytes together as the job's progress.</summary>
    /// <exception cref="MigrationException">A mirror failed (the destination's disk full, its QEMU gone, the link cut).</exception>
    public async Task WaitReadyAsync(Task targetExited, CancellationToken cancellationToken)
    {
        var ram = (long)source.Definition.MemoryMiB << 20;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var ours = await OurJobsAsync(cancellationToken).ConfigureAwait(false);
            ThrowIfFailed(ours);
            job.StorageTotal = ours.Sum(j => j.Len);
            job.StorageRemaining = ours.Sum(j => Math.Max(0, j.Len - j.Offset));
            var rate = clock.Elapsed.TotalSeconds > 0 ? (long)((job.StorageTotal - job.StorageRemaining) / clock.Elapsed.TotalSeconds) : 0;
            job.ReportProgress(new MigrationProgress(job.StorageTotal + ram, job.StorageRemaining + ram, job.StorageTotal - job.StorageRemaining,
                rate, 0, 0, 0, 0));
            if (ours.All(j => j.Ready))
            {
                job.StorageRemaining = 0;
                LogMirrorsReady(job.Id, job.DomainName, _disks.Count, job.StorageTotal, (long)clock.Elapsed.TotalMilliseconds,
                    clock.Elapsed.TotalSeconds > 0 ? job.StorageTotal / clock.Elapsed.TotalSeconds / (1 << 20) : 0);
                return;
            }
            await Task.WhenAny(Task.Delay(PollInterval, cancellationToken), targetExited).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (targetExited.IsCompleted)
                throw new MigrationException(MigrationPhase.Perform, $"lost the destination {job.Destination} while its disks were copied");
        }
    }

    /// <summary>
    /// At pre-switchover, the guest stopped: each READY mirror is cancelled (it first copies what is still dirty, then
    /// stops with the destination's image consistent), and the client nodes go, so the destination can drop its export.
    /// </summary>
    public async Task SwitchAsync()
    {
        var clock = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(SwitchTimeout);
        using (var events = Monitor.Listen(QemuEvents.JobStatusChange))
        {
            var pending = _jobs.Select(l => l.JobId).ToHashSet(StringComparer.Ordinal);
            foreach (var leg in _jobs)
                await Monitor.BlockJobCancelAsync(leg.JobId, cancellationToken: timeout.Token).ConfigureAwait(false);
            // A job that failed before the cancel is concluded already, and no event follows.
            foreach (var info in await OurJobsAsync(timeout.Token).ConfigureAwait(false))
            {
                if (info.Status == "concluded")
                    pending.Remove(info.Device);
            }
            while (pending.Count > 0)
            {
                var e = await events.WaitForAsync(e => QemuEvents.JobStatusOf(e) == "concluded" && pending.Contains(QemuEvents.JobIdOf(e) ?? ""),
                    timeout.Token).ConfigureAwait(false);
                pending.Remove(QemuEvents.JobIdOf(e)!);
            }
        }
        var concluded = await OurJobsAsync(timeout.Token).ConfigureAwait(false);
        var failed = concluded.Where(j => j.Error is not null).ToList();
        foreach (var info in concluded)
            await Monitor.JobDismissAsync(info.Device, cancellationToken: timeout.Token).ConfigureAwait(false);
        _jobs.Clear();
        if (failed.Count > 0)
            throw new MigrationException(MigrationPhase.Perform, string.Join("; ", failed.Select(j => $"copy of {NodeOf(j)} failed: {j.Error}")));
        foreach (var leg in _clients.ToList())
        {
            await Monitor.BlockdevDelAsync(leg.ClientNodeName, cancellationToken: timeout.Token).ConfigureAwait(false);
            _clients.Remove(leg);
        }
        await DropBaseReadersAsync(timeout.Token).ConfigureAwait(false);
        SwitchDuration = clock.Elapsed;
        LogSwitched(job.Id, job.DomainName, _disks.Count, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// Rollback: force-cancel the mirrors still there and drop the client nodes. The guest's disks were never touched.
    /// (pause-before-switchover is a managed capability: the next migration's tuning turns it off.)
    /// </summary>
    /// <returns>"" or "; storage copy not cleaned up: WHY".</returns>
    public async Task<string> AbortAsync()
    {
        var problems = new List<string>();
        using var timeout = new CancellationTokenSource(MigrationRunner.RollbackTimeout);
        try
        {
            using (var events = Monitor.Listen(QemuEvents.JobStatusChange))
            {
                var infos = await OurJobsAsync(timeout.Token).ConfigureAwait(false);
                var pending = infos.Where(j => j.Status != "concluded").Select(j => j.Device).ToHashSet(StringComparer.Ordinal);
                foreach (var id in pending)
                    await Monitor.BlockJobCancelAsync(id, force: true, cancellationToken: timeout.Token).ConfigureAwait(false);
                while (pending.Count > 0)
                {
                    var e = await events.WaitForAsync(e => QemuEvents.JobStatusOf(e) == "concluded" && pending.Contains(QemuEvents.JobIdOf(e) ?? ""),
                        timeout.Token).ConfigureAwait(false);
                    pending.Remove(QemuEvents.JobIdOf(e)!);
                }
            }
            foreach (var info in await OurJobsAsync(timeout.Token).ConfigureAwait(false))
                await Monitor.JobDismissAsync(info.Device, cancellationToken: timeout.Token).ConfigureAwait(false);
            _jobs.Clear();
            foreach (var leg in _clients.ToList())
            {
                await Monitor.BlockdevDelAsync(leg.ClientNodeName, cancellationToken: timeout.Token).ConfigureAwait(false);
                _clients.Remove(leg);
            }
            await DropBaseReadersAsync(timeout.Token).ConfigureAwait(false);
            // The guest writes into the overlay until it is merged back: then its disk is the image again, snapshots and all.
            foreach (var disk in _overlays.ToList())
            {
                await OverlayMerge.MergeAsync(Monitor, disk, OverlayPathOf(disk), timeout.Token).ConfigureAwait(false);
                _overlays.Remove(disk);
                LogOverlayMerged(job.Id, job.DomainName, disk.NodeName);
            }
        }
        catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or QmpTimeoutException or OperationCanceledException or IOException)
        {
            problems.Add(e is OperationCanceledException ? "QEMU did not end the mirror jobs in time" : e.Message);
        }
        if (problems.Count == 0)
            return "";
        LogAbortIncomplete(job.Id, job.DomainName, string.Join("; ", problems));
        return "; storage copy not cleaned up: " + string.Join("; ", problems);
    }

    /// <summary>
    /// After a switch, once this host's QEMU has quit: what the guest wrote into the overlays during the copy goes into the
    /// images here too (qemu-img commit), so the image this host keeps is the one the guest left, as after a copy without
    /// snapshots, and the overlays go.
    /// </summary>
    /// <returns>"" or "; WHY" when an overlay stays (its image then lacks the guest's last writes).</returns>
    public async Task<string> MergeAfterHandOverAsync()
    {
        var problem = await MergeAfterHandOverAsync(source, _disks.Where(d => d.CarriesSnapshots).Select(d => d.Index).ToList()).ConfigureAwait(false);
        if (problem is null)
            return "";
        LogAbortIncomplete(job.Id, job.DomainName, problem);
        return "; " + problem;
    }

    /// <summary>The same for recovery, which finds a job the destination committed while this daemon was down.</summary>
    /// <returns>null, or which overlays stay and why.</returns>
    public static async Task<string?> MergeAfterHandOverAsync(DomainInstance source, IReadOnlyList<int> snapshotDisks)
    {
        if (snapshotDisks.Count == 0)
            return null;
        for (var waited = TimeSpan.Zero; !source.HasExited && waited < MigrationRunner.RollbackTimeout; waited += PollInterval)
            await Task.Delay(PollInterval).ConfigureAwait(false);
        var problems = new List<string>();
        foreach (var index in snapshotDisks)
        {
            var overlay = CopiedDisk.OverlayPathOf(source.Definition.Disks[index].Path);
            try
            {
                if (!File.Exists(overlay))
                    continue;
                await Snapshots.QemuImg.CommitAsync(Snapshots.QemuImg.For(source.Binary), overlay, CancellationToken.None).ConfigureAwait(false);
                File.Delete(overlay);
            }
            catch (Exception e) when (e is Snapshots.SnapshotException or IOException)
            {
                problems.Add($"{overlay} not merged: {e.Message}");
            }
        }
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    private async Task DropBaseReadersAsync(CancellationToken cancellationToken)
    {
        foreach (var disk in _baseReaders.ToList())
        {
            await Monitor.BlockdevDelAsync(disk.BaseSourceNodeName, cancellationToken: cancellationToken).ConfigureAwait(false);
            _baseReaders.Remove(disk);
        }
    }

    /// <summary>
    /// Recovery of a source whose daemon died during a snapshot-carrying copy that did not commit: the copy's jobs and client
    /// nodes go, and the overlays on <paramref name="snapshotDisks"/> are merged back, before the guest resumes here.
    /// </summary>
    /// <returns>null, or why an overlay stays (the guest then runs on it: its data is all there, the snapshots below it).</returns>
    public static async Task<string?> RecoverSourceAsync(DomainInstance source, IReadOnlyList<int> snapshotDisks)
    {
        using var timeout = new CancellationTokenSource(MigrationRunner.RollbackTimeout * 4);
        var monitor = source.Monitor;
        try
        {
            var disks = snapshotDisks.Select(i => new CopiedDisk(i, 0, MirrorSync.Full, BaseFileLength: 1)).ToList();
            var legs = disks.SelectMany(LegsOf).ToList();
            var ids = legs.Select(l => l.JobId).ToHashSet(StringComparer.Ordinal);
            foreach (var info in (await monitor.QueryBlockJobsAsync(cancellationToken: timeout.Token).ConfigureAwait(false)).Where(j => ids.Contains(j.Device)))
            {
                if (info.Status != "concluded")
                    await monitor.BlockJobCancelAsync(info.Device, force: true, cancellationToken: timeout.Token).ConfigureAwait(false);
            }
            while ((await monitor.QueryBlockJobsAsync(cancellationToken: timeout.Token).ConfigureAwait(false))
                   .Any(j => ids.Contains(j.Device) && j.Status != "concluded"))
                await Task.Delay(PollInterval, timeout.Token).ConfigureAwait(false);
            foreach (var info in (await monitor.QueryBlockJobsAsync(cancellationToken: timeout.Token).ConfigureAwait(false)).Where(j => ids.Contains(j.Device)))
                await monitor.JobDismissAsync(info.Device, cancellationToken: timeout.Token).ConfigureAwait(false);
            var nodes = await monitor.QueryNamedBlockNodeNamesAsync(cancellationToken: timeout.Token).ConfigureAwait(false);
            foreach (var leg in legs.Where(l => nodes.Contains(l.ClientNodeName)))
                await monitor.BlockdevDelAsync(leg.ClientNodeName, cancellationToken: timeout.Token).ConfigureAwait(false);
            foreach (var disk in disks.Where(d => nodes.Contains(d.BaseSourceNodeName)))
                await monitor.BlockdevDelAsync(disk.BaseSourceNodeName, cancellationToken: timeout.Token).ConfigureAwait(false);
            foreach (var disk in disks)
                await OverlayMerge.MergeAsync(monitor, disk, CopiedDisk.OverlayPathOf(source.Definition.Disks[disk.Index].Path), timeout.Token)
                    .ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or QmpTimeoutException or OperationCanceledException or IOException)
        {
            return e.Message;
        }
    }

    private async Task<List<BlockJobInfo>> OurJobsAsync(CancellationToken cancellationToken)
    {
        var ids = _jobs.Select(l => l.JobId).ToHashSet(StringComparer.Ordinal);
        var all = await Monitor.QueryBlockJobsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return all.Where(j => ids.Contains(j.Device)).ToList();
    }

    private void ThrowIfFailed(List<BlockJobInfo> ours)
    {
        foreach (var leg in _jobs)
        {
            var info = ours.FirstOrDefault(j => j.Device == leg.JobId);
            if (info is null)
                throw new MigrationException(MigrationPhase.Perform, $"the copy of {leg.SourceNode} to the destination vanished from QEMU's jobs");
            if (info.Status == "concluded" || info.Error is not null)
                throw new MigrationException(MigrationPhase.Perform, $"the copy of {leg.SourceNode} to the destination failed: {info.Error ?? "the job ended early"}");
        }
    }

    private string NodeOf(BlockJobInfo info) => _jobs.Concat(_disks.SelectMany(LegsOf)).FirstOrDefault(l => l.JobId == info.Device)?.SourceNode ?? info.Device;

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: {DomainName}: mirroring {Node} (sync {Sync}) to nbd {Host}:{Port}")]
    private partial void LogMirrorStarted(string jobId, string domainName, string node, string sync, string host, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: {DomainName}: {Disks} disk(s) in step with the destination: {Bytes} bytes in {Ms} ms ({MiBps:0.0} MiB/s)")]
    private partial void LogMirrorsReady(string jobId, string domainName, int disks, long bytes, long ms, double mibps);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: {DomainName}: {Disks} disk(s) switched at pre-switchover in {Ms:0.0} ms")]
    private partial void LogSwitched(string jobId, string domainName, int disks, double ms);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: {DomainName}: {Node} frozen under overlay {Overlay}: its file and internal snapshots are copied whole")]
    private partial void LogOverlayOn(string jobId, string domainName, string node, string overlay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: {DomainName}: overlay merged back into {Node}, removed")]
    private partial void LogOverlayMerged(string jobId, string domainName, string node);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: {DomainName}: storage copy not cleaned up on the source: {Reason}")]
    private partial void LogAbortIncomplete(string jobId, string domainName, string reason);
}
