using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using LocalMigrate.Contract;
using LocalMigrate.Interop.Posix;
using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Hosting;
using LocalMigrate.UpgradeDaemon.Api;
using LocalMigrate.UpgradeDaemon.Migration;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>
/// The destination side of a remote migration in this daemon: what <c>org.localmigrate1.Peer</c> does. Pre-flight and
/// the paused target (Prepare), arrival (Finish), the commit point (Commit: journaled, then defined, promoted, resumed),
/// rollback (Abort). The target is <see cref="MigrationDst"/>'s, in the shadow registry until Commit. A target whose
/// source stops asking (link cut, source host gone) is dropped after <see cref="LeaseTimeout"/>: it never ran, so the
/// source still holds the guest.
/// </summary>
public sealed partial class RemoteMigrationDst(DomainRegistry registry, DefinitionStore store, MigrationDst dst, InstanceLauncher launcher,
    QemuBinaryProbe probe, IncomingJournal journal, DaemonOptions options, TimeProvider time, Evacuation.HostMaintenance maintenance,
    ILogger<RemoteMigrationDst> logger)
    : IDisposable
{
    private TimeSpan LeaseTimeout => options.Remote.IncomingLease;

    /// <summary>The RAM a target needs beyond the guest's (QEMU itself, device state).</summary>
    internal const long OverheadBytes = 64L << 20;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastContact = new();
    private readonly SemaphoreSlim _prepareGate = new(1, 1);
    private ITimer? _leaseTimer;

    public static string HostName => Environment.MachineName;

    public Dictionary<string, object> Hello(IReadOnlyDictionary<string, object> source)
    {
        if (source.TryGetValue(PeerContract.HostKeys.Architecture, out var arch) && arch is string a && a != Architecture)
            throw new PeerRefusedException($"host {HostName}: architecture {Architecture}, the source is {a}");
        return new Dictionary<string, object>
        {
            [PeerContract.HostKeys.ProtocolVersion] = PeerContract.ProtocolVersion,
            [PeerContract.HostKeys.HostName] = HostName,
            [PeerContract.HostKeys.Architecture] = Architecture,
            [PeerContract.HostKeys.MemAvailableBytes] = (ulong)ProcFs.MemAvailableBytes(),
            [PeerContract.HostKeys.Maintenance] = maintenance.IsOn,
        };
    }

    public static string Architecture => RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();

    /// <summary>Pre-flight, journal, then a paused target listening on TCP. Every refusal names this host and the reason.</summary>
    public async Task<PrepareResult> PrepareAsync(string jobId, string definitionJson, IReadOnlyDictionary<string, object> raw, string caller,
        CancellationToken cancellationToken)
    {
        if (!IncomingJournal.IsJobId(jobId))
            throw new ArgumentException($"job: '{jobId}' is not a job id");
        var request = ReadOptions(raw);
        if (request.Security == StreamSecurity.None && !request.Offline && !options.Remote.AllowInsecureTcp)
            throw new PeerRefusedException($"host {HostName}: a plaintext QEMU stream is refused here (remote.allowInsecureTcp is off); migrate over ssh:// or tls://");
        DomainDefinition definition;
        try
        {
            definition = DefinitionParser.Parse(definitionJson);
        }
        catch (DefinitionException e)
        {
            throw new PeerRefusedException($"host {HostName}: the definition is not valid here: {e.Message}");
        }
        IReadOnlyList<CopiedDisk> copied;
        try
        {
            copied = StorageCopyPlan.Parse(request.CopyDisks, request.CopyBackings, definition.Disks.Count);
        }
        catch (ArgumentException e)
        {
            throw new PeerRefusedException($"host {HostName}: {e.Message}");
        }
        if (copied.Count > 0 && request.Offline)
            throw new PeerRefusedException($"host {HostName}: storage copy needs a live migration");
        // One Prepare at a time: two sources sending the same guest must not both pass the checks below.
        await _prepareGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (journal.Find(jobId) is not null)
                throw new PeerRefusedException($"host {HostName}: job {jobId} was already prepared here");
            var binary = definition.Qemu is { } q && File.Exists(q) ? q : options.QemuBinary;
            await PreflightAsync(definition, binary, request, copied, cancellationToken).ConfigureAwait(false);
            if (request.CheckOnly)
                return new PrepareResult("", 0, "", "", 0);
            definition = definition with { Qemu = binary == options.QemuBinary ? null : binary };
            var snapshots = await PrepareSnapshotsAsync(jobId, definition, binary, request.Snapshots, copied, cancellationToken).ConfigureAwait(false);
            var record = new IncomingRecord
            {
                JobId = jobId,
                Domain = definition.Name,
                Uuid = definition.Uuid,
                State = IncomingState.Prepared,
                Definition = Encoding.UTF8.GetString(DefinitionWriter.ToUtf8Json(definition)),
                Source = caller,
                Persistent = request.Persistent,
                Resume = request.Resume,
                Offline = request.Offline,
                StartedAt = time.GetUtcNow(),
                // Named before they exist (pre-flight found none there): a crash while they are made still deletes them.
                CopiedImages = copied.SelectMany(c => c.CarriesSnapshots
                    ? [definition.Disks[c.Index].Path, CopiedDisk.OverlayPathOf(definition.Disks[c.Index].Path)]
                    : new[] { definition.Disks[c.Index].Path }).ToList(),
                SnapshotDisks = copied.Where(c => c.CarriesSnapshots).Select(c => c.Index).ToList(),
                Snapshots = snapshots,
            };
            // Journaled before the target exists: a crash right after the spawn still finds a record naming it.
            journal.Write(record);
            Touch(jobId);
            // Told to the source too, which logs them under its job: the operator there asked for the move.
            var snapshotProblems = snapshots?.Where(r => r.Problem is not null).Select(r => $"{r.Name}: {r.Problem}").ToList() ?? [];
            if (request.Offline)
            {
                LogPrepared(jobId, definition.Name, caller, 0, 0);
                return new PrepareResult("", 0, "", "", 0) { SnapshotProblems = snapshotProblems };
            }
            try
            {
                launcher.CreateSharedMemoryFile(definition);
                if (copied.Count > 0)
                    await IncomingStorage.CreateImagesAsync(Snapshots.QemuImg.For(binary), definition, copied, cancellationToken).ConfigureAwait(false);
                var nbdPort = 0;
                var prepared = await dst.PrepareAsync(new PrepareRequest(jobId, definition, binary, IgnoreShared: false)
                {
                    ListenAddress = "0.0.0.0",
                    StartPaused = true,
                    TargetTuning = request.TargetTuning,
                    ConfigureTarget = async (target, token) =>
                    {
                        await SecureTargetStreamAsync(target, request, token).ConfigureAwait(false);
                        if (copied.Count > 0)
                            nbdPort = await IncomingStorage.ExportAsync(target, "0.0.0.0", copied, request.Security, token).ConfigureAwait(false);
                    },
                }, cancellationToken).ConfigureAwait(false);
                prepared = prepared with { NbdPort = nbdPort, SnapshotProblems = snapshotProblems };
                journal.Write(record with { TargetInstanceId = prepared.InstanceId, TargetPid = prepared.Pid });
                LogPrepared(jobId, definition.Name, caller, prepared.Pid, prepared.Port);
                return prepared;
            }
            catch
            {
                TryJournal(record with { State = IncomingState.Aborted });
                DeleteSharedMemoryFileUnlessUsed(definition);
                IncomingStorage.DeleteImages(record.CopiedImages);
                throw;
            }
        }
        finally
        {
            _prepareGate.Release();
        }
    }

    /// <summary>
    /// The source's snapshot records, each disk one of the definition's. On shared storage the images are here already:
    /// checked now against qemu-img info, every disagreement logged and marked in the record. Storage copy: kept as sent,
    /// checked once the copied images are merged (<see cref="FinishSnapshotDisksAsync"/>).
    /// </summary>
    private async Task<IReadOnlyList<Snapshots.SnapshotRecord>?> PrepareSnapshotsAsync(string jobId, DomainDefinition definition, string binary,
        IReadOnlyList<Snapshots.SnapshotRecord>? sent, IReadOnlyList<CopiedDisk> copied, CancellationToken cancellationToken)
    {
        if (sent is null)
            return null;
        var paths = definition.Disks.Select(d => d.Path).ToHashSet(StringComparer.Ordinal);
        if (sent.SelectMany(r => r.Disks.Select(d => (r.Name, Disk: d))).FirstOrDefault(x => !paths.Contains(x.Disk)) is { Name: not null } stray)
            throw new PeerRefusedException($"host {HostName}: option {PeerContract.PrepareKeys.Snapshots}: snapshot '{stray.Name}' names {stray.Disk}, which is not a disk of the definition");
        if (copied.Any(c => c.CarriesSnapshots))
            return sent;
        try
        {
            var images = await Snapshots.SnapshotArrival.ReadImagesAsync(Snapshots.QemuImg.For(binary), sent.SelectMany(r => r.Disks), cancellationToken)
                .ConfigureAwait(false);
            var checkedRecords = Snapshots.SnapshotArrival.Reconcile(sent, images);
            foreach (var problem in checkedRecords.Where(r => r.Problem is not null))
                LogSnapshotMismatch(jobId, definition.Name, problem.Name, problem.Problem!);
            return checkedRecords;
        }
        catch (Snapshots.SnapshotException e)
        {
            throw new PeerRefusedException($"host {HostName}: cannot check the domain's snapshots against its images here: {e.Message}");
        }
    }

    /// <summary>The stream's credentials on the target, before it listens: PSK from the source, or x509 with the DN allow-list.</summary>
    private Task SecureTargetStreamAsync(DomainInstance target, PrepareOptions request, CancellationToken cancellationToken)
    {
        switch (request.Security)
        {
            case StreamSecurity.Psk:
                var directory = Path.Combine(target.Paths.Directory, PskDirectoryName);
                Transport.MigrationPsk.WriteKeyFile(directory, request.PskKey!);
                return Transport.QemuMigrationTls.DstPskAsync(target.Monitor, directory, cancellationToken);
            case StreamSecurity.X509:
                return Transport.QemuMigrationTls.DstX509Async(target.Monitor, options.Remote.PkiDirectory, options.Remote.AllowedClientDns, cancellationToken);
            default:
                return Task.CompletedTask;
        }
    }

    /// <summary>Where a migration's PSK file lives: in the instance's own runtime dir (0700), gone with it.</summary>
    public const string PskDirectoryName = "migration-psk";

    /// <summary>
    /// The guest now sits behind a tap on this host's bridge: gratuitous RARPs from here make the bridges and switches
    /// on the way forward its MAC to this port at once, not after their entries time out. Best effort: the guest runs.
    /// </summary>
    private async Task AnnounceAsync(DomainInstance target)
    {
        try
        {
            await target.Monitor.AnnounceSelfAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or QmpTimeoutException)
        {
            LogAnnounceFailed(target.Definition.Name, e.Message);
        }
    }

    /// <summary>
    /// After the guest arrived: the stream's credentials go, so this QEMU's next migration (local or remote) starts clean,
    /// and the key file with them. Best effort: the guest runs either way.
    /// </summary>
    internal static async Task RemoveStreamSecurityAsync(DomainInstance instance)
    {
        try
        {
            await Transport.QemuMigrationTls.RemoveAsync(instance.Monitor).ConfigureAwait(false);
        }
        catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or QmpTimeoutException)
        {
        }
        try
        {
            var directory = Path.Combine(instance.Paths.Directory, PskDirectoryName);
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task PreflightAsync(DomainDefinition definition, string binary, PrepareOptions request, IReadOnlyList<CopiedDisk> copied,
        CancellationToken cancellationToken)
    {
        var host = HostName;
        if (maintenance.IsOn)
            throw new PeerRefusedException($"host {host} is in maintenance: it takes no incoming migration until 'localmigrate maintenance off' there");
        if (registry.Shadow.Find(definition.Name) is not null)
            throw new PeerRefusedException($"host {host}: domain {definition.Name} is already migrating here");
        if (registry.Find(definition.Name) is { } named && named.Definition.Uuid != definition.Uuid)
            throw new PeerRefusedException($"host {host}: another domain named {definition.Name} (uuid {named.Definition.Uuid}) is defined here");
        if (registry.FindByUuid(definition.Uuid) is { } same && (same.Active is not null || same.State is not DomainState.Shutoff and not DomainState.Crashed))
            throw new PeerRefusedException($"host {host}: domain {same.Name} (uuid {definition.Uuid}) is already {same.State.ToString().ToLowerInvariant()} here");
        if (request.Offline)
            return;
        QemuBinaryInfo info;
        try
        {
            info = await probe.ProbeAsync(binary, cancellationToken).ConfigureAwait(false);
        }
        catch (QemuBinaryException e)
        {
            throw new PeerRefusedException($"host {host}: QEMU {binary} unusable: {e.Message}");
        }
        if (!info.CanBuild(definition.Machine))
            throw new PeerRefusedException($"host {host}: QEMU {info.Version} ({binary}) cannot build machine type {definition.Machine}");
        var needed = ((long)definition.MemoryMiB << 20) + OverheadBytes;
        var available = ProcFs.MemAvailableBytes();
        if (needed > available)
            throw new PeerRefusedException($"host {host}: {definition.MemoryMiB} MiB of guest RAM needs {needed >> 20} MiB free; {available >> 20} MiB available");
        if (IncomingStorage.Check(definition, copied).FirstOrDefault() is { } notCopyable)
            throw new PeerRefusedException($"host {host}: {notCopyable}");
        for (var i = 0; i < definition.Disks.Count; i++)
        {
            if (copied.All(c => c.Index != i) && !File.Exists(definition.Disks[i].Path))
                throw new PeerRefusedException($"host {host}: disks[{i}] {definition.Disks[i].Path} is not here (disks must be on shared storage)");
        }
        foreach (var (field, path) in new[] { ("kernel", definition.Kernel), ("initrd", definition.Initrd) })
        {
            if (path is not null && !File.Exists(path))
                throw new PeerRefusedException($"host {host}: {field} {path} is not here");
        }
        // A bridged NIC gets its own tap on this host's bridge of the same name: no bridge, no migration.
        if (NicBackends.CheckHost(definition) is [_, ..] nicErrors)
            throw new PeerRefusedException($"host {host}: {string.Join("; ", nicErrors)}");
    }

    public async Task<FinishResult> FinishAsync(string jobId, CancellationToken cancellationToken)
    {
        Touch(jobId);
        var record = Require(jobId, IncomingState.Prepared);
        if (record.Offline)
            return new FinishResult(0, "", RunState.Shutdown);
        // The target waits paused (-S) until Commit resumes it.
        var result = await dst.FinishAsync(jobId, resume: false, cancellationToken).ConfigureAwait(false);
        Touch(jobId);
        return result;
    }

    public async Task<string> VerifyAsync(string jobId, CancellationToken cancellationToken)
    {
        Touch(jobId);
        var record = Require(jobId, IncomingState.Prepared);
        // Paused is what a -S target is after the stream arrived: it resumes only at Commit.
        return record.Offline ? "" : await dst.VerifyTargetAsync(jobId, guestRan: false, cancellationToken).ConfigureAwait(false) ?? "";
    }

    /// <summary>
    /// The commit point on this side. Journaled first: once "committed" is on disk this host owns the guest, whatever
    /// happens next (a restarted daemon finishes the commit). Then defined, promoted, resumed.
    /// </summary>
    public async Task CommitAsync(string jobId)
    {
        var record = journal.Find(jobId) ?? throw new PeerRefusedException($"host {HostName}: no incoming job {jobId}");
        if (record.State == IncomingState.Committed)
            return;
        if (record.State == IncomingState.Aborted)
            throw new PeerRefusedException($"host {HostName}: job {jobId} was aborted here (its target is gone); the guest is the source's");
        var target = dst.TargetOf(jobId);
        if (!record.Offline && (target is null || target.HasExited))
        {
            await AbortAsync(jobId).ConfigureAwait(false);
            throw new PeerRefusedException($"host {HostName}: the target QEMU of job {jobId} is gone; the guest is the source's");
        }
        record = record with { State = IncomingState.Committed };
        journal.Write(record);
        _lastContact.TryRemove(jobId, out _);
        await CompleteCommitAsync(record, target).ConfigureAwait(false);
    }

    /// <summary>After "committed" is journaled: define, promote, resume. Also what recovery runs for a commit a crash interrupted.</summary>
    internal async Task CompleteCommitAsync(IncomingRecord record, DomainInstance? target)
    {
        var definition = DefinitionParser.Parse(record.Definition);
        // The guest waits paused since the source stopped it: resume first (the journal already says "committed", so a
        // crash from here on finishes the rest after the restart), then define, store and promote.
        string? notResumed = null;
        if (target is not null && record.Resume)
        {
            try
            {
                // In postcopy the commit comes while the target still loads the device state (inmigrate): cont waits for it.
                await WaitUntilLoadedAsync(target).ConfigureAwait(false);
                // Storage copy: the exports go before the guest writes here (the source dropped its clients at the switch).
                if (record.CopiedImages.Count > 0)
                    await IncomingStorage.UnexportAsync(target).ConfigureAwait(false);
                await IncomingStorage.AttachOverlaysAsync(target, record.SnapshotDisks).ConfigureAwait(false);
                await target.Monitor.ContAsync().ConfigureAwait(false);
                if (definition.Nics.Any(n => n.UsesTap))
                    await AnnounceAsync(target).ConfigureAwait(false);
            }
            catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or QmpTimeoutException)
            {
                // The guest is this host's now; a target that will not resume is reported, never handed back.
                notResumed = e.Message;
            }
        }
        var domain = registry.FindByUuid(definition.Uuid);
        if (domain is null)
        {
            domain = new Domain(definition) { Transient = !record.Persistent };
            registry.Add(domain);
        }
        else
        {
            domain.Definition = definition;
        }
        if (record.Persistent)
            store.Save(definition);
        if (record.SnapshotDisks.Count == 0 && record.Snapshots is not null)
            StoreSnapshots(record, definition, record.Snapshots);
        if (target is not null && notResumed is null && record.Resume && record.SnapshotDisks.Count > 0)
            await FinishSnapshotDisksAsync(record, target, definition).ConfigureAwait(false);
        if (target is null)
        {
            LogCommitted(record.JobId, record.Domain, 0);
            return;
        }
        if (dst.TargetOf(record.JobId) is not null)
            await dst.CommitAsync(record.JobId).ConfigureAwait(false);
        else
            dst.Promote(target);
        if (!record.Resume || notResumed is not null)
            registry.SetState(domain, DomainState.Paused);
        if (notResumed is not null)
            LogNotResumed(record.JobId, record.Domain, target.Pid, notResumed);
        else
            LogCommitted(record.JobId, record.Domain, target.Pid);
        // Credentials in use by a stream still flowing (postcopy) must not go: they go once it completed.
        await RemoveStreamSecurityWhenArrivedAsync(target, wait: false).ConfigureAwait(false);
    }

    /// <summary>
    /// The guest runs: each overlay is merged into its image (one qcow2 again, its snapshots intact) and the daemon's
    /// snapshot records are made from what the images hold. A failure leaves the guest running on its overlay, reported.
    /// </summary>
    private async Task FinishSnapshotDisksAsync(IncomingRecord record, DomainInstance target, DomainDefinition definition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        try
        {
            await IncomingStorage.MergeOverlaysAsync(target, record.SnapshotDisks, timeout.Token).ConfigureAwait(false);
            var qemuImg = Snapshots.QemuImg.For(definition.Qemu ?? options.QemuBinary);
            var paths = record.SnapshotDisks.Select(i => definition.Disks[i].Path).Concat(record.Snapshots?.SelectMany(r => r.Disks) ?? []);
            var images = await Snapshots.SnapshotArrival.ReadImagesAsync(qemuImg, paths, timeout.Token).ConfigureAwait(false);
            var records = Snapshots.SnapshotArrival.Reconcile(record.Snapshots, images);
            foreach (var problem in records.Where(r => r.Problem is not null))
                LogSnapshotMismatch(record.JobId, record.Domain, problem.Name, problem.Problem!);
            StoreSnapshots(record, definition, records);
        }
        catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or QmpTimeoutException or OperationCanceledException
                                      or IOException or UnauthorizedAccessException or Snapshots.SnapshotException)
        {
            LogSnapshotDisksNotFinished(record.JobId, record.Domain, e.Message);
        }
    }

    /// <summary>The records beside the definition, atomically. A failure leaves the guest running here, its snapshots untracked, reported.</summary>
    private void StoreSnapshots(IncomingRecord record, DomainDefinition definition, IReadOnlyList<Snapshots.SnapshotRecord> records)
    {
        try
        {
            new Snapshots.SnapshotCatalog(options.StateDirectory).Write(definition.Uuid, records);
            LogSnapshotsArrived(record.JobId, record.Domain, records.Count, string.Join(", ", records.Select(r => r.Name)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogSnapshotsNotStored(record.JobId, record.Domain, e.Message);
        }
    }

    private static async Task RemoveStreamSecurityWhenArrivedAsync(DomainInstance target, bool wait)
    {
        try
        {
            if (!wait && !(await target.Monitor.QueryMigrateAsync().ConfigureAwait(false)).Status.IsTerminal())
            {
                _ = RemoveStreamSecurityWhenArrivedAsync(target, wait: true);
                return;
            }
            for (var waited = TimeSpan.Zero; waited < TimeSpan.FromMinutes(30); waited += TimeSpan.FromMilliseconds(200))
            {
                if ((await target.Monitor.QueryMigrateAsync().ConfigureAwait(false)).Status.IsTerminal())
                    break;
                await Task.Delay(200).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or QmpTimeoutException)
        {
            return;
        }
        await RemoveStreamSecurityAsync(target).ConfigureAwait(false);
    }

    private static async Task WaitUntilLoadedAsync(DomainInstance target)
    {
        for (var waited = 0; waited < 60_000; waited += 5)
        {
            if (await target.Monitor.QueryStatusAsync().ConfigureAwait(false) != RunState.Inmigrate)
                return;
            await Task.Delay(5).ConfigureAwait(false);
        }
    }

    public async Task AbortAsync(string jobId)
    {
        _lastContact.TryRemove(jobId, out _);
        var record = journal.Find(jobId);
        if (record is null || record.State != IncomingState.Prepared)
            return;
        journal.Write(record with { State = IncomingState.Aborted });
        await dst.AbortAsync(jobId).ConfigureAwait(false);
        DeleteSharedMemoryFileUnlessUsed(DefinitionParser.Parse(record.Definition));
        // After the target is gone: it held them open.
        IncomingStorage.DeleteImages(record.CopiedImages);
        LogAborted(jobId, record.Domain);
    }

    /// <summary>The destination's own cancel: kills the prepared target of <paramref name="domainName"/>; its source keeps the guest.</summary>
    /// <exception cref="MigrationBusyException">No incoming migration of that domain, or it is committed already.</exception>
    public async Task<string> CancelIncomingAsync(string domainName)
    {
        var records = journal.ReadAll((_, _) => { }).Where(r => r.Domain == domainName).OrderByDescending(r => r.StartedAt).ToList();
        var prepared = records.FirstOrDefault(r => r.State == IncomingState.Prepared);
        if (prepared is null)
            throw new MigrationBusyException(records.FirstOrDefault() is { State: IncomingState.Committed } committed
                ? $"too late to cancel job {committed.JobId}: domain {domainName} already runs on this host"
                : $"domain {domainName} has no incoming migration on this host");
        await AbortAsync(prepared.JobId).ConfigureAwait(false);
        return prepared.JobId;
    }

    public string Query(string jobId)
    {
        Touch(jobId);
        return journal.Find(jobId)?.State switch
        {
            IncomingState.Prepared => PeerContract.IncomingStates.Prepared,
            IncomingState.Committed => PeerContract.IncomingStates.Committed,
            IncomingState.Aborted => PeerContract.IncomingStates.Aborted,
            _ => PeerContract.IncomingStates.Unknown,
        };
    }

    /// <summary>
    /// After a restart: a committed job is finished (this host owns the guest: define, promote, resume); a prepared one
    /// is dropped, since its target never ran and its source still holds the guest (it resumes it when its Commit or
    /// Query hears "aborted"); an aborted one's leftover target is killed.
    /// </summary>
    /// <returns>How many targets were kept and how many dropped.</returns>
    public async Task<(int Kept, int Dropped)> RecoverAsync(IReadOnlyList<(IncomingRecord Record, DomainInstance Target)> found)
    {
        var kept = 0;
        var dropped = 0;
        foreach (var (record, target) in found)
        {
            switch (record.State)
            {
                case IncomingState.Committed:
                    registry.Shadow.Register(target);
                    await CompleteCommitAsync(record, target).ConfigureAwait(false);
                    kept++;
                    break;
                case IncomingState.Prepared:
                    TryJournal(record with { State = IncomingState.Aborted });
                    await dst.DiscardAsync(target).ConfigureAwait(false);
                    DeleteSharedMemoryFileUnlessUsed(target.Definition);
                    IncomingStorage.DeleteImages(record.CopiedImages);
                    LogDroppedAfterRestart(record.JobId, record.Domain, target.Pid);
                    dropped++;
                    break;
                case IncomingState.Aborted:
                    await dst.DiscardAsync(target).ConfigureAwait(false);
                    dropped++;
                    break;
            }
        }
        var targets = found.Select(f => f.Record.JobId).ToHashSet(StringComparer.Ordinal);
        foreach (var orphan in journal.ReadAll((_, _) => { }).Where(r => r.State == IncomingState.Prepared && !targets.Contains(r.JobId)))
        {
            TryJournal(orphan with { State = IncomingState.Aborted });
            IncomingStorage.DeleteImages(orphan.CopiedImages);
            if (!orphan.Offline)
                DeleteSharedMemoryFileUnlessUsed(DefinitionParser.Parse(orphan.Definition));
        }
        return (kept, dropped);
    }

    /// <summary>Starts the lease check: a prepared target nobody asked about for <see cref="LeaseTimeout"/> is dropped.</summary>
    public void StartLeases() =>
        _leaseTimer ??= time.CreateTimer(_ => _ = DropExpiredAsync(), null, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));

    /// <summary>Recovery of a Prepared job after a restart: its source gets a lease from now to come back.</summary>
    internal void Touch(string jobId)
    {
        if (IncomingJournal.IsJobId(jobId))
            _lastContact[jobId] = time.GetUtcNow();
    }

    private async Task DropExpiredAsync()
    {
        var now = time.GetUtcNow();
        foreach (var (jobId, last) in _lastContact)
        {
            if (now - last < LeaseTimeout)
                continue;
            LogLeaseExpired(jobId, (int)LeaseTimeout.TotalSeconds);
            try
            {
                await AbortAsync(jobId).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogJournalFailed(jobId, e.Message);
            }
        }
    }

    private IncomingRecord Require(string jobId, IncomingState state)
    {
        var record = journal.Find(jobId) ?? throw new PeerRefusedException($"host {HostName}: no incoming job {jobId}");
        return record.State == state
            ? record
            : throw new PeerRefusedException($"host {HostName}: job {jobId} is {record.State.ToString().ToLowerInvariant()} here");
    }

    private void DeleteSharedMemoryFileUnlessUsed(DomainDefinition definition)
    {
        if (registry.FindByUuid(definition.Uuid) is { Active: not null })
            return;
        try
        {
            launcher.DeleteSharedMemoryFile(definition);
        }
        catch (IOException)
        {
        }
    }

    private void TryJournal(IncomingRecord record)
    {
        try
        {
            journal.Write(record);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogJournalFailed(record.JobId, e.Message);
        }
    }

    private static PrepareOptions ReadOptions(IReadOnlyDictionary<string, object> raw)
    {
        var options = new PrepareOptions();
        var errors = new List<string>();
        foreach (var (key, value) in raw)
        {
            switch (key, value)
            {
                case (PeerContract.PrepareKeys.ListenHost, string):
                    break;
                case (PeerContract.PrepareKeys.Persistent, bool b):
                    options = options with { Persistent = b };
                    break;
                case (PeerContract.PrepareKeys.Resume, bool b):
                    options = options with { Resume = b };
                    break;
                case (PeerContract.PrepareKeys.Offline, bool b):
                    options = options with { Offline = b };
                    break;
                case (PeerContract.PrepareKeys.CheckOnly, bool b):
                    options = options with { CheckOnly = b };
                    break;
                case (PeerContract.PrepareKeys.StreamTls, "none"):
                    options = options with { Security = StreamSecurity.None };
                    break;
                case (PeerContract.PrepareKeys.StreamTls, "psk"):
                    options = options with { Security = StreamSecurity.Psk };
                    break;
                case (PeerContract.PrepareKeys.StreamTls, "x509"):
                    options = options with { Security = StreamSecurity.X509 };
                    break;
                case (PeerContract.PrepareKeys.PskIdentity, Transport.MigrationPsk.Username):
                    break;
                case (PeerContract.PrepareKeys.PskKey, string hex) when hex.Length == 2 * Transport.MigrationPsk.KeyBytes && hex.All(char.IsAsciiHexDigit):
                    options = options with { PskKey = Convert.FromHexString(hex) };
                    break;
                case (PeerContract.PrepareKeys.MultifdChannels, uint channels) when channels is >= 1 and <= 255:
                    options = options with { MultifdChannels = (int)channels };
                    break;
                case (PeerContract.PrepareKeys.MultifdCompression, string compression)
                    when QapiEnum.Parse<MultifdCompression>(compression) is var c && c != MultifdCompression.Unknown:
                    options = options with { MultifdCompression = c };
                    break;
                case (PeerContract.PrepareKeys.CopyDisks, string[] entries):
                    options = options with { CopyDisks = entries };
                    break;
                case (PeerContract.PrepareKeys.CopyBackings, string[] entries):
                    options = options with { CopyBackings = entries };
                    break;
                case (PeerContract.PrepareKeys.Snapshots, string json):
                    try
                    {
                        options = options with { Snapshots = Snapshots.SnapshotCatalog.FromJson(json) };
                    }
                    catch (ArgumentException e)
                    {
                        errors.Add($"option {key}: {e.Message}");
                    }
                    break;
                case (PeerContract.PrepareKeys.Capabilities, string[] names):
                    var capabilities = new List<MigrationCapability>();
                    foreach (var name in names)
                    {
                        if (QapiEnum.Parse<MigrationCapability>(name) is var capability && capability != MigrationCapability.Unknown)
                            capabilities.Add(capability);
                        else
                            errors.Add($"option {key}: unknown capability '{name}'");
                    }
                    options = options with { Capabilities = capabilities };
                    break;
                default:
                    errors.Add($"option {key}: {BusValues.Describe(value)} is not understood by this host (protocol {PeerContract.ProtocolVersion})");
                    break;
            }
        }
        if (options.Security == StreamSecurity.Psk && options.PskKey is null)
            errors.Add($"option {PeerContract.PrepareKeys.PskKey}: streamTls psk needs the key ({2 * Transport.MigrationPsk.KeyBytes} hex digits)");
        return errors.Count == 0 ? options : throw new ArgumentException(string.Join("; ", errors));
    }

    public void Dispose() => _leaseTimer?.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Incoming job {JobId}: {DomainName} from {Source} prepared, target pid {Pid}, port {Port}")]
    private partial void LogPrepared(string jobId, string domainName, string source, int pid, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "Incoming job {JobId}: {DomainName} committed: runs here (pid {Pid})")]
    private partial void LogCommitted(string jobId, string domainName, int pid);

    [LoggerMessage(Level = LogLevel.Error, Message = "Incoming job {JobId}: {DomainName} committed, but its QEMU (pid {Pid}) did not resume: {Reason}")]
    private partial void LogNotResumed(string jobId, string domainName, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Incoming job {JobId}: {DomainName} aborted; its target is gone")]
    private partial void LogAborted(string jobId, string domainName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Incoming job {JobId}: the source did not call for {Seconds} s; the target is dropped (it never ran)")]
    private partial void LogLeaseExpired(string jobId, int seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Incoming job {JobId}: {DomainName} was prepared, not committed, when the daemon stopped; its paused target (pid {Pid}) is dropped, the source keeps the guest")]
    private partial void LogDroppedAfterRestart(string jobId, string domainName, int pid);

    [LoggerMessage(Level = LogLevel.Error, Message = "Incoming job {JobId}: cannot write the journal: {Reason}")]
    private partial void LogJournalFailed(string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Incoming job {JobId}: {DomainName}: {Count} snapshot record(s) stored: {Names}")]
    private partial void LogSnapshotsArrived(string jobId, string domainName, int count, string names);

    [LoggerMessage(Level = LogLevel.Error, Message = "Incoming job {JobId}: {DomainName} runs here, but its snapshot-carrying disks were not finished (the guest runs on their overlays): {Reason}")]
    private partial void LogSnapshotDisksNotFinished(string jobId, string domainName, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Incoming job {JobId}: {DomainName}: snapshot {Snapshot} does not match the images here: {Problem} (marked in its record)")]
    private partial void LogSnapshotMismatch(string jobId, string domainName, string snapshot, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Incoming job {JobId}: {DomainName} runs here, but its snapshot records were not stored (its snapshots list as untracked): {Reason}")]
    private partial void LogSnapshotsNotStored(string jobId, string domainName, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Domain {DomainName}: announce-self after the switch failed: {Reason}")]
    private partial void LogAnnounceFailed(string domainName, string reason);
}
