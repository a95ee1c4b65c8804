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
/// </summary>
public sealed partial class StorageMirror(DomainInstance source, IReadOnlyList<CopiedDisk> disks, MigrationJob job, ILogger logger)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>How long the switch waits for the cancelled mirrors to drain their last dirty blocks.</summary>
    private static readonly TimeSpan SwitchTimeout = TimeSpan.FromMinutes(2);

    private readonly List<CopiedDisk> _clients = [];
    private readonly List<CopiedDisk> _jobs = [];
    private QemuMonitor Monitor => source.Monitor;

    /// <summary>The extra guest pause the disk switch cost (cancels drained, client nodes gone), for the report.</summary>
    public TimeSpan SwitchDuration { get; private set; }

    /// <summary>Connects to the destination's export of each disk and starts the mirrors.</summary>
    /// <param name="tlsHostname">The name the destination's x509 certificate carries (x509 only).</param>
    public async Task StartAsync(string host, int port, StreamSecurity security, CancellationToken cancellationToken)
    {
        var creds = security == StreamSecurity.None ? null : Transport.QemuMigrationTls.CredsId;
        var tlsHostname = security == StreamSecurity.X509 ? host : null;
        await ClearLeftoversAsync(cancellationToken).ConfigureAwait(false);
        foreach (var disk in disks)
        {
            await Monitor.BlockdevAddNbdAsync(disk.ClientNodeName, host, port, disk.ExportName, creds, tlsHostname, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            _clients.Add(disk);
            // maxBandwidth caps the disks as it caps the RAM (as libvirt does): the link is the same.
            await Monitor.BlockdevMirrorAsync(disk.JobId, disk.NodeName, disk.ClientNodeName, disk.Sync, job.Options.MaxBandwidth,
                    cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            _jobs.Add(disk);
            LogMirrorStarted(job.Id, job.DomainName, disk.NodeName, disk.Sync.ToQapiString(), host, port);
        }
    }

    /// <summary>
    /// A daemon that died during a storage copy left its jobs and client nodes in this QEMU (recovery resumes the guest, it
    /// does not know them): they go before new ones take their names. The guest's disks were never touched by them.
    /// </summary>
    private async Task ClearLeftoversAsync(CancellationToken cancellationToken)
    {
        var ids = disks.Select(d => d.JobId).ToHashSet(StringComparer.Ordinal);
        var stale = (await Monitor.QueryBlockJobsAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Where(j => ids.Contains(j.Device)).ToList();
        if (stale.Count == 0)
            return;
        _jobs.AddRange(disks.Where(d => stale.Any(j => j.Device == d.JobId)));
        var problem = await AbortAsync().ConfigureAwait(false);
        if (problem.Length > 0)
            throw new MigrationException(MigrationPhase.Perform, $"a storage copy left over from an earlier job could not be cleared{problem}");
        foreach (var disk in disks)
        {
            try
            {
                await Monitor.BlockdevDelAsync(disk.ClientNodeName, cancellationToken: cancellationToken).ConfigureAwait(false);
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
                LogMirrorsReady(job.Id, job.DomainName, disks.Count, job.StorageTotal, (long)clock.Elapsed.TotalMilliseconds,
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
            var pending = _jobs.Select(d => d.JobId).ToHashSet(StringComparer.Ordinal);
            foreach (var disk in _jobs)
                await Monitor.BlockJobCancelAsync(disk.JobId, cancellationToken: timeout.Token).ConfigureAwait(false);
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
        foreach (var disk in _clients.ToList())
        {
            await Monitor.BlockdevDelAsync(disk.ClientNodeName, cancellationToken: timeout.Token).ConfigureAwait(false);
            _clients.Remove(disk);
        }
        SwitchDuration = clock.Elapsed;
        LogSwitched(job.Id, job.DomainName, disks.Count, clock.Elapsed.TotalMilliseconds);
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
            foreach (var disk in _clients.ToList())
            {
                await Monitor.BlockdevDelAsync(disk.ClientNodeName, cancellationToken: timeout.Token).ConfigureAwait(false);
                _clients.Remove(disk);
            }
        }
        catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or QmpTimeoutException or OperationCanceledException)
        {
            problems.Add(e is OperationCanceledException ? "QEMU did not end the mirror jobs in time" : e.Message);
        }
        if (problems.Count == 0)
            return "";
        LogAbortIncomplete(job.Id, job.DomainName, string.Join("; ", problems));
        return "; storage copy not cleaned up: " + string.Join("; ", problems);
    }

    private async Task<List<BlockJobInfo>> OurJobsAsync(CancellationToken cancellationToken)
    {
        var ids = _jobs.Select(d => d.JobId).ToHashSet(StringComparer.Ordinal);
        var all = await Monitor.QueryBlockJobsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return all.Where(j => ids.Contains(j.Device)).ToList();
    }

    private void ThrowIfFailed(List<BlockJobInfo> ours)
    {
        foreach (var disk in _jobs)
        {
            var info = ours.FirstOrDefault(j => j.Device == disk.JobId);
            if (info is null)
                throw new MigrationException(MigrationPhase.Perform, $"the copy of {disk.NodeName} to the destination vanished from QEMU's jobs");
            if (info.Status == "concluded" || info.Error is not null)
                throw new MigrationException(MigrationPhase.Perform, $"the copy of {disk.NodeName} to the destination failed: {info.Error ?? "the job ended early"}");
        }
    }

    private string NodeOf(BlockJobInfo info) => _jobs.Concat(disks).FirstOrDefault(d => d.JobId == info.Device)?.NodeName ?? info.Device;

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: {DomainName}: mirroring {Node} (sync {Sync}) to nbd {Host}:{Port}")]
    private partial void LogMirrorStarted(string jobId, string domainName, string node, string sync, string host, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: {DomainName}: {Disks} disk(s) in step with the destination: {Bytes} bytes in {Ms} ms ({MiBps:0.0} MiB/s)")]
    private partial void LogMirrorsReady(string jobId, string domainName, int disks, long bytes, long ms, double mibps);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: {DomainName}: {Disks} disk(s) switched at pre-switchover in {Ms:0.0} ms")]
    private partial void LogSwitched(string jobId, string domainName, int disks, double ms);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: {DomainName}: storage copy not cleaned up on the source: {Reason}")]
    private partial void LogAbortIncomplete(string jobId, string domainName, string reason);
}
