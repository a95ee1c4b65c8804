using LocalMigrate.Interop.Qmp;
using LocalMigrate.UpgradeDaemon.Domains;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// Resolves, after a daemon restart, every job the journal shows as running, in the manner of libvirt's
/// qemuProcessRecoverMigration: QEMU is asked first (its migration status is the truth, not our journal),
/// then one exhaustive switch over the journaled phase. Outcome: exactly one instance per domain, the one
/// holding the newest guest state; a source the migration paused is resumed when the target never ran.
/// Runs after <see cref="InstanceAdopter"/> has re-attached every live QEMU.
/// </summary>
public sealed partial class MigrationRecovery(DomainRegistry registry, MigrationJournal journal, MigrationService jobs,
    MigrationSrc src, MigrationDst dst, ILogger<MigrationRecovery> logger)
{
    private static readonly TimeSpan CancelTimeout = TimeSpan.FromSeconds(30);

    private enum Resolution
    {
        /// <summary>The target never got the whole guest: kill it, let the source run.</summary>
        RollBack,

        /// <summary>The target holds the newest state: promote it, end the source.</summary>
        Commit,

        /// <summary>No instance holds the guest any more.</summary>
        Lost,
    }

    public async Task<IReadOnlyList<MigrationJob>> RecoverAsync(CancellationToken cancellationToken)
    {
        var records = journal.ReadAll();
        LoadHistory(records.Where(r => r.State != MigrationJobState.Running));
        var recovered = new List<MigrationJob>();
        foreach (var record in records.Where(r => r.State == MigrationJobState.Running))
        {
            var domain = registry.FindByUuid(record.Uuid);
            var source = domain?.Active is { } a && (a.InstanceId == record.SourceInstanceId || record.SourceInstanceId is null) ? a : null;
            var target = domain is null ? null : registry.Shadow.Find(domain.Name) is { } t && t.InstanceId == record.TargetInstanceId ? t : null;
            var resolution = await ResolveAsync(record, source, target, cancellationToken).ConfigureAwait(false);
            var job = new MigrationJob(record.Id, record.Domain, record.Uuid, record.Kind, new MigrationOptions(), record.StartedAt, record.Phase);
            var (state, error) = await ApplyAsync(resolution, record, domain, source, target).ConfigureAwait(false);
            if (record.Stats is not null)
                job.SetStats(record.Stats);
            job.End(state, error);
            TryJournal(record with { State = state, Error = error });
            jobs.AddRecovered(job);
            if (domain is not null)
                domain.LastJob = job;
            recovered.Add(job);
            LogRecovered(record.Id, record.Domain, record.Phase, resolution.ToString(), error ?? "completed");
        }

        // An incoming instance no running job accounts for can hold nothing newer than its source: remove it.
        foreach (var orphan in registry.Shadow.List())
        {
            await dst.DiscardAsync(orphan).ConfigureAwait(false);
            LogOrphanRemoved(orphan.Definition.Name, orphan.Pid);
        }
        return recovered;
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
                domain.LastJob = job;
        }
    }

    private async Task<Resolution> ResolveAsync(MigrationJournalRecord record, DomainInstance? source, DomainInstance? target,
        CancellationToken cancellationToken)
    {
        var targetHasGuest = target is not null && await MigrationStatusAsync(target).ConfigureAwait(false) == "completed";
        switch (record.Phase)
        {
            case MigrationPhase.Begin:
                // Nothing was started: at most capabilities were set on the source.
                return source is null ? Resolution.Lost : Resolution.RollBack;

            case MigrationPhase.Prepare:
                // A target may have been spawned but never received a byte: the source is the guest.
                return source is null ? Resolution.Lost : Resolution.RollBack;

            case MigrationPhase.Perform:
                // The stream may still be flowing, or have completed without us: QEMU on the source decides.
                if (source is null)
                    return targetHasGuest ? Resolution.Commit : Resolution.Lost;
                var status = await MigrationStatusAsync(source).ConfigureAwait(false);
                if (status is "setup" or "active" or "device" or "pre-switchover" or "cancelling")
                    status = await CancelAndWaitAsync(source, cancellationToken).ConfigureAwait(false);
                if (status == "completed")
                {
                    // Sent in full. If the target also loaded it, the target is newest; otherwise the source still is.
                    targetHasGuest = target is not null && await MigrationStatusAsync(target).ConfigureAwait(false) == "completed";
                    return targetHasGuest ? Resolution.Commit : Resolution.RollBack;
                }
                return Resolution.RollBack;

            case MigrationPhase.Finish:
                // The source sent everything; a target that loaded it may already run the guest, so it wins.
                if (targetHasGuest)
                    return Resolution.Commit;
                return source is null ? Resolution.Lost : Resolution.RollBack;

            case MigrationPhase.Confirm:
                // The commit was journaled: the target is the domain now, whatever happened to the source.
                return targetHasGuest || (target is not null && domainActiveIs(target)) ? Resolution.Commit : Resolution.Lost;

            default:
                throw new InvalidOperationException($"journal of job {record.Id} has unknown phase {record.Phase}");
        }

        bool domainActiveIs(DomainInstance instance) => registry.Find(instance.Definition.Name)?.Active == instance;
    }

    private async Task<(MigrationJobState, string?)> ApplyAsync(Resolution resolution, MigrationJournalRecord record, Domain? domain,
        DomainInstance? source, DomainInstance? target)
    {
        switch (resolution)
        {
            case Resolution.Commit:
                // The same two steps as a live Confirm.
                if (domain is not null && target is not null && registry.Shadow.Find(domain.Name) == target)
                    dst.Promote(target);
                if (source is not null)
                    await src.ConfirmAsync(source).ConfigureAwait(false);
                return (MigrationJobState.Completed, null);

            case Resolution.RollBack:
                // The same two steps as a live rollback.
                if (target is not null)
                    await dst.DiscardAsync(target).ConfigureAwait(false);
                var notResumed = source is null ? null : await src.RecoverAsync(source, record.SourceWasRunning).ConfigureAwait(false);
                return notResumed is null
                    ? (MigrationJobState.Failed, $"daemon restarted in phase {record.Phase}; rolled back, the guest runs on the source")
                    : (MigrationJobState.Failed, $"daemon restarted in phase {record.Phase}; rolled back, but the source did not resume: {notResumed}");

            case Resolution.Lost:
                if (domain is not null && domain.Active is null)
                    registry.SetState(domain, DomainState.Crashed);
                return (MigrationJobState.Failed, $"daemon restarted in phase {record.Phase}; no QEMU instance holds the guest any more");

            default:
                throw new InvalidOperationException(resolution.ToString());
        }
    }

    private static async Task<string> CancelAndWaitAsync(DomainInstance source, CancellationToken cancellationToken)
    {
        try
        {
            await source.Qmp.ExecuteAsync("migrate_cancel", null, cancellationToken).ConfigureAwait(false);
        }
        catch (QmpExecuteException)
        {
        }
        var deadline = DateTime.UtcNow + CancelTimeout;
        while (DateTime.UtcNow < deadline)
        {
            var status = await MigrationStatusAsync(source).ConfigureAwait(false);
            if (MigrationCapabilities.IsTerminal(status) || status is "none" or "unknown")
                return status;
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
        return "unknown";
    }

    private static async Task<string> MigrationStatusAsync(DomainInstance instance)
    {
        try
        {
            var info = await instance.Qmp.ExecuteAsync<QemuMigrationInfo>("query-migrate", null, CancellationToken.None).ConfigureAwait(false);
            return info.Status ?? "none";
        }
        catch (Exception e) when (e is QmpExecuteException or QmpDisconnectedException)
        {
            return "unknown";
        }
    }

    private void TryJournal(MigrationJournalRecord record)
    {
        try
        {
            journal.Write(record);
        }
        catch (IOException e)
        {
            LogJournalFailed(record.Id, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: {DomainName} was in {Phase} when the daemon stopped; resolved by {Resolution}: {Outcome}")]
    private partial void LogRecovered(string jobId, string domainName, MigrationPhase phase, string resolution, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Domain {DomainName}: incoming instance (pid {Pid}) without a job removed")]
    private partial void LogOrphanRemoved(string domainName, int pid);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: cannot write the journal: {Reason}")]
    private partial void LogJournalFailed(string jobId, string reason);
}
