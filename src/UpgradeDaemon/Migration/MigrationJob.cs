using LocalMigrate.Contract;
using System.Diagnostics;
using LocalMigrate.Interop.Posix;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// One migration as callers see it: phase, state, progress, figures. Thread-safe; <see cref="Changed"/> names the
/// properties that moved (the D-Bus Job object forwards them as PropertiesChanged).
/// </summary>
public sealed class MigrationJob
{
    private readonly object _gate = new();
    private readonly CancellationTokenSource _cancel = new();
    private readonly TaskCompletionSource<MigrationJob> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TaskCompletionSource _postcopyRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static readonly string[] ProgressProperties =
        ["Progress", "DataTotal", "DataRemaining", "DataTransferred", "TransferRate", "DirtyRate", "Passes", "ExpectedDowntimeMs", "CpuThrottlePercent"];

    public MigrationJob(string domainName, Guid domainUuid, MigrationKind kind, MigrationOptions options, Remote.PeerUri? destination = null)
        : this(RandomHex.Of(6), domainName, domainUuid, kind, options,
            DateTimeOffset.UtcNow, MigrationPhase.Begin)
    {
        Destination = destination;
    }

    /// <summary>A job read back from the journal after a daemon restart.</summary>
    internal MigrationJob(string id, string domainName, Guid domainUuid, MigrationKind kind, MigrationOptions options,
        DateTimeOffset startedAt, MigrationPhase phase)
    {
        Id = id;
        DomainName = domainName;
        DomainUuid = domainUuid;
        Kind = kind;
        Options = options;
        StartedAt = startedAt;
        Phase = phase;
    }

    public string Id { get; }
    public string DomainName { get; }
    public Guid DomainUuid { get; }
    public MigrationKind Kind { get; }
    public MigrationOptions Options { get; }

    /// <summary>The peer of a remote migration; null for a local one.</summary>
    public Remote.PeerUri? Destination { get; init; }
    public DateTimeOffset StartedAt { get; }
    public DateTimeOffset? FinishedAt { get; private set; }
    public MigrationPhase Phase { get; private set; } = MigrationPhase.Begin;
    public MigrationJobState State { get; private set; } = MigrationJobState.Running;

    /// <summary>0 to 100.</summary>
    public double Progress { get; private set; }

    public long DataTotal => LastProgress.Total;
    public long DataRemaining => LastProgress.Remaining;

    /// <summary>The newest query-migrate reading of the source.</summary>
    public MigrationProgress LastProgress { get; private set; } = MigrationProgress.None;

    /// <summary>Capabilities and parameters the source QEMU holds (read back), once Perform set them.</summary>
    public MigrationSideSettings SourceSettings { get; private set; } = MigrationSideSettings.None;

    /// <summary>The same for the target QEMU, once Prepare set them.</summary>
    public MigrationSideSettings TargetSettings { get; private set; } = MigrationSideSettings.None;

    /// <summary>What the daemon did to finish a migration that did not converge ("" none; see <see cref="BusContract.ConvergeActions"/>).</summary>
    public string ConvergeAction { get; private set; } = "";
    public MigrationStats Stats { get; private set; } = new();
    public string? Error { get; private set; }
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Honoured until the guest runs on the target (Begin to Perform); after that the switch is committed.</summary>
    internal CancellationToken CancellationToken => _cancel.Token;

    /// <summary>Completes with the job when it ends, whatever the outcome; never faults.</summary>
    public Task<MigrationJob> Completion => _done.Task;

    public event Action<MigrationJob, IReadOnlyList<string>>? Changed;

    /// <returns>null when the cancel was accepted; otherwise why not.</returns>
    public string? RequestCancel()
    {
        lock (_gate)
        {
            if (State != MigrationJobState.Running)
                return $"job {Id} already ended ({State.ToString().ToLowerInvariant()})";
            if (Phase >= MigrationPhase.Finish)
                return $"too late to cancel job {Id}: the guest already switched to the target (phase {Phase})";
        }
        _cancel.Cancel();
        return null;
    }

    internal void EnterPhase(MigrationPhase phase)
    {
        lock (_gate)
        {
            if (phase < Phase)
                throw new InvalidOperationException($"job {Id}: phase cannot go back from {Phase} to {phase}");
            Phase = phase;
        }
        Raise("Phase");
    }

    /// <summary>Progress follows remaining down and up again: a pass that finds more dirty RAM lowers it.</summary>
    internal void ReportProgress(MigrationProgress progress)
    {
        lock (_gate)
        {
            LastProgress = progress;
            Progress = progress.Total <= 0 ? 0 : Math.Clamp(100.0 * (progress.Total - progress.Remaining) / progress.Total, 0, 100);
        }
        Raise(ProgressProperties);
    }

    internal void SetSourceSettings(MigrationSideSettings settings)
    {
        lock (_gate)
            SourceSettings = settings;
        Raise("SourceCapabilities", "SourceParameters");
    }

