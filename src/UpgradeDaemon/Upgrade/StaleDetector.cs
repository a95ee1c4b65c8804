using System.Collections.Concurrent;
using LocalMigrate.Interop.Posix;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Hosting;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Upgrade;

/// <summary>
/// Tells whether a running QEMU runs the binary and libraries that are installed now:
/// - its executable was replaced or deleted (/proc/PID/exe " (deleted)", or the configured binary's
///   device/inode is not the one the process runs);
/// - a mapped shared library was replaced (" (deleted)" in /proc/PID/maps, the way needrestart checks);
/// - the installed binary reports another QEMU package version than the running one.
/// Guest RAM files (the shared-memory dir, memfd) are mapped on purpose and never count.
/// <para>
/// The result is cached per instance, so readers (<see cref="Current"/>, the D-Bus property getters) do no I/O.
/// It is recomputed off their path: when an instance becomes active (start, promotion), when a file it was started
/// from changes on disk (its binary or a mapped library; one stat per file every <see cref="DaemonOptions.StaleCheckInterval"/>),
/// and when a package database changes (inotify on e.g. /var/lib/dpkg/status, so an apt upgrade shows at once).
/// A recomputation probes a binary whose installed version is not known yet, so the version reason is current.
/// When an instance's report changes, <see cref="DomainRegistry.Changed"/> fires for its domain.
/// </para>
/// </summary>
public sealed partial class StaleDetector : IAsyncDisposable
{
    private readonly InstanceLauncher _launcher;
    private readonly QemuBinaryProbe _probe;
    private readonly DaemonOptions _options;
    private readonly DomainRegistry _registry;
    private readonly ILogger<StaleDetector> _logger;
    private readonly ConcurrentDictionary<DomainInstance, StaleSnapshot> _snapshots = new();
    private readonly Lock _requestGate = new();
    private readonly HashSet<DomainInstance> _requested = [];
    private bool _requestedAll;
    private readonly SemaphoreSlim _wake = new(0, 1);
    // One pass at a time: the background loop and RefreshAsync callers never interleave their stores.
    private readonly SemaphoreSlim _pass = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    // Read and written by the timer callback only (never two at once, see OnTick).
    private readonly Dictionary<string, FileStamp> _packageDatabases;
    private int _ticking;
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly ITimer _timer;
    private readonly Task _loop;

    public StaleDetector(InstanceLauncher launcher, QemuBinaryProbe probe, DaemonOptions options, DomainRegistry registry,
        ILogger<StaleDetector> logger, TimeProvider? timeProvider = null)
    {
        _launcher = launcher;
        _probe = probe;
        _options = options;
        _registry = registry;
        _logger = logger;
        _packageDatabases = options.PackageDatabases.ToDictionary(p => p, FileStamp.Read);
        foreach (var database in options.PackageDatabases)
            WatchPackageDatabase(database);
        registry.Changed += OnDomainChanged;
        _loop = Task.Run(RunAsync);
        RequestAll();
        _timer = (timeProvider ?? TimeProvider.System).CreateTimer(_ => OnTick(), null, options.StaleCheckInterval, options.StaleCheckInterval);
    }

    /// <summary>The last computed report of the domain's active instance; fresh when it runs none or was not checked yet. No I/O.</summary>
    public StaleReport Current(Domain domain) =>
        domain.Active is { } instance && _snapshots.TryGetValue(instance, out var snapshot) ? snapshot.Report : StaleReport.Fresh;

    /// <summary>Computes the report now (reads procfs) and caches it: for callers that act on it, such as <c>upgrade --stale</c>.</summary>
    public StaleReport Check(Domain domain)
    {
        var instance = domain.Active;
        if (instance is null)
            return StaleReport.Fresh;
        var snapshot = Snapshot(instance);
        Store(domain, instance, snapshot);
        return snapshot.Report;
    }

