using System.Collections.Concurrent;
using LocalMigrate.Interop.Posix;
using LocalMigrate.Interop.Qmp;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Upgrade;

/// <summary>
/// Target QEMUs started before the migration that needs them (<c>localmigrate upgrade --prepare</c>): starting QEMU
/// is most of a shared-RAM local migration (tens of ms of its ~80), so an upgrade whose targets already wait costs
/// little more than the switch itself. The one owner of these instances: a local job's Prepare takes a matching one
/// (<see cref="TakeAsync"/>); anything else ends it: its source changing or stopping, its own QEMU exiting, its binary
/// being replaced, <see cref="Lifetime"/> passing unused, the daemon stopping. A standby holds no guest state (QEMU
/// waits in <c>inmigrate</c>), so ending it is always safe, and a daemon restart's recovery kills a leftover one.
/// </summary>
public sealed partial class StandbyTargets : IAsyncDisposable
{
    /// <summary>How long an unused standby waits before it is ended (it holds a QEMU process and its memory).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly DomainRegistry _registry;
    private readonly InstanceLauncher _launcher;
    private readonly MigrationSrc _src;
    private readonly StaleDetector _stale;
    private readonly TimeProvider _time;
    private readonly ILogger<StandbyTargets> _logger;
    private readonly ConcurrentDictionary<string, StandbyEntry> _standbys = new(StringComparer.Ordinal);

    public StandbyTargets(DomainRegistry registry, InstanceLauncher launcher, MigrationSrc src, StaleDetector stale, TimeProvider time,
        ILogger<StandbyTargets> logger)
    {
        _registry = registry;
        _launcher = launcher;
        _src = src;
        _stale = stale;
        _time = time;
        _logger = logger;
        registry.Changed += OnDomainChanged;
    }

    public IReadOnlyList<StandbyTarget> List() => _standbys.Values.Select(e => e.Standby).ToList();

    /// <summary>
    /// Starts a standby target for each domain named (none named: every running one; <paramref name="staleOnly"/>: only
    /// those whose QEMU lags behind what is installed), one after the other. A domain that cannot have one is reported,
    /// never an error of the whole call.
    /// </summary>
    /// <exception cref="DomainNotFoundException">A name is not a defined domain (nothing was started).</exception>
    public async Task<StandbyReport> PrepareAsync(IReadOnlyList<string> names, bool staleOnly, MigrationOptions options,
        CancellationToken cancellationToken)
    {
        var domains = names.Count > 0
            ? names.Distinct(StringComparer.Ordinal).Select(_registry.Get).ToList()
            : _registry.List().Where(d => d.Active is not null).ToList();
        if (staleOnly)
            domains = domains.Where(d => _stale.Check(d).IsStale).ToList();
        var ready = new List<string>();
        var problems = new List<string>();
        foreach (var domain in domains)
        {
            if (await PrepareOneAsync(domain, options, cancellationToken).ConfigureAwait(false) is { } problem)
                problems.Add($"{domain.Name}: {problem}");
            else
                ready.Add(domain.Name);
        }
        return new StandbyReport(ready, problems);
    }