    internal void SetTargetSettings(MigrationSideSettings settings)
    {
        lock (_gate)
            TargetSettings = settings;
        Raise("TargetCapabilities", "TargetParameters");
    }

    /// <summary>
    /// Remote migrations: what makes the destination resume the guest once postcopy started (its target waits paused,
    /// -S, until Commit). Set by the runner; the Perform loop calls it right after migrate-start-postcopy succeeded.
    /// </summary>
    internal Func<Task>? PostcopyHandOver { get; set; }

    /// <summary>
    /// Storage copy: what runs while the source holds the stopped guest at pre-switchover (the disks switch), before
    /// migrate-continue. Set by the runner; null: the migration never stops there.
    /// </summary>
    internal Func<Task>? BeforeSwitchover { get; set; }

    /// <summary>Disk bytes copied (storage copy), counted into the progress beside the RAM.</summary>
    internal long StorageTotal { get; set; }

    internal long StorageRemaining { get; set; }

    /// <summary>Why the switch at pre-switchover failed (the migration was cancelled for it); null otherwise.</summary>
    internal string? SwitchError { get; set; }

    /// <summary>migrate-start-postcopy succeeded: the guest runs on the target from here, and the source must never resume it.</summary>
    public bool PostcopyStarted { get; private set; }

    /// <summary>Set before migrate-start-postcopy is sent (a lost reply may hide a switch that happened); cleared if QEMU refused it.</summary>
    internal void MarkPostcopyStarted(bool started)
    {
        lock (_gate)
            PostcopyStarted = started;
    }

    /// <summary>The guest was stopped before the copy began (a non-live transfer): its downtime is the whole transfer.</summary>
    public bool GuestPausedForTransfer { get; private set; }

    internal void MarkGuestPausedForTransfer()
    {
        lock (_gate)
            GuestPausedForTransfer = true;
        Raise("Transfer");
    }

    internal void SetConvergeAction(string action)
    {
        lock (_gate)
            ConvergeAction = action;
        Raise("ConvergeAction");
    }

    /// <summary>Asks the Perform loop to switch to postcopy (D-Bus StartPostcopy).</summary>
    /// <returns>null when the request was passed on; otherwise why not.</returns>
    public string? RequestPostcopy()
    {
        lock (_gate)
        {
            if (State != MigrationJobState.Running)
                return $"job {Id} already ended ({State.ToString().ToLowerInvariant()})";
            if (Options.Postcopy != true)
                return $"job {Id} was started without the postcopy option: both QEMUs need postcopy-ram before the migration starts";
            if (Phase != MigrationPhase.Perform)
                return $"job {Id} is in phase {Phase}; postcopy can only start while RAM is copied (phase Perform)";
        }
        _postcopyRequested.TrySetResult();
        return null;
    }

    /// <summary>Completes when <see cref="RequestPostcopy"/> was accepted.</summary>
    internal Task PostcopyRequested => _postcopyRequested.Task;

    internal void SetStats(MigrationStats stats)
    {
        lock (_gate)
            Stats = stats;
        Raise("DowntimeMs", "TotalMs");
    }

    /// <summary>
    /// The job that retries this domain's move on another host, started because this one failed before the switch (an
    /// evacuation tries the next destination); null when none. Set before <see cref="State"/> shows the failure, so a
    /// client that sees this job fail knows at once whether to follow another.
    /// </summary>
    public string? RetriedBy { get; private set; }

    private Func<MigrationJob, MigrationJob?>? _retry;

    /// <summary>Asked once, when the job fails with the guest still on the source, for a job that retries it elsewhere.</summary>
    internal void RetryWith(Func<MigrationJob, MigrationJob?> retry) => _retry = retry;

    /// <summary>Ends the job once; a later call changes nothing (the first outcome is the true one).</summary>
    internal void End(MigrationJobState state, string? error)
    {
        lock (_gate)
        {
            if (State != MigrationJobState.Running || _done.Task.IsCompleted)
                return;
        }
        // Before Finish nothing switched (the runner resumed the source before ending the job), unless postcopy started.
        var successor = state == MigrationJobState.Failed && Phase < MigrationPhase.Finish && !PostcopyStarted
            && Interlocked.Exchange(ref _retry, null) is { } retry ? retry(this) : null;
        lock (_gate)
        {
            if (State != MigrationJobState.Running || _done.Task.IsCompleted)
                return;
            State = state;
            Error = error;
            RetriedBy = successor?.Id;
            FinishedAt = DateTimeOffset.UtcNow;
            if (state == MigrationJobState.Completed)
            {
                Progress = 100;
                LastProgress = LastProgress with { Remaining = 0 };
            }
        }
        Raise("State", "Error", "Progress", "DataRemaining", "RetriedBy");
        _done.TrySetResult(this);
    }

    private void Raise(params string[] properties)
    {
        try
        {
            Changed?.Invoke(this, properties);
        }
        catch (Exception)
        {
            // A listener (the D-Bus object, a progress printer) must never break a migration.
        }
    }
}