    /// <summary>Recomputes every active instance, probing binaries whose installed version is not known, and waits for it.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        await RunPassAsync(_registry.ActiveInstances(), linked.Token).ConfigureAwait(false);
    }

    /// <summary>The reasons for one instance, computed now.</summary>
    public StaleReport Check(DomainInstance instance)
    {
        var reasons = new List<string>();
        var exe = ProcFs.TryReadExecutable(instance.Pid);
        var configured = _launcher.BinaryOf(instance.Definition);
        if (exe is not null && exe.EndsWith(" (deleted)", StringComparison.Ordinal))
            reasons.Add($"binary replaced or deleted: {exe}");
        else if (exe is not null && exe != configured)
            reasons.Add($"runs {exe}, configured binary is {configured}");
        else if (FileIdentity.TryRead(configured) is { } installed && FileIdentity.TryReadOfProcessExecutable(instance.Pid) is { } running && installed != running)
            reasons.Add($"{configured} was replaced (inode {running.Inode} running, {installed.Inode} installed)");

        foreach (var file in ProcFs.DeletedMappedFiles(instance.Pid))
        {
            if (IsGuestMemory(file) || file == exe?.Replace(" (deleted)", "", StringComparison.Ordinal))
                continue;
            if (file.Contains(".so", StringComparison.Ordinal))
                reasons.Add($"library replaced: {file}");
        }

        if (_probe.TryGetCached(configured) is { } info && instance.Record.QemuPackage is { } runningPackage
            && info.Package.Length > 0 && info.Package != runningPackage)
            reasons.Add($"QEMU {runningPackage} running, {info.Package} installed");
        return reasons.Count == 0 ? StaleReport.Fresh : new StaleReport(reasons);
    }

    public async ValueTask DisposeAsync()
    {
        _registry.Changed -= OnDomainChanged;
        await _timer.DisposeAsync().ConfigureAwait(false);
        foreach (var watcher in _watchers)
            watcher.Dispose();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }

    private bool IsGuestMemory(string file) =>
        file.StartsWith(_options.SharedMemoryDirectory, StringComparison.Ordinal) || file.StartsWith("/memfd:", StringComparison.Ordinal)
        || file.StartsWith("/dev/", StringComparison.Ordinal);

    private StaleSnapshot Snapshot(DomainInstance instance)
    {
        var report = Check(instance);
        // The files whose replacement would change the report: the configured binary and what the process maps now.
        var files = new Dictionary<string, FileStamp>(StringComparer.Ordinal);
        var binary = _launcher.BinaryOf(instance.Definition);
        files[binary] = FileStamp.Read(binary);
        foreach (var file in ProcFs.MappedFiles(instance.Pid))
        {
            if (!file.EndsWith(" (deleted)", StringComparison.Ordinal) && !IsGuestMemory(file))
                files[file] = FileStamp.Read(file);
        }
        return new StaleSnapshot(report, files);
    }

    private void Store(Domain domain, DomainInstance instance, StaleSnapshot snapshot)
    {
        var before = _snapshots.TryGetValue(instance, out var old) ? old.Report : StaleReport.Fresh;
        _snapshots[instance] = snapshot;
        if (domain.Active != instance)
        {
            _snapshots.TryRemove(instance, out _);
            return;
        }
        if (!before.Reasons.SequenceEqual(snapshot.Report.Reasons))
        {
            LogStaleChanged(domain.Name, instance.Pid, snapshot.Report.IsStale, string.Join("; ", snapshot.Report.Reasons));
            _registry.NotifyChanged(domain);
        }
    }

    private async Task RunPassAsync(IEnumerable<DomainInstance> instances, CancellationToken cancellationToken)
    {
        await _pass.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var instance in instances)
            {
                var domain = _registry.FindByUuid(instance.Definition.Uuid);
                if (domain is null || domain.Active != instance || instance.HasExited)
                {
                    _snapshots.TryRemove(instance, out _);
                    continue;
                }
                var binary = _launcher.BinaryOf(instance.Definition);
                if (_probe.TryGetCached(binary) is null && File.Exists(binary))
                {
                    try
                    {
                        await _probe.ProbeAsync(binary, cancellationToken).ConfigureAwait(false);
                    }
                    catch (QemuBinaryException e)
                    {
                        // The version reason waits for a binary that answers; the other reasons do not.
                        LogProbeFailed(binary, e.Message);
                    }
                }
                Store(domain, instance, Snapshot(instance));
            }
            // Instances no longer active (stopped, migrated away) leave the cache.
            foreach (var instance in _snapshots.Keys)
            {
                if (_registry.FindByUuid(instance.Definition.Uuid)?.Active != instance)
                    _snapshots.TryRemove(instance, out _);
            }
        }
        finally
        {
            _pass.Release();
        }
    }

    private async Task RunAsync()
    {
        while (true)
        {
            try
            {
                await _wake.WaitAsync(_stopping.Token).ConfigureAwait(false);
                List<DomainInstance> batch;
                lock (_requestGate)
                {
                    batch = _requestedAll ? [.. _registry.ActiveInstances()] : [.. _requested];
                    _requested.Clear();
                    _requestedAll = false;
                }
                await RunPassAsync(batch, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A check that fails (procfs race, a probe spawn error) must not end the loop: the next change retries.
                LogPassFailed(e);
            }
        }
    }

    private void OnDomainChanged(Domain domain)
    {
        // Our own NotifyChanged lands here too; an instance already checked needs nothing.
        if (domain.Active is { } instance && !_snapshots.ContainsKey(instance))
            Request(instance);
    }

    /// <summary>On the timer: one stat per watched file, and a recomputation only for what changed.</summary>
    private void OnTick()
    {
        // A slow tick (a loaded host, many files) is skipped over rather than run twice at once.
        if (Interlocked.Exchange(ref _ticking, 1) != 0)
            return;
        try
        {
            foreach (var (instance, snapshot) in _snapshots)
            {
                if (snapshot.Files.Any(f => FileStamp.Read(f.Key) != f.Value))
                    Request(instance);
            }
            foreach (var instance in _registry.ActiveInstances())
            {
                if (!_snapshots.ContainsKey(instance))
                    Request(instance);
            }
            // The fallback for a database whose directory could not be watched (or an event inotify dropped).
            foreach (var path in _packageDatabases.Keys.ToList())
            {
                var now = FileStamp.Read(path);
                if (now != _packageDatabases[path])
                {
                    _packageDatabases[path] = now;
                    RequestAll();
                }
            }
        }
        catch (Exception e)
        {
            LogPassFailed(e);
        }
        finally
        {
            Volatile.Write(ref _ticking, 0);
        }
    }

    private void WatchPackageDatabase(string path)
    {
        var directory = Path.GetDirectoryName(path);
        if (directory is null || !Directory.Exists(directory))
            return;
        try
        {
            var watcher = new FileSystemWatcher(directory, Path.GetFileName(path))
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
            };
            // dpkg writes status-new and renames it over status: Renamed (new name matches); an in-place write: Changed.
            watcher.Changed += (_, _) => RequestAll();
            watcher.Created += (_, _) => RequestAll();
            watcher.Renamed += (_, _) => RequestAll();
            watcher.EnableRaisingEvents = true;
            _watchers.Add(watcher);
        }
        catch (IOException e)
        {
            // Out of inotify instances or watches: the timer's stat of the file still notices, one interval later.
            LogWatchFailed(path, e.Message);
        }
    }

    private void Request(DomainInstance instance)
    {
        lock (_requestGate)
            _requested.Add(instance);
        Wake();
    }

    private void RequestAll()
    {
        lock (_requestGate)
            _requestedAll = true;
        Wake();
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: the pending pass picks this request up.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Domain {DomainName} (pid {Pid}): stale {Stale} {Reasons}")]
    private partial void LogStaleChanged(string domainName, int pid, bool stale, string reasons);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stale check: probing {Binary} failed: {Reason}")]
    private partial void LogProbeFailed(string binary, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stale check: cannot watch {Path}: {Reason}; checking it every interval instead")]
    private partial void LogWatchFailed(string path, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stale check failed")]
    private partial void LogPassFailed(Exception exception);
}
