using LocalMigrate.Contract;

namespace LocalMigrate.Cli;

/// <summary>
/// Follows jobs to their end through PropertiesChanged (subscribed before the job is started, so no change is
/// missed), re-reading the properties of the jobs that changed; a slow re-read of all once a second covers a lost
/// signal. Only changed jobs are read, and those at once: during a batch upgrade of many VMs every job reports
/// progress, and re-reading all of them one by one on every signal would keep the daemon's bus thread and the
/// CPUs the migrations need busy.
/// </summary>
internal sealed class JobWatcher : IAsyncDisposable
{
    private readonly DaemonClient _client;
    private readonly SemaphoreSlim _changed = new(0);
    private readonly HashSet<string> _changedPaths = new(StringComparer.Ordinal);
    private IDisposable? _match;

    /// <summary>
    /// Set when nobody shows progress: only a job's end (State) is worth a re-read then. Every other change (phase, bytes
    /// sent) would cost a GetAll round trip through the bus and the daemon, at the switch-over of the very guest it
    /// watches, on the same CPUs.
    /// </summary>
    public bool OnlyStateChanges { get; set; }

    private JobWatcher(DaemonClient client) => _client = client;

    /// <summary>Subscribe first, then start the job: the end of a fast job cannot slip by.</summary>
    public static async Task<JobWatcher> SubscribeAsync(DaemonClient client)
    {
        var watcher = new JobWatcher(client);
        watcher._match = await client.Run(c => c.WatchPropertiesChangedAsync(BusContract.JobPathPrefix.TrimEnd('/'), watcher.OnChanged))
            .ConfigureAwait(false);
        return watcher;
    }

    /// <param name="onProgress">Called with every state seen, finished jobs included.</param>
    public async Task<IReadOnlyList<JobInfo>> WaitAsync(IReadOnlyList<string> paths, Action<IReadOnlyList<JobInfo>> onProgress, CancellationToken cancellationToken)
    {
        var followed = paths.ToArray();
        paths = followed;
        var jobs = await Task.WhenAll(paths.Select(_client.JobAsync)).ConfigureAwait(false);
        while (true)
        {
            // A job that failed and names a retry (evacuate tried the next host): follow the retry in its place.
            for (var i = 0; i < jobs.Length; i++)
            {
                while (!jobs[i].IsRunning && jobs[i].RetriedBy.Length > 0)
                {
                    followed[i] = BusContract.JobPath(jobs[i].RetriedBy);
                    jobs[i] = await _client.JobAsync(followed[i]).ConfigureAwait(false) with { EarlierAttempts = [.. jobs[i].EarlierAttempts, jobs[i]] };
                }
            }
            onProgress(jobs);
            if (jobs.All(j => !j.IsRunning))
                return jobs;
            var signalled = await _changed.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            while (_changed.CurrentCount > 0)
                await _changed.WaitAsync(cancellationToken).ConfigureAwait(false);
            HashSet<string> changed;
            lock (_changedPaths)
            {
                changed = signalled ? new HashSet<string>(_changedPaths, StringComparer.Ordinal) : new HashSet<string>(paths, StringComparer.Ordinal);
                _changedPaths.Clear();
            }
            jobs = await Task.WhenAll(jobs.Select(async (job, i) => changed.Contains(paths[i])
                    ? await _client.JobAsync(paths[i]).ConfigureAwait(false) with { EarlierAttempts = job.EarlierAttempts }
                    : job))
                .ConfigureAwait(false);
        }
    }

    private void OnChanged(string path, IReadOnlyCollection<string> properties)
    {
        if (OnlyStateChanges && !properties.Contains(JobContract.State.Name) && !properties.Contains(JobContract.RetriedBy.Name))
            return;
        lock (_changedPaths)
            _changedPaths.Add(path);
        _changed.Release();
    }

    public ValueTask DisposeAsync()
    {
        _match?.Dispose();
        return ValueTask.CompletedTask;
    }
}
