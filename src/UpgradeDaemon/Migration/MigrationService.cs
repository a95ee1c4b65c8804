using System.Collections.Concurrent;
using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>Starts migration jobs (one per domain at a time), lists them, cancels them.</summary>
public sealed class MigrationService(DomainRegistry registry, MigrationRunner runner, MigrationJournal journal)
{
    private const int RecentJobsKept = 100;
    private readonly ConcurrentDictionary<string, MigrationJob> _jobs = new();

    /// <summary>
    /// Raised when a job enters the list, before it begins (on the caller's thread), so the API can publish it and a
    /// client that subscribed first sees every change from Begin on.
    /// </summary>
    public event Action<MigrationJob>? JobAdded;

    /// <summary>Starts a job and returns at once; <see cref="MigrationJob.Completion"/> tells the outcome.</summary>
    /// <exception cref="DomainNotFoundException"/>
    /// <exception cref="MigrationBusyException">Not running, or another job holds the domain.</exception>
    /// <param name="throttle">When given, the job holds the domain at once but waits for a place before Begin (batch upgrades).</param>
    /// <param name="destination">The peer of a remote migration (kind <see cref="MigrationKind.Remote"/>); null for a local one.</param>
    /// <param name="nextDestination">Remote jobs: asked when the job fails before the switch (the guest still runs here) for
    /// another destination to retry on (evacuate); null, or a null answer, for none. The retry is a new job, named by
    /// <see cref="MigrationJob.RetriedBy"/>.</param>
    public MigrationJob Start(string domainName, MigrationKind kind, MigrationOptions options, SemaphoreSlim? throttle = null,
        Remote.PeerUri? destination = null, Func<MigrationJob, Remote.PeerUri?>? nextDestination = null)
    {
        var domain = registry.Get(domainName);
        if (!domain.Lock.Wait(TimeSpan.Zero))
            throw new MigrationBusyException(domain.Job is { } running
                ? $"domain {domainName} is busy: job {running.Id} is in phase {running.Phase}"
                : $"domain {domainName} is busy with {domain.Operation ?? "another request"}");
        MigrationJob job;
        try
        {
            if (options.IsOffline && destination is null)
                throw new ArgumentException("option offline: only a migration to another host (--to) can be offline");
            if (options.IsOffline && domain.Active is not null)
                throw new MigrationBusyException($"domain {domainName} is {domain.State.ToString().ToLowerInvariant()}: an offline migration moves a shut-off domain");
            if (domain.Active is null && !options.IsOffline)
                throw new MigrationBusyException($"domain {domainName} is not running (state {domain.State.ToString().ToLowerInvariant()})");
            job = new MigrationJob(domainName, domain.Definition.Uuid, kind, options, destination);
            OfferRetry(domain, job, throttle, nextDestination);
            _jobs[job.Id] = job;
            Trim();
            JobAdded?.Invoke(job);
            registry.SetJob(domain, job);
        }
        catch
        {
            domain.Lock.Release();
            throw;
        }
        _ = Task.Run(() => RunHeldAsync(domain, job, throttle));
        return job;
    }

    /// <summary>Runs a job that holds the domain's lock, and releases it.</summary>
    private async Task RunHeldAsync(Domain domain, MigrationJob job, SemaphoreSlim? throttle)
    {
        try
        {
            if (throttle is not null)
                await throttle.WaitAsync(job.CancellationToken).ConfigureAwait(false);
            try
            {
                await runner.RunAsync(domain, job).ConfigureAwait(false);
            }
            finally
            {
                throttle?.Release();
            }
        }
        catch (OperationCanceledException)
        {
            job.End(MigrationJobState.Cancelled, "cancelled while waiting for its turn");
        }
        catch (Exception e)
        {
            // The runner ends every job itself; this is the last guard that a job never stays running forever.
            job.End(MigrationJobState.Failed, $"{job.Phase}: internal error: {e.Message}");
        }
        finally
        {
            TryPrune();
            registry.SetJob(domain, null);
            domain.Lock.Release();
            if (!_jobs.Values.Any(j => j.State == MigrationJobState.Running))
                Hosting.ManagedHeap.ReleaseUnused();
        }
    }

