using System.Diagnostics;
using System.Security.Cryptography;

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

    public MigrationJob(string domainName, Guid domainUuid, MigrationKind kind, MigrationOptions options, Remote.PeerUri? destination = null)
        : this(Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant(), domainName, domainUuid, kind, options,
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

    public long DataTotal { get; private set; }
    public long DataRemaining { get; private set; }
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

    internal void ReportProgress(long total, long remaining)
    {
        lock (_gate)
        {
            DataTotal = total;
            DataRemaining = remaining;
            Progress = total <= 0 ? 0 : Math.Clamp(100.0 * (total - remaining) / total, 0, 100);
        }
        Raise("Progress", "DataTotal", "DataRemaining");
    }

    internal void SetStats(MigrationStats stats)
    {
        lock (_gate)
            Stats = stats;
        Raise("DowntimeMs", "TotalMs");
    }

    /// <summary>Ends the job once; a later call changes nothing (the first outcome is the true one).</summary>
    internal void End(MigrationJobState state, string? error)
    {
        lock (_gate)
        {
            if (State != MigrationJobState.Running || _done.Task.IsCompleted)
                return;
            State = state;
            Error = error;
            FinishedAt = DateTimeOffset.UtcNow;
            if (state == MigrationJobState.Completed)
            {
                Progress = 100;
                DataRemaining = 0;
            }
        }
        Raise("State", "Error", "Progress", "DataRemaining");
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