    /// <returns>null when a standby waits for the domain, else why none does.</returns>
    private async Task<string?> PrepareOneAsync(Domain domain, MigrationOptions options, CancellationToken cancellationToken)
    {
        // The domain's lock, as a job takes it: no migration may start (and need the shadow registry's one place) meanwhile.
        if (!await domain.Lock.WaitAsync(TimeSpan.Zero, cancellationToken).ConfigureAwait(false))
            return $"busy ({domain.Job?.Kind.ToString().ToLowerInvariant() ?? domain.Operation ?? "another request"} in progress)";
        try
        {
            if (domain.Active is not { } source)
                return $"not running (state {domain.State.ToString().ToLowerInvariant()})";
            // A target's tap NIC is the running QEMU's own tap queue, opened beside it for the moment of the switch only.
            var tap = source.Definition.Nics.ToList().FindIndex(n => n.UsesTap);
            if (tap >= 0)
                return $"nics[{tap}] is a {source.Definition.Nics[tap].Type} NIC: its target shares the running QEMU's tap queue, " +
                       "so it starts with the migration itself";
            BeginResult begin;
            try
            {
                begin = await _src.BeginAsync(domain, options with { TargetBinary = options.TargetBinary ?? _launcher.BinaryOf(source.Definition) },
                    remote: false, cancellationToken).ConfigureAwait(false);
            }
            catch (MigrationException e)
            {
                return e.Message;
            }
            if (_standbys.TryGetValue(domain.Name, out var existing))
            {
                if (Mismatch(existing.Standby, begin.Source.InstanceId, begin.Source.Definition, begin.TargetBinary, begin.IgnoreShared) is null)
                    return null;
                await DiscardAsync(existing, "replaced by a new one").ConfigureAwait(false);
            }
            _registry.SetOperation(domain, "starting a standby target");
            try
            {
                return await StartAsync(domain, begin, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _registry.SetOperation(domain, null);
            }
        }
        finally
        {
            domain.Lock.Release();
        }
    }

    private async Task<string?> StartAsync(Domain domain, BeginResult begin, CancellationToken cancellationToken)
    {
        DomainInstance target;
        try
        {
            target = await _launcher.LaunchAsync(begin.Source.Definition, begin.TargetBinary, InstanceRole.Incoming, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (InstanceStartException e)
        {
            return e.Message;
        }
        try
        {
            _registry.Shadow.Register(target);
        }
        catch (InvalidOperationException e)
        {
            // Unregister there removes only this very instance, so the other one in the shadow registry stays.
            await _registry.Shadow.DiscardAsync(target).ConfigureAwait(false);
            return e.Message;
        }
        AppliedTuning? targetTuned = null, sourceTuned = null;
        if (begin.Tuning is { } tuning)
        {
            // The settings of a job without options, applied now: that job then sends its first QMP command with migrate.
            try
            {
                targetTuned = new AppliedTuning(tuning.Target, await MigrationAny.ApplyTuningAsync(target.Monitor, tuning.Target,
                    MigrationPhase.Prepare, "target", cancellationToken).ConfigureAwait(false));
                sourceTuned = new AppliedTuning(tuning.Source, await MigrationAny.ApplyTuningAsync(begin.Source.Monitor, tuning.Source,
                    MigrationPhase.Perform, "source", cancellationToken).ConfigureAwait(false));
            }
            catch (Exception e) when (e is MigrationException or QmpExecuteException or QmpDisconnectedException or QmpTimeoutException or IOException)
            {
                await _registry.Shadow.DiscardAsync(target).ConfigureAwait(false);
                return e.Message;
            }
        }
        var standby = new StandbyTarget(target, begin.Source.InstanceId, begin.Source.Definition, begin.TargetBinary, begin.IgnoreShared,
            _time.GetUtcNow()) { TargetTuned = targetTuned, SourceTuned = sourceTuned };
        var entry = new StandbyEntry(standby);
        _standbys[domain.Name] = entry;
        entry.Expiry = _time.CreateTimer(_ => _ = DiscardAsync(entry, $"unused for {Lifetime.TotalMinutes:0} min"), null, Lifetime, Timeout.InfiniteTimeSpan);
        if (target.Exit is { } exit)
            _ = exit.Exited.ContinueWith(_ => DiscardAsync(entry, "its QEMU exited: " + QemuLog.Tail(target.Paths.QemuLog)), TaskScheduler.Default);
        // The source may have ended while the target started; from here on OnDomainChanged watches it.
        if (domain.Active?.InstanceId != begin.Source.InstanceId)
        {
            await DiscardAsync(entry, "its source ended while it started").ConfigureAwait(false);
            return "its QEMU ended while the standby target started";
        }
        LogReady(domain.Name, target.InstanceId, target.Pid, target.QemuVersion, begin.Source.InstanceId);
        return null;
    }

    /// <summary>
    /// A local job's Prepare: the standby of the domain when it was built for exactly this source, definition, binary and
    /// x-ignore-shared choice and still answers; it leaves this owner (and stays in the shadow registry, as a target
    /// does). A standby that does not match is ended here, so the job can start its own target in its place.
    /// </summary>
    public async Task<StandbyTarget?> TakeAsync(string domainName, string sourceInstanceId, DomainDefinition definition, string binary,
        bool ignoreShared)
    {
        if (!_standbys.TryGetValue(domainName, out var entry) || !_standbys.TryRemove(new(domainName, entry)))
            return null;
        entry.Expiry?.Dispose();
        var standby = entry.Standby;
        var mismatch = Mismatch(standby, sourceInstanceId, definition, binary, ignoreShared)
                       ?? (standby.Target.HasExited ? "its QEMU exited" : null)
                       ?? ReplacedSinceStart(standby);
        if (mismatch is not null)
        {
            LogDiscarded(domainName, standby.Target.Pid, mismatch);
            await _registry.Shadow.DiscardAsync(standby.Target).ConfigureAwait(false);
            return null;
        }
        LogTaken(domainName, standby.Target.InstanceId, standby.Target.Pid, (_time.GetUtcNow() - standby.ReadyAt).TotalSeconds);
        return standby;
    }

    /// <summary>Ends every standby (the daemon stops: none is left for the next one to find and kill).</summary>
    public async Task DiscardAllAsync()
    {
        foreach (var entry in _standbys.Values.ToList())
            await DiscardAsync(entry, "the daemon stops").ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _registry.Changed -= OnDomainChanged;
        await DiscardAllAsync().ConfigureAwait(false);
    }

    private static string? Mismatch(StandbyTarget standby, string sourceInstanceId, DomainDefinition definition, string binary, bool ignoreShared) =>
        standby.SourceInstanceId != sourceInstanceId ? $"built for instance {standby.SourceInstanceId}, the domain runs {sourceInstanceId}"
        : !ReferenceEquals(standby.Definition, definition) ? "built for another definition"
        : standby.Binary != binary ? $"built for {standby.Binary}, the migration asks for {binary}"
        : standby.IgnoreShared != ignoreShared ? $"built with x-ignore-shared {(standby.IgnoreShared ? "on" : "off")}, the migration asks for the other"
        : null;

    /// <summary>
    /// The binary the standby runs is no longer the one installed at its path (a package upgrade since it started): the
    /// migration would land on the old QEMU. Two stats, so the take stays cheap.
    /// </summary>
    private static string? ReplacedSinceStart(StandbyTarget standby)
    {
        var running = FileIdentity.TryReadOfProcessExecutable(standby.Target.Pid);
        var installed = FileIdentity.TryRead(standby.Binary);
        return running is not null && installed is not null && running != installed
            ? $"{standby.Binary} was replaced since it started (inode {running.Inode} running, {installed.Inode} installed)"
            : null;
    }

    /// <summary>
    /// A standby whose source is no longer the domain's instance (stopped, crashed, migrated, undefined) is of no use. Nor
    /// is one whose source a remote job is about to tune for another host: the settings applied with the standby no
    /// longer hold, whatever that job's outcome.
    /// </summary>
    private void OnDomainChanged(Domain domain)
    {
        if (!_standbys.TryGetValue(domain.Name, out var entry))
            return;
        if (domain.Active?.InstanceId != entry.Standby.SourceInstanceId || _registry.Find(domain.Name) != domain)
            _ = DiscardAsync(entry, "its source instance is no longer the domain's");
        else if (domain.Job is { Destination: not null } remote)
            _ = DiscardAsync(entry, $"job {remote.Id} moves the domain to {remote.Destination.Text}");
    }

    /// <summary>Ends <paramref name="entry"/> if it is still this owner's (a job may have taken it in the meantime).</summary>
    private async Task DiscardAsync(StandbyEntry entry, string reason)
    {
        var name = entry.Standby.Definition.Name;
        if (!_standbys.TryRemove(new(name, entry)))
            return;
        entry.Expiry?.Dispose();
        LogDiscarded(name, entry.Standby.Target.Pid, reason);
        try
        {
            await _registry.Shadow.DiscardAsync(entry.Standby.Target).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogDiscardFailed(name, entry.Standby.Target.Pid, e.Message);
        }
    }

    /// <summary>A standby and its expiry timer (set right after the entry is listed).</summary>
    private sealed class StandbyEntry(StandbyTarget standby)
    {
        public StandbyTarget Standby { get; } = standby;
        public ITimer? Expiry { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Standby target for {DomainName} ready: instance {InstanceId} pid {Pid} QEMU {QemuVersion}, for source instance {SourceInstanceId}")]
    private partial void LogReady(string domainName, string instanceId, int pid, string qemuVersion, string sourceInstanceId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Standby target of {DomainName} (instance {InstanceId}, pid {Pid}) taken by a migration after {WaitedSeconds:0.0} s")]
    private partial void LogTaken(string domainName, string instanceId, int pid, double waitedSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Standby target of {DomainName} (pid {Pid}) ended: {Reason}")]
    private partial void LogDiscarded(string domainName, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Standby target of {DomainName} (pid {Pid}) could not be ended cleanly: {Error}")]
    private partial void LogDiscardFailed(string domainName, int pid, string error);
}
