using System.Runtime.CompilerServices;
using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Domains;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// Drives one job through Begin, Prepare, Perform, Finish, Confirm. Every phase is journaled before it acts.
/// Until Confirm a failure (or a cancel, or a timeout) rolls back: the target is killed and removed, the source
/// resumed. From Confirm on the target holds the newest guest state, so nothing rolls back any more.
/// </summary>
public sealed partial class MigrationRunner(MigrationSrc src, IMigrationDestination localDst, MigrationJournal journal,
    IMigrationPhaseGate gate, DomainRegistry registry, Remote.PeerSessionFactory sessions, ILogger<MigrationRunner> logger)
{
    /// <summary>How long a rollback waits for a QEMU to answer before it gives up on it and ends the job.</summary>
    public static readonly TimeSpan RollbackTimeout = TimeSpan.FromSeconds(15);

    public async Task RunAsync(Domain domain, MigrationJob job)
    {
        if (job.Options.IsOffline && job.Destination is { } offlinePeer)
        {
            await RunOfflineAsync(domain, job, offlinePeer).ConfigureAwait(false);
            return;
        }
        var record = new MigrationJournalRecord
        {
            Id = job.Id,
            Domain = job.DomainName,
            Uuid = job.DomainUuid,
            Kind = job.Kind,
            Phase = MigrationPhase.Begin,
            State = MigrationJobState.Running,
            StartedAt = job.StartedAt,
            // Named from the first write on, so a crash in Begin still tells recovery which instance is the guest.
            SourceInstanceId = domain.Active?.InstanceId,
            SourcePid = domain.Active?.Pid ?? 0,
            SourceWasRunning = domain.State == DomainState.Running,
            Peer = job.Destination?.Text,
            UndefineSource = job.Options.UndefinesSource,
        };
        IMigrationDestination dst = localDst;
        Remote.RemoteDestination? remote = null;
        var targetExited = Task.CompletedTask;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(job.CancellationToken);
        deadline.CancelAfter(job.Options.Timeout);
        var token = deadline.Token;
        BeginResult? begin = null;
        PrepareResult? prepared = null;
        Remote.StorageMirror? mirror = null;
        // Set once the target is the domain's instance: from there on nothing rolls back to the source.
        var promoted = new StrongBox<bool>();
        try
        {
            record = await EnterAsync(job, record, MigrationPhase.Begin, token).ConfigureAwait(false);
            begin = await src.BeginAsync(domain, job.Options, remote: job.Destination is not null, token).ConfigureAwait(false);
            record = record with
            {
                SourceInstanceId = begin.Source.InstanceId,
                SourcePid = begin.Source.Pid,
                TargetBinary = begin.TargetBinary,
                SourceWasRunning = begin.SourceWasRunning,
            };

            record = await EnterAsync(job, record, MigrationPhase.Prepare, token).ConfigureAwait(false);
            IReadOnlyList<CopiedDisk> copied = [];
            if (job.Destination is { } peer)
            {
                copied = await Remote.StorageCopyPlan.ForSourceAsync(begin.Source.Definition, job.Options.CopyStorage,
                    Snapshots.QemuImg.For(begin.Source.Binary), token).ConfigureAwait(false);
                // The destination merges its overlay into the copied image once the guest runs there; a guest that stays
                // paused would leave it in place, and its snapshot commands on the wrong node.
                if (!begin.SourceWasRunning && copied.Any(c => c.CarriesSnapshots))
                    throw new MigrationException(MigrationPhase.Prepare, $"domain {job.DomainName} is paused and disk(s) " +
                        $"{string.Join(", ", copied.Where(c => c.CarriesSnapshots).Select(c => $"disks[{c.Index}]"))} hold internal snapshots: " +
                        "a storage copy carries them only for a running guest; resume it first");
                if (copied.Count > 0)
                {
                    // Journaled before the overlays exist: recovery after a crash from here on merges back whatever is there.
                    record = record with { SnapshotDisks = copied.Where(c => c.CarriesSnapshots).Select(c => c.Index).ToList() };
                    if (record.SnapshotDisks.Count > 0)
                        journal.Write(record);
                    // Before the destination prepares: it sizes each snapshot-carrying image to the file frozen here.
                    mirror = new Remote.StorageMirror(begin.Source, copied, job, logger);
                    await mirror.FreezeAsync(token).ConfigureAwait(false);
                    copied = mirror.Disks;
                }
                var session = await sessions.OpenAsync(peer, token).ConfigureAwait(false);
                dst = remote = new Remote.RemoteDestination(session, sessions, job.Options, begin.SourceWasRunning, sessions.PkiDirectory);
            }
            prepared = await dst.PrepareAsync(new PrepareRequest(job.Id, begin.Source.Definition, begin.TargetBinary, begin.IgnoreShared)
                { SourceInstanceId = remote is null ? begin.Source.InstanceId : null, TargetTuning = begin.Tuning?.Target, CopiedDisks = copied, Snapshots = remote is null ? [] : src.SnapshotRecordsOf(domain) }, token).ConfigureAwait(false);
            job.SetTargetSettings(prepared.TargetSettings);
            LogSnapshotProblems(job, prepared);
            record = record with { TargetInstanceId = prepared.InstanceId, TargetPid = prepared.Pid, Uri = prepared.Uri };

            record = await EnterAsync(job, record, MigrationPhase.Perform, token).ConfigureAwait(false);
            targetExited = dst.WhenTargetExits(job.Id);
            if (remote is not null)
                await remote.SecureSourceStreamAsync(begin.Source, token).ConfigureAwait(false);
            if (remote is not null && copied.Count > 0)
            {
                if (prepared.NbdPort == 0)
                    throw new MigrationException(MigrationPhase.Prepare, $"destination {remote.Uri} prepared no NBD export for the disks to copy");
                // The disks first, until every mirror is in step; the RAM follows, and the disks switch at its end.
                await mirror!.StartAsync(remote.Uri.Host, prepared.NbdPort, remote.Security, token).ConfigureAwait(false);
                await mirror.WaitReadyAsync(targetExited, token).ConfigureAwait(false);
                job.BeforeSwitchover = mirror.SwitchAsync;
            }
            // Remote postcopy: the guest must run on the destination while the rest of its RAM follows, so the commit point
            // moves to the switch to postcopy (from there on the source's RAM is older than the guest's anyway).
            var committedEarly = false;
            if (remote is not null)
            {
                var handOverJob = job;
                job.PostcopyHandOver = async () =>
                {
                    promoted.Value = true;
                    try
                    {
                        await remote.CommitAsync(handOverJob.Id).ConfigureAwait(false);
                    }
                    catch (Remote.PeerCommitRefusedException)
                    {
                        promoted.Value = false;
                        throw;
                    }
                    committedEarly = true;
                    LogCommittedInPostcopy(handOverJob.Id, handOverJob.DomainName, remote.Uri.Text);
                };
            }
            var performed = await src.PerformAsync(job, begin, prepared.Uri, targetExited, token, prepared.SourceTuned).ConfigureAwait(false);

            record = await EnterAsync(job, record, MigrationPhase.Finish, CancellationToken.None).ConfigureAwait(false);
            var finish = committedEarly
                ? new FinishResult(prepared.Pid, prepared.QemuVersion, RunState.Running)
                : await dst.FinishAsync(job.Id, resume: job.GuestPausedForTransfer && begin.SourceWasRunning, CancellationToken.None).ConfigureAwait(false);
            var totalMs = (long)job.Elapsed.TotalMilliseconds;
            // QEMU's figures arrive a few ms after completion. A local target already runs the guest, so waiting for them
            // costs nothing; a remote one resumes only at Commit, so there they are read after it, out of the guest's pause.
            var figures = BuildStatsAsync(job, begin, performed, finish, totalMs);
            MigrationStats stats;
            if (remote is null)
            {
                stats = await figures.ConfigureAwait(false);
                record = record with { Stats = stats };
            }

            // The commit point. Journaled first, so a crash from here on is resolved towards a target that still runs.
            record = await EnterAsync(job, record, MigrationPhase.Confirm, CancellationToken.None).ConfigureAwait(false);
            if (committedEarly)
                await src.HandOverAsync(domain, begin.Source, job.Options.UndefinesSource, step => ReachedAsync(job, step)).ConfigureAwait(false);
            else
                await ConfirmAsync(domain, job, begin, dst, targetExited, promoted).ConfigureAwait(false);
            stats = await figures.ConfigureAwait(false);
            record = record with { Stats = stats };
            if (mirror is not null)
                await mirror.MergeAfterHandOverAsync().ConfigureAwait(false);
            TryJournal(record with { State = MigrationJobState.Completed });
            LogCompleted(job.Id, job.DomainName, stats.SourcePid, stats.TargetPid, stats.DowntimeMs, stats.TotalMs, stats.TransferredBytes);
            job.End(MigrationJobState.Completed, null);
        }
        catch (Exception e)
        {
            var state = e is OperationCanceledException && job.CancellationToken.IsCancellationRequested
                ? MigrationJobState.Cancelled
                : MigrationJobState.Failed;
            var error = Describe(e, job, deadline.IsCancellationRequested && !job.CancellationToken.IsCancellationRequested);
            // The mirrors stop before the destination goes, so none is left writing into a vanished export.
            if (mirror is not null && !promoted.Value)
                error += await mirror.AbortAsync().ConfigureAwait(false);
            if (!promoted.Value)
                error += await RollbackAsync(job, dst, begin, prepared).ConfigureAwait(false);
            if (remote is not null && begin is not null && !promoted.Value)
                await Remote.RemoteMigrationDst.RemoveStreamSecurityAsync(begin.Source).ConfigureAwait(false);
            TryJournal(record with { State = state, Error = error });
            LogEnded(job.Id, job.DomainName, state, job.Phase, error);
            job.End(state, error);
        }
        finally
        {
            if (remote is not null)
                await remote.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// An offline migration: only the definition moves. Prepare (the destination checks it), then Confirm (it defines
    /// it; this host undefines it unless told to keep it). No QEMU runs on either side.
    /// </summary>
    private async Task RunOfflineAsync(Domain domain, MigrationJob job, Remote.PeerUri peer)
    {
        var record = new MigrationJournalRecord
        {
            Id = job.Id, Domain = job.DomainName, Uuid = job.DomainUuid, Kind = job.Kind, Phase = MigrationPhase.Begin,
            State = MigrationJobState.Running, StartedAt = job.StartedAt, Peer = peer.Text, UndefineSource = job.Options.UndefinesSource,
        };
        Remote.RemoteDestination? remote = null;
        try
        {
            record = await EnterAsync(job, record, MigrationPhase.Begin, job.CancellationToken).ConfigureAwait(false);
            if (domain.Active is not null)
                throw new MigrationException(MigrationPhase.Begin, $"domain {domain.Name} is {domain.State.ToString().ToLowerInvariant()}: an offline migration moves a shut-off domain");
            record = await EnterAsync(job, record, MigrationPhase.Prepare, job.CancellationToken).ConfigureAwait(false);
            var session = await sessions.OpenAsync(peer, job.CancellationToken).ConfigureAwait(false);
            remote = new Remote.RemoteDestination(session, sessions, job.Options, resume: false, sessions.PkiDirectory);
            LogSnapshotProblems(job, await remote.PrepareAsync(new PrepareRequest(job.Id, domain.Definition, "", IgnoreShared: false) { Snapshots = src.SnapshotRecordsOf(domain) },
                job.CancellationToken).ConfigureAwait(false));
            record = await EnterAsync(job, record, MigrationPhase.Confirm, CancellationToken.None).ConfigureAwait(false);
            try
            {
                await remote.CommitAsync(job.Id).ConfigureAwait(false);
            }
            catch (Remote.PeerCommitRefusedException e)
            {
                throw new MigrationException(MigrationPhase.Confirm, $"{e.Message}; the definition stays here");
            }
            await src.HandOverAsync(domain, null, job.Options.UndefinesSource, _ => ValueTask.CompletedTask).ConfigureAwait(false);
            TryJournal(record with { State = MigrationJobState.Completed });
            job.End(MigrationJobState.Completed, null);
        }
        catch (Exception e)
        {
            var state = e is OperationCanceledException ? MigrationJobState.Cancelled : MigrationJobState.Failed;
            var error = Describe(e, job, timedOut: false);
            if (remote is not null && job.Phase < MigrationPhase.Confirm)
                await TryAbortAsync(remote, job.Id).ConfigureAwait(false);
            TryJournal(record with { State = state, Error = error });
            LogEnded(job.Id, job.DomainName, state, job.Phase, error);
            job.End(state, error);
        }
        finally
        {
            if (remote is not null)
                await remote.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task TryAbortAsync(IMigrationDestination dst, string jobId)
    {
        try
        {
            await dst.AbortAsync(jobId).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Nothing runs there for an offline job; an undelivered abort leaves only a journal line.
        }
    }

    /// <summary>
    /// Confirm, step by step. The source may only go once the target is known to run the guest: if the target died
    /// after the switch-over, the stopped source (postmigrate) still holds the guest, and the job rolls back to it.
    /// Once the target is promoted nothing rolls back; a target that ends before the source is gone fails the job,
    /// which never reports success for a guest no QEMU runs.
    /// </summary>
    private async Task ConfirmAsync(Domain domain, MigrationJob job, BeginResult begin, IMigrationDestination dst, Task targetExited,
        StrongBox<bool> promoted)
    {
        var notRunning = await dst.VerifyTargetAsync(job.Id, begin.SourceWasRunning, CancellationToken.None).ConfigureAwait(false);
        if (notRunning is not null)
            throw new MigrationException(MigrationPhase.Confirm, $"{notRunning}; the guest stays on the source");
        await ReachedAsync(job, ConfirmStep.TargetVerified).ConfigureAwait(false);

        promoted.Value = true;
        try
        {
            await dst.CommitAsync(job.Id).ConfigureAwait(false);
        }
        catch (Remote.PeerCommitRefusedException e)
        {
            // The destination says it did not take the guest: it is still here, and the rollback resumes it.
            promoted.Value = false;
            throw new MigrationException(MigrationPhase.Confirm, $"{e.Message}; the guest stays on the source");
        }
        await ReachedAsync(job, ConfirmStep.TargetPromoted).ConfigureAwait(false);
        if (job.Destination is not null)
        {
            // The guest runs on the other host now: this one lets go of the domain, then of its QEMU.
            await src.HandOverAsync(domain, begin.Source, job.Options.UndefinesSource, step => ReachedAsync(job, step)).ConfigureAwait(false);
            return;
        }

        if (targetExited.IsCompleted)
            await ReinstateSourceAsync(domain, job, begin).ConfigureAwait(false);
        await ConfirmSourceAsync(job, begin.Source).ConfigureAwait(false);
        if (targetExited.IsCompleted)
            throw new MigrationException(MigrationPhase.Confirm, "the target QEMU exited during Confirm: no QEMU runs the guest any more");
    }

    private ValueTask ReachedAsync(MigrationJob job, ConfirmStep step)
    {
        LogConfirmStep(job.Id, job.DomainName, step);
        return gate.OnConfirmStepAsync(job, step);
    }

    /// <summary>
    /// The target was promoted but died before the source was told to quit: the source's stopped copy is the only one
    /// left. It becomes the domain's instance again and resumes; the job fails. Never two QEMUs, never none.
    /// </summary>
    private async Task ReinstateSourceAsync(Domain domain, MigrationJob job, BeginResult begin)
    {
        var deadTarget = domain.Active;
        registry.SetActive(domain, begin.Source, begin.SourceWasRunning ? DomainState.Running : DomainState.Paused);
        try
        {
            begin.Source.SaveRecord(begin.Source.Record with { Role = InstanceRole.Active });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogJournalFailed(job.Id, e.Message);
        }
        if (deadTarget is not null && deadTarget != begin.Source)
        {
            deadTarget.RemoveRuntimeDirectory();
            await deadTarget.DisposeAsync().ConfigureAwait(false);
        }
        using var timeout = new CancellationTokenSource(RollbackTimeout);
        var notResumed = await src.RecoverAsync(begin.Source, begin.SourceWasRunning && !job.PostcopyStarted, timeout.Token).ConfigureAwait(false);
        if (notResumed is not null)
            registry.SetState(domain, DomainState.Paused);
        throw new MigrationException(MigrationPhase.Confirm, "the target QEMU exited right after it was promoted; the guest "
            + (notResumed is null ? "resumed on the source" : $"stays on the source, which did not resume: {notResumed}"));
    }

    /// <param name="cancellationToken">The job's token before the switch; none from Finish on, where nothing may stop the commit.</param>
    private async Task<MigrationJournalRecord> EnterAsync(MigrationJob job, MigrationJournalRecord record, MigrationPhase phase,
        CancellationToken cancellationToken)
    {
        var next = record with { Phase = phase };
        journal.Write(next);
        job.EnterPhase(phase);
        LogPhase(job.Id, job.DomainName, phase);
        await gate.OnEnterAsync(job, phase, cancellationToken).ConfigureAwait(false);
        return next;
    }

    private async Task<MigrationStats> BuildStatsAsync(MigrationJob job, BeginResult begin, PerformResult performed, FinishResult finish, long totalMs)
    {
        var info = await ReadFiguresAsync(job, performed).ConfigureAwait(false);
        var stats = new MigrationStats
        {
            // QEMU counts its downtime from its own stop at completion; a guest paused for the whole transfer was down for all of it.
            DowntimeMs = (info.Downtime ?? 0) + (job.GuestPausedForTransfer ? info.TotalTime ?? 0 : 0),
            TotalMs = totalMs,
            QemuTotalMs = info.TotalTime ?? 0,
            TransferredBytes = info.Ram?.Transferred ?? 0,
            SourcePid = begin.Source.Pid,
            TargetPid = finish.Pid,
            SourceVersion = begin.Source.QemuVersion,
            TargetVersion = finish.QemuVersion,
            SourceBinary = begin.Source.Binary,
            TargetBinary = begin.TargetBinary,
        };
        job.SetStats(stats);
        return stats;
    }

    /// <summary>The figures are a report, not the migration: failing to read them never fails a switched guest.</summary>
    private async Task<MigrationInfo> ReadFiguresAsync(MigrationJob job, PerformResult performed)
    {
        try
        {
            return await performed.FinalFigures.ConfigureAwait(false);
        }
        catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or QmpTimeoutException)
        {
            LogFiguresLost(job.Id, job.DomainName, e.Message);
            return new MigrationInfo();
        }
    }

    /// <summary>
    /// Before the promote: kill the target, resume the source. Whatever fails in here (a QEMU that does not answer, a
    /// kill that fails) is part of the job's error, never a reason for the job not to end.
    /// </summary>
    /// <returns>"" when the rollback went through; otherwise "; rollback incomplete: WHY".</returns>
    private async Task<string> RollbackAsync(MigrationJob job, IMigrationDestination dst, BeginResult? begin, PrepareResult? prepared)
    {
        var problems = new List<string>();
        try
        {
            if (prepared is not null || job.Phase >= MigrationPhase.Prepare)
                await dst.AbortAsync(job.Id).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            problems.Add($"the target was not removed: {e.Message}");
        }
        if (begin is not null)
        {
            try
            {
                using var timeout = new CancellationTokenSource(RollbackTimeout);
                if (await src.RecoverAsync(begin.Source, begin.SourceWasRunning && !job.PostcopyStarted, timeout.Token).ConfigureAwait(false) is { } notResumed)
                    problems.Add($"the source did not resume: {notResumed}");
            }
            catch (Exception e)
            {
                problems.Add($"the source did not resume: {e.Message}");
            }
        }
        if (begin is not null && job.PostcopyStarted)
        {
            registry.SetState(registry.Get(job.DomainName), DomainState.Paused);
            problems.Add("the source was left paused: the guest ran on the target in postcopy, so the source's RAM is older than the guest's");
        }
        if (problems.Count == 0)
            return "";
        LogRollbackFailed(job.Id, job.DomainName, string.Join("; ", problems));
        return "; rollback incomplete: " + string.Join("; ", problems);
    }

    private async Task ConfirmSourceAsync(MigrationJob job, DomainInstance source)
    {
        try
        {
            await src.ConfirmAsync(source, step => ReachedAsync(job, step)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The guest already runs on the target; a source that will not quit is a leak to report, not a failure.
            LogSourceNotRemoved(job.Id, job.DomainName, source.Pid, e.Message);
        }
    }

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

    private static string Describe(Exception e, MigrationJob job, bool timedOut) => e switch
    {
        _ when timedOut => $"timed out after {job.Options.Timeout.TotalSeconds:0} s in phase {job.Phase}",
        OperationCanceledException => $"cancelled in phase {job.Phase}",
        MigrationException => e.Message,
        IOException io => $"{job.Phase}: I/O error: {io.Message}",
        _ => $"{job.Phase}: {e.Message}",
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: {DomainName} switched to postcopy: {Peer} committed and runs the guest; the rest of its RAM follows")]
    private partial void LogCommittedInPostcopy(string jobId, string domainName, string peer);

    private void LogSnapshotProblems(MigrationJob job, PrepareResult prepared)
    {
        foreach (var problem in prepared.SnapshotProblems)
            LogSnapshotMismatch(job.Id, job.DomainName, job.Destination?.ToString() ?? "", problem);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: {DomainName}: {Peer} found a snapshot record not matching its images (marked there, not trusted): {Problem}")]
    private partial void LogSnapshotMismatch(string jobId, string domainName, string peer, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: {DomainName} enters {Phase}")]
    private partial void LogPhase(string jobId, string domainName, MigrationPhase phase);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: {DomainName} Confirm step {Step} done")]
    private partial void LogConfirmStep(string jobId, string domainName, ConfirmStep step);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: {DomainName} switched, but QEMU's figures could not be read: {Reason}")]
    private partial void LogFiguresLost(string jobId, string domainName, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: {DomainName} moved from pid {SourcePid} to pid {TargetPid}, downtime {DowntimeMs} ms, total {TotalMs} ms, {TransferredBytes} bytes")]
    private partial void LogCompleted(string jobId, string domainName, int sourcePid, int targetPid, long downtimeMs, long totalMs, long transferredBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: {DomainName} {State} in {Phase}: {Error}")]
    private partial void LogEnded(string jobId, string domainName, MigrationJobState state, MigrationPhase phase, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: {DomainName} runs on the target, but the source (pid {Pid}) was not removed: {Reason}")]
    private partial void LogSourceNotRemoved(string jobId, string domainName, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: {DomainName} rollback incomplete: {Reason}")]
    private partial void LogRollbackFailed(string jobId, string domainName, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: cannot write the journal: {Reason}")]
    private partial void LogJournalFailed(string jobId, string reason);
}
