using System.Net;
using System.Net.Sockets;
using LocalMigrate.Contract;
using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Domains;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>The source side: Begin (validate), Perform (send the guest), Confirm (quit the source), Recover (resume it).</summary>
public sealed partial class MigrationSrc(QemuBinaryProbe probe, InstanceLauncher launcher, DomainRegistry registry, DefinitionStore store,
    ILogger<MigrationSrc> logger)
{
    /// <summary>How often progress is read while RAM is copied. Completion itself comes from MIGRATION events.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// How long QEMU gets to confirm migrate_cancel after the destination was lost before its stream is cut from outside.
    /// A source in its last stop-and-copy sends under the big QEMU lock: a cut link blocks that send (TCP retransmits for
    /// ~15 minutes), and with it the monitor and the cancel.
    /// </summary>
    public static readonly TimeSpan CancelGrace = TimeSpan.FromSeconds(5);

    /// <param name="remote">To another host: the target binary and the RAM are that host's to check (in Prepare), and RAM is always sent.</param>
    public async Task<BeginResult> BeginAsync(Domain domain, MigrationOptions options, bool remote, CancellationToken cancellationToken)
    {
        var source = domain.Active;
        if (source is null || source.HasExited || domain.State is not (DomainState.Running or DomainState.Paused))
            throw new MigrationException(MigrationPhase.Begin, $"domain {domain.Name} is not running (state {domain.State.ToString().ToLowerInvariant()})");
        var definition = source.Definition;
        if (remote)
        {
            if (options.IgnoreShared == true)
                throw new MigrationException(MigrationPhase.Begin, "option ignoreShared: another host cannot map this host's RAM");
            // RAM always travels between hosts (shared RAM too: it is shared on this host only).
            var remotePlan = MigrationTuning.Plan(options, source.QemuVersion, ignoreShared: false, launcher.AccelOf(definition));
            if (remotePlan.Tuning is null)
                throw new MigrationException(MigrationPhase.Begin, string.Join("; ", remotePlan.Errors));
            var state = await source.Monitor.QueryStatusAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return new BeginResult(source, "", new QemuBinaryInfo("", "", "", []), false, state == RunState.Running) { Tuning = remotePlan.Tuning };
        }
        var binary = options.TargetBinary ?? launcher.BinaryOf(definition);
        QemuBinaryInfo info;
        try
        {
            info = await probe.ProbeAsync(binary, cancellationToken).ConfigureAwait(false);
        }
        catch (QemuBinaryException e)
        {
            throw new MigrationException(MigrationPhase.Begin, $"target binary unusable: {e.Message}", e);
        }
        if (!info.CanBuild(definition.Machine))
            throw new MigrationException(MigrationPhase.Begin,
                $"target binary {binary} (QEMU {info.Version}) cannot build machine type {definition.Machine} of domain {domain.Name} (running on QEMU {source.QemuVersion})");
        var ignoreShared = options.IgnoreShared ?? definition.MemoryBacking == MemoryBacking.Shared;
        if (ignoreShared && definition.MemoryBacking != MemoryBacking.Shared)
            throw new MigrationException(MigrationPhase.Begin, "option ignoreShared needs memoryBacking shared");
        if (!ignoreShared)
        {
            // A copy needs the guest's RAM twice for a moment; refuse rather than let the OOM killer pick a VM.
            var needed = (long)definition.MemoryMiB << 20;
            var available = Interop.Posix.ProcFs.MemAvailableBytes();
            if (needed > available)
                throw new MigrationException(MigrationPhase.Begin,
                    $"a copy of {definition.MemoryMiB} MiB of private RAM needs that much free memory; {available >> 20} MiB available");
        }
        var plan = MigrationTuning.Plan(options, source.QemuVersion, ignoreShared, launcher.AccelOf(definition));
        if (plan.Tuning is null)
            throw new MigrationException(MigrationPhase.Begin, string.Join("; ", plan.Errors));
        var runState = await source.Monitor.QueryStatusAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return new BeginResult(source, binary, info, ignoreShared, runState == RunState.Running) { Tuning = plan.Tuning };
    }

    /// <summary>Sends the guest to <paramref name="uri"/>. Returns once the source reports completed; QEMU's figures follow.</summary>
    /// <exception cref="OperationCanceledException">Cancelled: migrate_cancel was sent and QEMU confirmed.</exception>
    /// <param name="sourceTuned">A tuning the source already holds (applied with a standby target); skipped when it is the planned one.</param>
    public async Task<PerformResult> PerformAsync(MigrationJob job, BeginResult begin, string uri, Task targetExited,
        CancellationToken cancellationToken, AppliedTuning? sourceTuned = null)
    {
        var monitor = begin.Source.Monitor;
        using var events = monitor.Listen(QemuEvents.Migration);
        var tuning = begin.Tuning ?? throw new InvalidOperationException($"job {job.Id}: Begin planned no tuning");
        job.SetSourceSettings(await MigrationAny.ApplyTuningUnlessHeldAsync(monitor, tuning.Source, sourceTuned, MigrationPhase.Perform, "source",
            cancellationToken).ConfigureAwait(false));
        var convergence = new ConvergenceWatch(job.Options.ConvergePasses, tuning.Source.Parameters.DowntimeLimit ?? MigrationOptions.DefaultDowntimeLimitMs,
            job.Options.ConvergeTimeout);
        string? notConverging = null;

        // Subscribed above, before migrate: the completed event cannot slip past.
        // postcopy-paused ends it too: 7.2 stops there when the target is lost in postcopy, and nothing here recovers it.
        var ended = events.WaitForAsync(e => QemuEvents.MigrationStatusOf(e) is var s && (s.IsTerminal() || s == MigrationStatus.PostcopyPaused),
            CancellationToken.None);
        var never = Task.Delay(Timeout.Infinite, CancellationToken.None);
        // Storage copy holds the stopped guest at pre-switchover while the disks switch (pause-before-switchover is on then).
        // Its own listener: two waits on one listener would take each other's events.
        using var switchEvents = job.BeforeSwitchover is null ? null : monitor.Listen(QemuEvents.Migration);
        var switchWait = switchEvents?.WaitForAsync(e => QemuEvents.MigrationStatusOf(e) is var s && (s == MigrationStatus.PreSwitchover || s.IsTerminal()),
            CancellationToken.None);
        Task preSwitchover = switchWait ?? never;
        if (tuning.TransferNote is { } note)
            LogTransferNote(job.Id, job.DomainName, note);
        if (tuning.PausesGuest && begin.SourceWasRunning)
        {
            // Stopped before migrate: QEMU's first sync then sees every page, and no vCPU writes one behind it. A rollback or
            // recovery resumes the source because the journal says it was running (as after QEMU's own stop at completion).
            await monitor.StopAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            job.MarkGuestPausedForTransfer();
        }
        await monitor.MigrateAsync(uri, cancellationToken: cancellationToken).ConfigureAwait(false);
        LogPerforming(job.Id, job.DomainName, uri);

        var cancelled = Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        var targetWatch = targetExited;
        var sourceGone = begin.Source.Exit?.Exited ?? never;
        var targetDied = false;
        var cutDue = never;
        var streamCut = false;
        var postcopyRequested = job.PostcopyRequested;
        var performStarted = job.Elapsed;
        while (!ended.IsCompleted)
        {
            var tick = Task.Delay(ProgressInterval, CancellationToken.None);
            var first = await Task.WhenAny(ended, tick, cancelled, targetWatch, sourceGone, postcopyRequested, preSwitchover, cutDue).ConfigureAwait(false);
            if (first == sourceGone)
                throw new MigrationException(MigrationPhase.Perform, $"source QEMU (pid {begin.Source.Pid}) exited during the migration");
            if (first == targetWatch)
            {
                // A local target's death reaches the source through its socket; a remote destination's loss may not
                // (a cut link keeps TCP retransmitting for minutes): either way, stop sending now.
                targetDied = true;
                targetWatch = never;
                // Not awaited: a QEMU stuck sending under its lock answers nothing, and the grace starts now.
                _ = TryCancelMigrationAsync(monitor);
                cutDue = Task.Delay(CancelGrace, CancellationToken.None);
            }
            else if (first == cutDue)
            {
                cutDue = never;
                if (!ended.IsCompleted)
                    streamCut = CutStream(job, begin.Source.Pid, uri);
            }
            else if (first == cancelled)
            {
                cancelled = never;
                await TryCancelMigrationAsync(monitor).ConfigureAwait(false);
            }
            else if (first == preSwitchover)
            {
                var reached = QemuEvents.MigrationStatusOf(await switchWait!.ConfigureAwait(false)) == MigrationStatus.PreSwitchover;
                preSwitchover = never;
                if (reached)
                    await SwitchOverAsync(monitor, job).ConfigureAwait(false);
            }
            else if (first == postcopyRequested)
            {
                postcopyRequested = never;
                if (job.ConvergeAction.Length == 0)
                    await StartPostcopyAsync(monitor, job, BusContract.ConvergeActions.ManualPostcopy, "requested").ConfigureAwait(false);
            }
            else if (first == tick && !ended.IsCompleted && !targetDied)
            {
                var progress = await ReportProgressAsync(monitor, job).ConfigureAwait(false);
                if (progress is not null && notConverging is null && job.ConvergeAction.Length == 0
                    && convergence.Observe(progress, job.Elapsed - performStarted) is { } why)
                {
                    notConverging = why;
                    await ActOnNonConvergenceAsync(monitor, job, why).ConfigureAwait(false);
                }
            }
        }

        var status = QemuEvents.MigrationStatusOf(await ended.ConfigureAwait(false));
        switch (status)
        {
            case MigrationStatus.Completed:
                return new PerformResult(QueryFinalFiguresAsync(monitor));
            case MigrationStatus.Cancelled when job.SwitchError is { } switchError:
                throw new MigrationException(MigrationPhase.Perform, $"the disks could not switch to the destination: {switchError}; the guest runs on at the source");
            case MigrationStatus.Cancelled when job.ConvergeAction == BusContract.ConvergeActions.Cancel:
                throw new MigrationException(MigrationPhase.Perform,
                    $"the migration did not converge: {notConverging}; cancelled by convergePolicy cancel, the guest runs on at the source");
            // A cancel makes a local target exit too (its stream ends): the operator's cancel is what happened, not a lost target.
            case MigrationStatus.Cancelled when targetDied && !cancellationToken.IsCancellationRequested:
                throw new MigrationException(MigrationPhase.Perform, job.Destination is { } peer
                    ? $"lost the destination {peer} during the transfer (its control channel closed); the stream was {(streamCut ? "cut" : "cancelled")}"
                    : "the target QEMU exited during the transfer");
            case MigrationStatus.Cancelled:
                throw new OperationCanceledException($"migration of {job.DomainName} cancelled");
            case MigrationStatus.Failed when targetDied && job.Destination is { } lost:
                throw new MigrationException(MigrationPhase.Perform,
                    $"lost the destination {lost} during the transfer (its control channel closed); the stream was cut");
            default:
                var info = await monitor.QueryMigrateAsync().ConfigureAwait(false);
                var why = targetDied || targetExited.IsCompleted
                    ? "the target QEMU exited during the transfer"
                    : "QEMU reported the migration failed";
                throw new MigrationException(MigrationPhase.Perform, $"{why}: {info.ErrorDesc ?? "no detail from QEMU"}");
        }
    }

    /// <summary>
    /// At pre-switchover (the guest stopped, its RAM sent but for the last dirty pages): the job's switch (the disks), then
    /// migrate-continue. A switch that fails cancels the migration: the MIGRATION event then ends the loop as cancelled
    /// or failed, and the rollback resumes the source on its own disks.
    /// </summary>
    private async Task SwitchOverAsync(QemuMonitor monitor, MigrationJob job)
    {
        try
        {
            await job.BeforeSwitchover!().ConfigureAwait(false);
            await monitor.MigrateContinueAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or QmpTimeoutException or MigrationException)
        {
            LogSwitchFailed(job.Id, job.DomainName, e.Message);
            job.SwitchError = e.Message;
            await TryCancelMigrationAsync(monitor).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// QEMU emits MIGRATION completed a moment before it stores total-time and downtime: a query right after the
    /// event may read zeros. Asking again a few ms later gives the real figures. It runs beside Finish (see
    /// <see cref="PerformResult"/>), so it delays neither the guest nor the switch.
    /// </summary>
    private static async Task<MigrationInfo> QueryFinalFiguresAsync(QemuMonitor monitor)
    {
        var info = await monitor.QueryMigrateAsync().ConfigureAwait(false);
        for (var attempt = 0; (info.TotalTime ?? 0) == 0 && attempt < 20; attempt++)
        {
            await Task.Delay(5).ConfigureAwait(false);
            info = await monitor.QueryMigrateAsync().ConfigureAwait(false);
        }
        return info;
    }

    /// <summary>
    /// Confirm after success: the guest runs on the (already promoted) target, so the source quits and its runtime dir
    /// goes. <paramref name="reached"/> is told after each step, where a crash test can stop the daemon.
    /// </summary>
    public async Task ConfirmAsync(DomainInstance source, Func<ConfirmStep, ValueTask> reached)
    {
        await SendQuitAsync(source).ConfigureAwait(false);
        await reached(ConfirmStep.SourceQuitSent).ConfigureAwait(false);
        // Waits for the exit, and kills a source that does not quit in time.
        await source.QuitAsync().ConfigureAwait(false);
        await reached(ConfirmStep.SourceExited).ConfigureAwait(false);
        source.RemoveRuntimeDirectory();
        await source.DisposeAsync().ConfigureAwait(false);
        await reached(ConfirmStep.SourceDirectoryRemoved).ConfigureAwait(false);
    }

    /// <summary>
    /// Confirm on the source of a remote migration, once the destination committed: the domain has no instance here any
    /// more (and no definition, unless kept), then the source QEMU quits and its RAM file goes.
    /// </summary>
    /// <param name="source">null for an offline migration: no QEMU runs.</param>
    /// <summary>The domain's snapshot records, to send with a remote Prepare.</summary>
    /// <exception cref="MigrationException">The catalog file cannot be read: the migration does not start without it.</exception>
    public IReadOnlyList<Snapshots.SnapshotRecord> SnapshotRecordsOf(Domain domain)
    {
        try
        {
            return store.Snapshots.Read(domain.Definition.Uuid);
        }
        catch (Snapshots.SnapshotException e)
        {
            throw new MigrationException(MigrationPhase.Prepare, $"domain {domain.Name}: its snapshot records cannot be sent: {e.Message}");
        }
    }

    public async Task HandOverAsync(Domain domain, DomainInstance? source, bool undefine, Func<ConfirmStep, ValueTask> reached)
    {
        registry.SetActive(domain, null, DomainState.Shutoff);
        try
        {
            if (source is not null)
                await ConfirmAsync(source, reached).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                if (undefine)
                {
                    store.Delete(domain.Definition.Uuid);
                    registry.Remove(domain);
                    // The destination holds the records now (they went with Prepare); a rollback never gets here, so keeps them.
                    store.Snapshots.Delete(domain.Definition.Uuid);
                }
                launcher.DeleteSharedMemoryFile(domain.Definition);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogHandOverIncomplete(domain.Name, e.Message);
            }
        }
    }

    /// <summary>Rollback on the source: the guest's newest state is still here; let it run again if it ran before.</summary>
    /// <returns>null, or why the source could not be resumed.</returns>
    /// <param name="cancellationToken">The rollback's deadline: a QEMU that does not answer must not hold the job forever.</param>
    public async Task<string?> RecoverAsync(DomainInstance source, bool sourceWasRunning, CancellationToken cancellationToken)
    {
        if (source.HasExited)
            return $"source QEMU (pid {source.Pid}) is gone";
        try
        {
            // A stream still flowing is stopped first, or QEMU could finish it behind the rollback's back.
            var migration = await source.Monitor.QueryMigrateAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (migration.Status.IsCancellable())
                await TryCancelMigrationAsync(source.Monitor).ConfigureAwait(false);
            var status = await source.Monitor.QueryStatusAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (sourceWasRunning && status != RunState.Running)
            {
                await source.Monitor.ContAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                LogResumed(source.Definition.Name, source.Pid, status);
            }
            return null;
        }
        catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or QmpTimeoutException or IOException
                                      || (e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            var why = e is OperationCanceledException or QmpTimeoutException ? $"source QEMU (pid {source.Pid}) did not answer in time" : e.Message;
            LogRecoverFailed(source.Definition.Name, source.Pid, why);
            return why;
        }
    }

    /// <summary>The first half of QEMU's quit, alone, so Confirm can tell "quit sent" from "exited".</summary>
    private static async Task SendQuitAsync(DomainInstance source)
    {
        try
        {
            await source.Monitor.QuitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is QmpDisconnectedException or QmpExecuteException or QmpTimeoutException or IOException or OperationCanceledException)
        {
            // The process may close the socket before it answers quit; QuitAsync then waits for it (or kills it).
        }
    }

    private static async Task<MigrationProgress?> ReportProgressAsync(QemuMonitor monitor, MigrationJob job)
    {
        try
        {
            var info = await monitor.QueryMigrateAsync().ConfigureAwait(false);
            if (info.Ram is not { } ram)
                return null;
            // Storage copy: the disks' bytes (copied before the RAM, then kept in step) count beside the RAM's.
            var progress = new MigrationProgress(ram.Total + job.StorageTotal, ram.Remaining + job.StorageRemaining,
                ram.Transferred + job.StorageTotal - job.StorageRemaining, (long)(ram.Mbps * 1_000_000 / 8),
                ram.DirtyPagesRate * (ram.PageSize > 0 ? ram.PageSize : 4096), ram.DirtySyncCount, info.ExpectedDowntime ?? 0,
                info.CpuThrottlePercentage ?? 0);
            job.ReportProgress(progress);
            return progress;
        }
        catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or QmpTimeoutException)
        {
            // Progress is advisory; the MIGRATION event decides the outcome.
            return null;
        }
    }

    /// <summary>The converge policy: the job records what it did; the MIGRATION event still decides the outcome.</summary>
    private async Task ActOnNonConvergenceAsync(QemuMonitor monitor, MigrationJob job, string why)
    {
        switch (job.Options.ConvergePolicy)
        {
            case MigrationConvergePolicy.Cancel:
                job.SetConvergeAction(BusContract.ConvergeActions.Cancel);
                LogNotConverging(job.Id, job.DomainName, why, BusContract.ConvergeActions.Cancel);
                await TryCancelMigrationAsync(monitor).ConfigureAwait(false);
                break;
            case MigrationConvergePolicy.Postcopy:
                await StartPostcopyAsync(monitor, job, BusContract.ConvergeActions.Postcopy, why).ConfigureAwait(false);
                break;
            case MigrationConvergePolicy.Pause:
                // No limit QEMU can miss: it stops the guest at the end of this pass and copies the rest while it is paused.
                // The run state travels in the stream, so the target resumes the guest; a failure resumes the source.
                job.SetConvergeAction(BusContract.ConvergeActions.Pause);
                LogNotConverging(job.Id, job.DomainName, why, BusContract.ConvergeActions.Pause);
                try
                {
                    await monitor.MigrateSetParametersAsync(new MigrationParameters { DowntimeLimit = MaxDowntimeLimitMs }).ConfigureAwait(false);
                }
                catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or QmpTimeoutException)
                {
                    LogConvergeActionFailed(job.Id, job.DomainName, BusContract.ConvergeActions.Pause, e.Message);
                }
                break;
        }
    }

    private async Task StartPostcopyAsync(QemuMonitor monitor, MigrationJob job, string action, string why)
    {
        job.SetConvergeAction(action);
        LogNotConverging(job.Id, job.DomainName, why, action);
        job.MarkPostcopyStarted(true);
        try
        {
            await monitor.MigrateStartPostcopyAsync().ConfigureAwait(false);
        }
        catch (QmpExecuteException e)
        {
            job.MarkPostcopyStarted(false);
            LogConvergeActionFailed(job.Id, job.DomainName, action, e.Message);
            return;
        }
        catch (Exception e) when (e is QmpDisconnectedException or QmpTimeoutException)
        {
            LogConvergeActionFailed(job.Id, job.DomainName, action, e.Message);
            return;
        }
        if (job.PostcopyHandOver is { } handOver)
        {
            try
            {
                await handOver().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The destination did not resume the guest yet: the rest of the pages still arrive, and Confirm commits then.
                LogConvergeActionFailed(job.Id, job.DomainName, "postcopy hand-over to the destination", e.Message);
            }
        }
    }

    /// <summary>QEMU's largest downtime-limit (qapi/migration.json: 2000 s).</summary>
    private const long MaxDowntimeLimitMs = 2_000_000;

    /// <summary>Shuts down the source QEMU's sockets of a tcp: stream (every multifd channel too): its blocked send fails,
    /// the migration ends as failed, and the rollback resumes the guest here.</summary>
    /// <returns>Whether a socket was shut down. QEMU may still report the end as cancelled: the queued migrate_cancel runs
    /// as soon as its lock is free again.</returns>
    private bool CutStream(MigrationJob job, int pid, string uri)
    {
        if (!uri.StartsWith("tcp:", StringComparison.Ordinal) || uri.LastIndexOf(':') is var colon && colon <= 4
            || !int.TryParse(uri.AsSpan(colon + 1), out var port))
            return false;
        var host = uri[4..colon].Trim('[', ']');
        try
        {
            IPAddress[] addresses = IPAddress.TryParse(host, out var ip) ? [ip] : Dns.GetHostAddresses(host);
            var cut = Interop.Posix.ProcessTcpSockets.ShutDownConnectedTo(pid, addresses, port);
            LogStreamCut(job.Id, job.DomainName, CancelGrace.TotalSeconds, cut, uri);
            return cut > 0;
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            LogStreamCut(job.Id, job.DomainName, CancelGrace.TotalSeconds, 0, $"{uri} ({e.Message})");
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: {DomainName}: QEMU did not confirm the cancel within {Seconds} s of losing the destination; shut down {Count} stream socket(s) to {Uri}")]
    private partial void LogStreamCut(string jobId, string domainName, double seconds, int count, string uri);

    /// <summary>migrate_cancel, best effort: the MIGRATION event (or the status queried next) tells what happened.</summary>
    private static async Task TryCancelMigrationAsync(QemuMonitor monitor)
    {
        try
        {
            await monitor.MigrateCancelAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException or QmpTimeoutException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: {DomainName}: the switch at pre-switchover failed, the migration is cancelled: {Reason}")]
    private partial void LogSwitchFailed(string jobId, string domainName, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: sending {DomainName} to {Uri}")]
    private partial void LogPerforming(string jobId, string domainName, string uri);

    [LoggerMessage(Level = LogLevel.Error, Message = "Domain {DomainName} runs on the destination, but cleaning up here failed: {Reason}")]
    private partial void LogHandOverIncomplete(string domainName, string reason);
    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: {DomainName} switches to {Action}: {Reason}")]
    private partial void LogNotConverging(string jobId, string domainName, string reason, string action);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: {DomainName}: {Action} failed: {Reason}")]
    private partial void LogConvergeActionFailed(string jobId, string domainName, string action, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Domain {DomainName}: source (pid {Pid}) resumed after rollback from state {RunState}")]
    private partial void LogResumed(string domainName, int pid, RunState runState);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: {DomainName}: {Note}")]
    private partial void LogTransferNote(string jobId, string domainName, string note);

    [LoggerMessage(Level = LogLevel.Error, Message = "Domain {DomainName}: cannot resume source (pid {Pid}): {Reason}")]
    private partial void LogRecoverFailed(string domainName, int pid, string reason);
}
