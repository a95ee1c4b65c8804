using LocalMigrate.Contract;
using LocalMigrate.Interop.Systemd;

namespace LocalMigrate.Cli;

/// <summary>
/// Follows jobs to their end through PropertiesChanged (subscribed before the job is started, so no change is
/// missed), re-reading all properties on each change; a slow re-read once a second covers a lost signal.
/// </summary>
internal sealed class JobWatcher : IAsyncDisposable
{
    private readonly DaemonClient _client;
    private readonly SemaphoreSlim _changed = new(0);
    private IAsyncDisposable? _match;

    private JobWatcher(DaemonClient client) => _client = client;

    /// <summary>Subscribe first, then start the job: the end of a fast job cannot slip by.</summary>
    public static async Task<JobWatcher> SubscribeAsync(DaemonClient client)
    {
        var watcher = new JobWatcher(client);
        watcher._match = await client.Bus.AddMatchAsync(
            $"type='signal',sender='{BusContract.ServiceName}',interface='{BusContract.PropertiesInterface}',member='PropertiesChanged',path_namespace='/org/localmigrate1/job'",
            _ => watcher._changed.Release()).ConfigureAwait(false);
        return watcher;
    }

    /// <param name="onProgress">Called with every state seen, finished jobs included.</param>
    public async Task<IReadOnlyList<JobInfo>> WaitAsync(IReadOnlyList<string> paths, Action<IReadOnlyList<JobInfo>> onProgress, CancellationToken cancellationToken)
    {
        while (true)
        {
            var jobs = new List<JobInfo>();
            foreach (var path in paths)
                jobs.Add(await _client.JobAsync(path).ConfigureAwait(false));
            onProgress(jobs);
            if (jobs.All(j => !j.IsRunning))
                return jobs;
            await _changed.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            while (_changed.CurrentCount > 0)
                await _changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_match is not null)
            await _match.DisposeAsync().ConfigureAwait(false);
    }
}
