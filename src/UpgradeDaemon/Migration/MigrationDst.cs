using System.Collections.Concurrent;
using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Domains;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>The destination side in this daemon: Prepare, Finish, Commit (Confirm's destination half), Abort.</summary>
public sealed partial class MigrationDst(DomainRegistry registry, InstanceLauncher launcher, Upgrade.StandbyTargets standbys,
    ILogger<MigrationDst> logger)
    : IMigrationDestination
{
    private static readonly TimeSpan FinishTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan VerifyTimeout = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<string, IncomingMigration> _incoming = new();

    public async Task<PrepareResult> PrepareAsync(PrepareRequest request, CancellationToken cancellationToken)
    {
        // A standby already waits in the shadow registry; a new target enters it here.
        var taken = request.SourceInstanceId is { } sourceInstanceId && request.ListenAddress is null && !request.StartPaused
            ? await standbys.TakeAsync(request.Definition.Name, sourceInstanceId, request.Definition, request.Binary, request.IgnoreShared)
                .ConfigureAwait(false)
            : null;
        var standby = taken is not null;
        var target = taken?.Target ?? await launcher.LaunchAsync(request.Definition, request.Binary, InstanceRole.Incoming, cancellationToken,
            startPaused: request.StartPaused).ConfigureAwait(false);
        QmpEventListener? events = null;
        try
        {
            if (!standby)
                registry.Shadow.Register(target);
            events = target.Monitor.Listen(QemuEvents.Migration);
            _incoming[request.JobId] = new IncomingMigration(target, events);
            // Credentials first, so the read-back below shows them too.
            if (request.ConfigureTarget is { } configure)
                await configure(target, cancellationToken).ConfigureAwait(false);
            var settings = await MigrationAny.ApplyTuningUnlessHeldAsync(target.Monitor, request.TargetTuning ?? MigrationTuning.MinimalTarget(request.IgnoreShared),
                taken?.TargetTuned, MigrationPhase.Prepare, "target", cancellationToken).ConfigureAwait(false);
            var uri = request.ListenAddress is { } address ? $"tcp:{address}:0" : "unix:" + target.Paths.MigrationSocket;
            await target.Monitor.MigrateIncomingAsync(uri, cancellationToken: cancellationToken).ConfigureAwait(false);
            var port = request.ListenAddress is null ? 0 : await ListeningPortAsync(target, cancellationToken).ConfigureAwait(false);
            LogPrepared(request.JobId, request.Definition.Name, standby ? "standby" : "new", target.InstanceId, target.Pid, target.QemuVersion);
            return new PrepareResult(target.InstanceId, target.Pid, uri, target.QemuVersion, port) { TargetSettings = settings, SourceTuned = taken?.SourceTuned };
        }
        catch
        {
            if (_incoming.ContainsKey(request.JobId))
            {
                await AbortAsync(request.JobId).ConfigureAwait(false);
            }
            else
            {
                events?.Dispose();
                await DiscardAsync(target).ConfigureAwait(false);
            }
            throw;
        }
    }

    /// <summary>Port 0 lets QEMU pick a free port; query-migrate on the destination says which.</summary>
    private static async Task<int> ListeningPortAsync(DomainInstance target, CancellationToken cancellationToken)
    {
        var info = await target.Monitor.QueryMigrateAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var port = info.SocketAddress?.Select(a => int.TryParse(a.Port, out var p) ? p : 0).FirstOrDefault(p => p > 0) ?? 0;
        return port > 0
            ? port
            : throw new MigrationException(MigrationPhase.Prepare, $"target QEMU (pid {target.Pid}) listens, but query-migrate names no port");
    }

    /// <summary>The target of a job, while it is incoming (between Prepare and Commit or Abort).</summary>
    public DomainInstance? TargetOf(string jobId) => _incoming.TryGetValue(jobId, out var incoming) ? incoming.Target : null;

    public Task WhenTargetExits(string jobId) =>
        Find(jobId).Target.Exit?.Exited ?? Task.Delay(Timeout.Infinite, CancellationToken.None);

    public async Task<FinishResult> FinishAsync(string jobId, bool resume, CancellationToken cancellationToken)
    {
        var incoming = Find(jobId);
        var target = incoming.Target;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(FinishTimeout);
        var arrived = incoming.MigrationEvents.WaitForAsync(e => QemuEvents.MigrationStatusOf(e).IsTerminal(), timeout.Token);
        var exited = target.Exit?.Exited ?? Task.Delay(Timeout.Infinite, timeout.Token);
        if (await Task.WhenAny(arrived, exited).ConfigureAwait(false) != arrived)
            throw new MigrationException(MigrationPhase.Finish,
                $"target QEMU (pid {target.Pid}) exited while loading the guest: {QemuLog.Tail(target.Paths.QemuLog)}");
        QmpEvent arrival;
        try
        {
            arrival = await arrived.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or QmpDisconnectedException)
        {
            throw new MigrationException(MigrationPhase.Finish,
                $"target QEMU (pid {target.Pid}) did not report the incoming migration: {e.Message}; {QemuLog.Tail(target.Paths.QemuLog)}");
        }
        var status = QemuEvents.MigrationStatusOf(arrival);
        if (status != MigrationStatus.Completed)
            throw new MigrationException(MigrationPhase.Finish,
                $"target QEMU (pid {target.Pid}) reports incoming migration {status.ToString().ToLowerInvariant()}: {QemuLog.Tail(target.Paths.QemuLog)}");
        if (resume)
            await target.Monitor.ContAsync(cancellationToken: timeout.Token).ConfigureAwait(false);
        var runState = await target.Monitor.QueryStatusAsync(cancellationToken: timeout.Token).ConfigureAwait(false);
        return new FinishResult(target.Pid, target.QemuVersion, runState);
    }

    public async Task<string?> VerifyTargetAsync(string jobId, bool guestRan, CancellationToken cancellationToken)
    {
        var target = Find(jobId).Target;
        if (target.HasExited)
            return $"target QEMU (pid {target.Pid}) has exited: {QemuLog.Tail(target.Paths.QemuLog)}";
        RunState state;
        try
        {
            state = await target.Monitor.QueryStatusAsync(VerifyTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is QmpDisconnectedException or QmpExecuteException or QmpTimeoutException or IOException
                                      || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return target.HasExited
                ? $"target QEMU (pid {target.Pid}) has exited: {QemuLog.Tail(target.Paths.QemuLog)}"
                : $"target QEMU (pid {target.Pid}) does not answer query-status: {e.Message}";
        }
        return state == RunState.Running || (!guestRan && state == RunState.Paused)
            ? null
            : $"target QEMU (pid {target.Pid}) is in state {state.ToQapiString()}, not running the guest";
    }

    public Task CommitAsync(string jobId)
    {
        var incoming = Find(jobId);
        Promote(incoming.Target);
        _incoming.TryRemove(jobId, out _);
        incoming.MigrationEvents.Dispose();
        return Task.CompletedTask;
    }

    public async Task AbortAsync(string jobId)
    {
        if (!_incoming.TryRemove(jobId, out var incoming))
            return;
        incoming.MigrationEvents.Dispose();
        await DiscardAsync(incoming.Target).ConfigureAwait(false);
        LogAborted(jobId, incoming.Target.Definition.Name, incoming.Target.Pid);
    }

    /// <summary>The commit point: the incoming instance becomes the domain's one visible instance, on disk too.</summary>
    public void Promote(DomainInstance target)
    {
        registry.Promote(registry.Get(target.Definition.Name), target);
        target.SaveRecord(target.Record with { Role = InstanceRole.Active });
    }

    /// <summary>Rollback of a target: killed, out of the shadow registry, runtime dir gone.</summary>
    public Task DiscardAsync(DomainInstance target) => registry.Shadow.DiscardAsync(target);

    private IncomingMigration Find(string jobId) =>
        _incoming.TryGetValue(jobId, out var incoming)
            ? incoming
            : throw new InvalidOperationException($"no incoming migration for job {jobId}");

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: target for {DomainName} ready ({Started}), instance {InstanceId} pid {Pid} QEMU {QemuVersion}")]
    private partial void LogPrepared(string jobId, string domainName, string started, string instanceId, int pid, string qemuVersion);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: target of {DomainName} (pid {Pid}) killed and removed")]
    private partial void LogAborted(string jobId, string domainName, int pid);
}