    private void OfferRetry(Domain domain, MigrationJob job, SemaphoreSlim? throttle, Func<MigrationJob, Remote.PeerUri?>? nextDestination)
    {
        if (nextDestination is not null && job.Destination is not null)
            job.RetryWith(failed => nextDestination(failed) is { } next ? StartRetry(domain, failed, next, throttle, nextDestination) : null);
    }

    /// <summary>
    /// Called from <paramref name="failed"/>'s end, which still holds the domain: the retry is listed (and published) at
    /// once, then waits for the lock the failed job's runner is about to release.
    /// </summary>
    private MigrationJob StartRetry(Domain domain, MigrationJob failed, Remote.PeerUri destination, SemaphoreSlim? throttle,
        Func<MigrationJob, Remote.PeerUri?> nextDestination)
    {
        var job = new MigrationJob(failed.DomainName, failed.DomainUuid, failed.Kind, failed.Options, destination);
        OfferRetry(domain, job, throttle, nextDestination);
        _jobs[job.Id] = job;
        Trim();
        JobAdded?.Invoke(job);
        _ = Task.Run(async () =>
        {
            try
            {
                await failed.Completion.ConfigureAwait(false);
                if (!await domain.Lock.WaitAsync(TimeSpan.FromMinutes(2), job.CancellationToken).ConfigureAwait(false))
                {
                    job.End(MigrationJobState.Failed, $"domain {job.DomainName} stayed busy after job {failed.Id} failed; not retried on {destination.Text}");
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                job.End(MigrationJobState.Cancelled, "cancelled while waiting for its turn");
                return;
            }
            if (domain.Active is null)
            {
                domain.Lock.Release();
                job.End(MigrationJobState.Failed, $"domain {job.DomainName} is not running any more (state {domain.State.ToString().ToLowerInvariant()})");
                return;
            }
            registry.SetJob(domain, job);
            await RunHeldAsync(domain, job, throttle).ConfigureAwait(false);
        });
        return job;
    }

    /// <summary>A job that could not start (busy, not running): listed as failed with the reason, for batch summaries.</summary>
    public MigrationJob Refused(Domain domain, MigrationKind kind, MigrationOptions options, string reason)
    {
        var job = new MigrationJob(domain.Name, domain.Definition.Uuid, kind, options);
        job.End(MigrationJobState.Failed, reason);
        _jobs[job.Id] = job;
        JobAdded?.Invoke(job);
        return job;
    }

    /// <summary>Lists a job that ended in recovery after a restart, so callers can see its outcome.</summary>
    internal void AddRecovered(MigrationJob job)
    {
        _jobs[job.Id] = job;
        JobAdded?.Invoke(job);
    }

    public IReadOnlyList<MigrationJob> Jobs() => _jobs.Values.OrderBy(j => j.StartedAt).ToList();

    public MigrationJob? FindJob(string id) => _jobs.GetValueOrDefault(id);

    /// <returns>The job the cancel went to.</returns>
    /// <exception cref="MigrationBusyException">No job runs on the domain, or it is past the point of no return.</exception>
    public MigrationJob Cancel(string domainName)
    {
        var domain = registry.Get(domainName);
        var job = domain.Job ?? throw new MigrationBusyException($"domain {domainName} has no migration in progress");
        var refusal = job.RequestCancel();
        if (refusal is not null)
            throw new MigrationBusyException(refusal);
        return job;
    }

    private void TryPrune()
    {
        try
        {
            journal.Prune(RecentJobsKept);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Housekeeping only; the next job tries again.
        }
    }

    private void Trim()
    {
        foreach (var old in _jobs.Values.Where(j => j.State != MigrationJobState.Running)
                     .OrderByDescending(j => j.StartedAt).Skip(RecentJobsKept))
            _jobs.TryRemove(old.Id, out _);
    }
}
