using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Domains;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// Decides, after a daemon restart, which instance of each domain holds the guest, and acts on it: the one owner of
/// that question. For every domain with instances found or a job the journal shows as running, it observes each
/// instance (QEMU's run state and migration status), asks <see cref="RecoveryPlanner.Decide"/>, then kills, keeps,
/// resumes and ends the job as decided. Exactly one instance per domain is registered, through the registry (which
/// raises every change). Runs after <see cref="InstanceAdopter"/> found and connected every live QEMU.
/// </summary>
public sealed partial class MigrationRecovery(DomainRegistry registry, MigrationJournal journal, MigrationService jobs,
    MigrationSrc src, Remote.PeerSessionFactory sessions, ILogger<MigrationRecovery> logger)
{
    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(30);

    public async Task<RecoveryReport> RecoverAsync(AdoptedInstances adopted, CancellationToken cancellationToken)
    {
        var scan = journal.Scan();
        foreach (var bad in scan.Rejected)
            LogJournalRejected(bad.File, bad.Reason, bad.SetAsideAs ?? "(could not be renamed)");
        LoadHistory(scan.Records.Where(r => r.State != MigrationJobState.Running));

        var running = scan.Records.Where(r => r.State == MigrationJobState.Running)
            .GroupBy(r => r.Uuid)
            .ToDictionary(g => g.Key, g => g.OrderByDescending(r => r.StartedAt).ToList());
        var uuids = adopted.Live.Select(i => i.Definition.Uuid)
            .Concat(adopted.Gone.Select(r => r.Uuid))
            .Concat(adopted.Unreachable.Select(r => r.Uuid))
            .Concat(running.Keys)
            .Distinct()
            .ToList();
        var kept = 0;
        var killed = 0;
        var crashed = new List<string>();
        var recovered = new List<MigrationJob>();
        foreach (var uuid in uuids)
        {
            var records = running.GetValueOrDefault(uuid) ?? [];
            var record = records.FirstOrDefault();
            var domain = registry.FindByUuid(uuid);
            // Only one job can run on a domain: an older record still "running" lost its daemon before it could end.
            foreach (var stale in records.Skip(1))
                recovered.Add(EndJob(domain, stale, MigrationJobState.Failed, $"daemon restarted in phase {stale.Phase}; superseded by job {record!.Id}"));
            var instances = adopted.Live.Where(i => i.Definition.Uuid == uuid).ToList();
            if (domain is null || domain.DefinitionError is not null)
            {
                // The journal names a domain that is not defined (or whose definition is unreadable): its instances,
                // if any, were kept as found by the adopter; the job can only be reported.
                if (record is not null)
                    recovered.Add(EndJob(domain, record, MigrationJobState.Failed,
                        $"daemon restarted in phase {record.Phase}; domain {record.Domain} ({uuid}) has no readable definition, its QEMUs were left as found"));
                continue;
            }

            if (record is { Kind: MigrationKind.Remote })
            {
                // The target is on another host: only its daemon knows whether it took the guest.
                recovered.Add(await RecoverRemoteAsync(domain, record, instances, cancellationToken).ConfigureAwait(false));
                kept += domain.Active is null ? 0 : 1;
                continue;
            }
            var (input, decision) = await DecideAsync(record, instances, adopted, uuid, cancellationToken).ConfigureAwait(false);
            LogDecided(domain.Name, input.ToString(), decision.ToString());
            var notResumed = await ApplyAsync(domain, decision, instances).ConfigureAwait(false);
            kept += decision.Keep is null ? 0 : 1;
            killed += decision.Kill.Count;
            if (decision.State == DomainState.Crashed)
                crashed.Add(domain.Name);
            if (record is not null)
            {
                var (state, error) = JobEnd(record, decision, notResumed);
                var job = EndJob(domain, record, state, error);
                recovered.Add(job);
                LogRecovered(record.Id, record.Domain, record.Phase, decision.Outcome, error ?? "completed");
            }
        }
        return new RecoveryReport(kept, killed, crashed, recovered, scan.Rejected);
    }

    /// <summary>
    /// The source side of a remote job after a restart. Before Confirm the commit was never sent, so the destination's
    /// target never ran (it waits paused, -S, and drops itself when its lease ends): the guest is this host's, the
    /// stream is cancelled and the source resumed. From Confirm on only the destination knows: asked, it says committed
    /// (the source hands over and quits) or not (the source resumes); unreachable, the source stays paused, held
    /// under the domain's lock, and the destination is asked again every <see cref="RemoteRetryInterval"/>.
    /// </summary>
    private async Task<MigrationJob> RecoverRemoteAsync(Domain domain, MigrationJournalRecord record, IReadOnlyList<DomainInstance> instances,
        CancellationToken cancellationToken)
    {
        var source = instances.FirstOrDefault(i => i.InstanceId == record.SourceInstanceId) ?? instances.FirstOrDefault();
        foreach (var other in instances.Where(i => i != source))
        {
            LogLeftRunning(domain.Name, other.InstanceId, other.Pid, "a second local instance beside a remote migration's source");
            await other.DetachAsync().ConfigureAwait(false);
        }
        var peer = record.Peer is { } text ? Remote.PeerUri.Parse(text) : null;
        string? answer;
        if (record.Phase < MigrationPhase.Confirm || peer is null)
        {
            answer = Contract.PeerContract.IncomingStates.Aborted;
            if (peer is not null)
                _ = AbortPeerAsync(peer, record.Id);
        }
        else
        {
            answer = await AskPeerAsync(peer, record.Id, cancellationToken).ConfigureAwait(false);
        }
        var prefix = $"daemon restarted in phase {record.Phase}; ";
        if (answer is null)
        {
            if (source is null)
            {
                registry.SetState(domain, DomainState.Shutoff);
                return EndJob(domain, record, MigrationJobState.Failed, prefix + $"no QEMU of it here, and {peer} does not answer: the guest runs there or nowhere");
            }
            await SettleAsync([source], cancellationToken).ConfigureAwait(false);
            registry.SetActive(domain, source, DomainState.Paused);
            _ = ResolveLaterAsync(domain, record, source, peer!);
            return EndJob(domain, record, MigrationJobState.Failed, prefix + $"{peer} does not answer whether it took the guest: it stays paused here, " +
                $"asked again every {RemoteRetryInterval.TotalSeconds:0} s");
        }
        var resolved = await ApplyRemoteAnswerAsync(domain, record, source, answer, peer).ConfigureAwait(false);
        return EndJob(domain, record, resolved.State, resolved.Error is null ? null : prefix + resolved.Error);
    }

    /// <summary>How often a source whose destination did not answer after a restart asks again.</summary>
    public static readonly TimeSpan RemoteRetryInterval = TimeSpan.FromSeconds(10);

    private async Task<(MigrationJobState State, string? Error)> ApplyRemoteAnswerAsync(Domain domain, MigrationJournalRecord record,
        DomainInstance? source, string answer, Remote.PeerUri? peer)
    {
        if (answer == Contract.PeerContract.IncomingStates.Committed)
        {
            if (source is not null)
            {
                registry.SetActive(domain, source, DomainState.Paused);
                await src.HandOverAsync(domain, source, record.UndefineSource, _ => ValueTask.CompletedTask).ConfigureAwait(false);
                // The image here stays what the guest left (as after a switch without the crash): its overlay merged in.
                if (await Remote.StorageMirror.MergeAfterHandOverAsync(source, record.SnapshotDisks).ConfigureAwait(false) is { } notMerged)
                    LogOverlayLeft(record.Id, domain.Name, notMerged);
            }
            else
            {
                registry.SetState(domain, DomainState.Shutoff);
            }
            LogRemoteCommitted(record.Id, domain.Name, peer?.Text ?? "?");
            return (MigrationJobState.Completed, null);
        }
        if (answer == Contract.PeerContract.IncomingStates.Prepared && peer is not null)
            _ = AbortPeerAsync(peer, record.Id);
        if (source is null)
        {
            registry.SetState(domain, DomainState.Crashed);
            return (MigrationJobState.Failed, $"the destination did not take the guest ({answer}) and its QEMU here is gone");
        }
        await SettleAsync([source], CancellationToken.None).ConfigureAwait(false);
        // A snapshot-carrying copy froze the image under an overlay: merged back before the guest resumes on it.
        var overlayLeft = record.SnapshotDisks.Count > 0 ? await Remote.StorageMirror.RecoverSourceAsync(source, record.SnapshotDisks).ConfigureAwait(false) : null;
        string? notResumed = null;
        if (record.SourceWasRunning)
            notResumed = await ResumeAsync(source).ConfigureAwait(false);
        registry.SetActive(domain, source, record.SourceWasRunning && notResumed is null ? DomainState.Running : DomainState.Paused);
        return (MigrationJobState.Failed, $"the destination did not take the guest ({answer}): it stays on this host" +
                                          (notResumed is null ? "" : $", but did not resume: {notResumed}") +
                                          (overlayLeft is null ? "" : $"; its disks' temporary overlays were not merged back: {overlayLeft}"));
    }

    /// <summary>Holds the domain (its lock) until the destination answers, then applies the answer.</summary>
    private async Task ResolveLaterAsync(Domain domain, MigrationJournalRecord record, DomainInstance source, Remote.PeerUri peer)
    {
        await domain.Lock.WaitAsync().ConfigureAwait(false);
        try
        {
            registry.SetOperation(domain, $"waiting for {peer} to say whether it took the guest (job {record.Id})");
            while (true)
            {
                await Task.Delay(RemoteRetryInterval).ConfigureAwait(false);
                if (await AskPeerAsync(peer, record.Id, CancellationToken.None).ConfigureAwait(false) is { } answer)
                {
                    var (_, error) = await ApplyRemoteAnswerAsync(domain, record, source, answer, peer).ConfigureAwait(false);
                    LogRemoteResolvedLate(record.Id, domain.Name, answer, error ?? "the guest runs there");
                    return;
                }
            }
        }
        finally
        {
            registry.SetOperation(domain, null);
            domain.Lock.Release();
        }
    }

    /// <returns>The destination's journal state of the job, or null when it cannot be reached.</returns>
    private async Task<string?> AskPeerAsync(Remote.PeerUri peer, string jobId, CancellationToken cancellationToken)
    {
        try
        {
            await using var session = await sessions.OpenAsync(peer, cancellationToken).ConfigureAwait(false);
            return await session.Peer.QueryAsync(jobId).WaitAsync(QueryTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogPeerUnanswered(jobId, peer.Text, e.Message);
            return null;
        }
    }

    private async Task AbortPeerAsync(Remote.PeerUri peer, string jobId)
    {
        try
        {
            await using var session = await sessions.OpenAsync(peer, CancellationToken.None).ConfigureAwait(false);
            await session.Peer.AbortAsync(jobId).WaitAsync(QueryTimeout).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Its target never ran; its lease drops it.
            LogPeerUnanswered(jobId, peer.Text, e.Message);
        }
    }

    /// <summary>Observe, decide; while a stream still flows, cancel it, wait, and decide again on what is left.</summary>
    private async Task<(RecoveryInput, RecoveryDecision)> DecideAsync(MigrationJournalRecord? record, IReadOnlyList<DomainInstance> instances,
        AdoptedInstances adopted, Guid uuid, CancellationToken cancellationToken)
    {
        var settled = false;
        while (true)
        {
            var observed = new List<ObservedInstance>();
            foreach (var instance in instances)
                observed.Add(await ObserveAsync(instance, cancellationToken).ConfigureAwait(false));
            observed.AddRange(adopted.Gone.Where(r => r.Uuid == uuid)
                .Select(r => new ObservedInstance(r.InstanceId, InstanceLiveness.Gone, QemuRunState.Paused, QemuMigrationStatus.None, r.Role)));
            observed.AddRange(adopted.Unreachable.Where(r => r.Uuid == uuid)
                .Select(r => new ObservedInstance(r.InstanceId, InstanceLiveness.Deaf, QemuRunState.Paused, QemuMigrationStatus.None, r.Role)));
            var input = new RecoveryInput(record?.Phase, record?.SourceInstanceId, record?.TargetInstanceId,
                record?.SourceWasRunning ?? false, settled, observed);
            var decision = RecoveryPlanner.Decide(input);
            if (decision.Action == RecoveryAction.Resolve)
                return (input, decision);
            LogSettling(instances[0].Definition.Name, decision.Reason);
            await SettleAsync(instances, cancellationToken).ConfigureAwait(false);
            settled = true;
        }
    }

    /// <returns>null, or why the kept instance could not be resumed.</returns>
    private async Task<string?> ApplyAsync(Domain domain, RecoveryDecision decision, IReadOnlyList<DomainInstance> instances)
    {
        foreach (var id in decision.Kill)
            await KillAsync(instances.Single(i => i.InstanceId == id)).ConfigureAwait(false);
        // Undecided: an instance that may hold the guest is neither kept nor killed. It runs on, unwatched and reported.
        foreach (var untouched in instances.Where(i => i.InstanceId != decision.Keep && !decision.Kill.Contains(i.InstanceId)))
        {
            LogLeftRunning(domain.Name, untouched.InstanceId, untouched.Pid, decision.Reason);
            await untouched.DetachAsync().ConfigureAwait(false);
        }
        if (decision.Keep is null)
        {
            if (domain.Active is null)
                registry.SetState(domain, decision.State);
            return null;
        }
        var keeper = instances.Single(i => i.InstanceId == decision.Keep);
        var state = decision.State;
        string? notResumed = null;
        if (decision.Resume)
        {
            notResumed = await ResumeAsync(keeper).ConfigureAwait(false);
            if (notResumed is not null)
                state = DomainState.Paused;
        }
        // The file follows the decision, never the other way round.
        if (keeper.Record.Role != InstanceRole.Active)
        {
            try
            {
                keeper.SaveRecord(keeper.Record with { Role = InstanceRole.Active });
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogRecordNotSaved(domain.Name, keeper.InstanceId, e.Message);
            }
        }
        registry.SetActive(domain, keeper, state);
        LogAdopted(domain.Name, keeper.InstanceId, keeper.Pid, state);
        return notResumed;
    }

    private static (MigrationJobState, string?) JobEnd(MigrationJournalRecord record, RecoveryDecision decision, string? notResumed)
    {
        var prefix = $"daemon restarted in phase {record.Phase}; ";
        var suffix = notResumed is null ? "" : $"; but the guest did not resume: {notResumed}";
        return decision.Outcome switch
        {
            RecoveryOutcome.Completed when notResumed is null => (MigrationJobState.Completed, null),
            _ => (MigrationJobState.Failed, prefix + decision.Reason + suffix),
        };
    }

    private MigrationJob EndJob(Domain? domain, MigrationJournalRecord record, MigrationJobState state, string? error)
    {
        var job = new MigrationJob(record.Id, record.Domain, record.Uuid, record.Kind, new MigrationOptions(), record.StartedAt, record.Phase);
        if (record.Stats is not null)
            job.SetStats(record.Stats);
        job.End(state, error);
        TryJournal(record with { State = state, Error = error });
        jobs.AddRecovered(job);
        if (domain is not null)
            registry.SetLastJob(domain, job);
        return job;
    }

    /// <summary>Ended jobs from the journal, so jobs and status still show recent migrations after a restart.</summary>
    private void LoadHistory(IEnumerable<MigrationJournalRecord> ended)
    {
        foreach (var record in ended.OrderBy(r => r.StartedAt))
        {
            var job = new MigrationJob(record.Id, record.Domain, record.Uuid, record.Kind, new MigrationOptions(), record.StartedAt, record.Phase);
            if (record.Stats is not null)
                job.SetStats(record.Stats);
            job.End(record.State, record.Error);
            jobs.AddRecovered(job);
            if (registry.FindByUuid(record.Uuid) is { } domain)
                registry.SetLastJob(domain, job);
        }
    }

    private async Task<ObservedInstance> ObserveAsync(DomainInstance instance, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(QueryTimeout);
        try
        {
            var run = Classify(await instance.Monitor.QueryStatusAsync(cancellationToken: timeout.Token).ConfigureAwait(false));
            var migration = Classify((await instance.Monitor.QueryMigrateAsync(cancellationToken: timeout.Token).ConfigureAwait(false)).Status);
            return new ObservedInstance(instance.InstanceId, InstanceLiveness.Answering, run, migration, instance.Record.Role);
        }
        catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or IOException
                                      || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var liveness = instance.HasExited ? InstanceLiveness.Gone : InstanceLiveness.Deaf;
            LogNotAnswering(instance.Definition.Name, instance.InstanceId, instance.Pid, liveness, e.Message);
            return new ObservedInstance(instance.InstanceId, liveness, QemuRunState.Paused, QemuMigrationStatus.None, instance.Record.Role);
        }
    }

    /// <summary>Cancels every outgoing stream (a no-op on a target) and waits until no instance reports one in flight.</summary>
    private static async Task SettleAsync(IReadOnlyList<DomainInstance> instances, CancellationToken cancellationToken)
    {
        foreach (var instance in instances.Where(i => !i.HasExited))
            await TryMigrateCancelAsync(instance).ConfigureAwait(false);
        var deadline = TimeProvider.System.GetTimestamp() + (long)(SettleTimeout.TotalSeconds * TimeProvider.System.TimestampFrequency);
        while (TimeProvider.System.GetTimestamp() < deadline)
        {
            var flowing = false;
            foreach (var instance in instances.Where(i => !i.HasExited))
            {
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(QueryTimeout);
                    flowing |= Classify((await instance.Monitor.QueryMigrateAsync(cancellationToken: timeout.Token).ConfigureAwait(false)).Status)
                               == QemuMigrationStatus.InFlight;
                }
                catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or IOException
                                              || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    // Observed again (gone or deaf) right after.
                }
            }
            if (!flowing)
                return;
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task KillAsync(DomainInstance instance)
    {
        try
        {
            await instance.KillAsync().ConfigureAwait(false);
            instance.RemoveRuntimeDirectory();
            LogKilled(instance.Definition.Name, instance.InstanceId, instance.Pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogKillFailed(instance.Definition.Name, instance.InstanceId, instance.Pid, e.Message);
        }
        await instance.DisposeAsync().ConfigureAwait(false);
    }

    /// <returns>null, or why cont failed.</returns>
    private async Task<string?> ResumeAsync(DomainInstance instance)
    {
        try
        {
            using var timeout = new CancellationTokenSource(QueryTimeout);
            await instance.Monitor.ContAsync(cancellationToken: timeout.Token).ConfigureAwait(false);
            LogResumed(instance.Definition.Name, instance.InstanceId, instance.Pid);
            return null;
        }
        catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or IOException or OperationCanceledException)
        {
            return e.Message;
        }
    }

    private static async Task TryMigrateCancelAsync(DomainInstance instance)
    {
        try
        {
            await instance.Monitor.MigrateCancelAsync(QueryTimeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or QmpTimeoutException or IOException or OperationCanceledException)
        {
        }
    }

    /// <summary>QEMU's run state as the recovery planner weighs it.</summary>
    internal static QemuRunState Classify(RunState state) => state switch
    {
        RunState.Running => QemuRunState.Running,
        RunState.Inmigrate => QemuRunState.Inmigrate,
        RunState.Postmigrate => QemuRunState.Postmigrate,
        RunState.FinishMigrate => QemuRunState.FinishMigrate,
        // paused, suspended, io-error, shutdown, guest-panicked, internal-error, prelaunch, watchdog, debug, unknown:
        // stopped, and still holding whatever guest it has.
        _ => QemuRunState.Paused,
    };

    /// <summary>QEMU's migration status as the recovery planner weighs it.</summary>
    internal static QemuMigrationStatus Classify(MigrationStatus status) => status switch
    {
        MigrationStatus.None => QemuMigrationStatus.None,
        MigrationStatus.Completed => QemuMigrationStatus.Completed,
        MigrationStatus.Failed => QemuMigrationStatus.Failed,
        MigrationStatus.Cancelled => QemuMigrationStatus.Cancelled,
        // setup, active, device, pre-switchover, cancelling, wait-unplug, postcopy-*, colo, unknown: a stream may still flow.
        _ => QemuMigrationStatus.InFlight,
    };

    private void TryJournal(MigrationJournalRecord record)
    {
        try
        {
            journal.Write(record);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogJournalFailed(record.Id, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: {DomainName} was in {Phase} when the daemon stopped; resolved {Outcome}: {Result}")]
    private partial void LogRecovered(string jobId, string domainName, MigrationPhase phase, RecoveryOutcome outcome, string result);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: {DomainName} runs on {Peer} (it committed); the source here is handed over")]
    private partial void LogRemoteCommitted(string jobId, string domainName, string peer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: {DomainName}: the destination answered at last ({Answer}): {Result}")]
    private partial void LogRemoteResolvedLate(string jobId, string domainName, string answer, string result);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: destination {Peer} did not answer: {Reason}")]
    private partial void LogPeerUnanswered(string jobId, string peer, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Domain {DomainName}: {Input} => {Decision}")]
    private partial void LogDecided(string domainName, string input, string decision);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Domain {DomainName}: {Reason}")]
    private partial void LogSettling(string domainName, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Adopted {DomainName}: instance {InstanceId}, pid {Pid}, state {State}")]
    private partial void LogAdopted(string domainName, string instanceId, int pid, DomainState state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Domain {DomainName}: instance {InstanceId} (pid {Pid}) holds no newer guest; killed and removed")]
    private partial void LogKilled(string domainName, string instanceId, int pid);

    [LoggerMessage(Level = LogLevel.Error, Message = "Domain {DomainName}: instance {InstanceId} (pid {Pid}) could not be killed: {Reason}")]
    private partial void LogKillFailed(string domainName, string instanceId, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Domain {DomainName}: instance {InstanceId} (pid {Pid}) left running, not adopted: {Reason}")]
    private partial void LogLeftRunning(string domainName, string instanceId, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Domain {DomainName}: instance {InstanceId} (pid {Pid}) resumed")]
    private partial void LogResumed(string domainName, string instanceId, int pid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: {DomainName} runs on the destination; a temporary overlay here was not merged into its image: {Reason}")]
    private partial void LogOverlayLeft(string jobId, string domainName, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Domain {DomainName}: instance {InstanceId} (pid {Pid}) did not answer ({Liveness}): {Reason}")]
    private partial void LogNotAnswering(string domainName, string instanceId, int pid, InstanceLiveness liveness, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Domain {DomainName}: instance.json of {InstanceId} not rewritten: {Reason}")]
    private partial void LogRecordNotSaved(string domainName, string instanceId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Journal file {File} set aside as {SetAsideAs}: {Reason}")]
    private partial void LogJournalRejected(string file, string reason, string setAsideAs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: cannot write the journal: {Reason}")]
    private partial void LogJournalFailed(string jobId, string reason);
}
