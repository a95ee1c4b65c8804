using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Hosting;

/// <summary>
/// Start: load definitions, re-attach every QEMU that outlived the previous daemon, resolve interrupted jobs.
/// Stop: let go of every QEMU (close QMP) without touching it: stopping or upgrading the daemon never stops a VM
/// (standby targets, which hold no guest, are ended).
/// </summary>
public sealed partial class EngineHostedService(DomainService domains, DomainRegistry registry, InstanceAdopter adopter,
    MigrationRecovery recovery, Remote.RemoteMigrationDst incoming, InstanceMonitor monitor, MigrationService migrations, Upgrade.StandbyTargets standbys,
    ISystemdNotifier notifier, ILogger<EngineHostedService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _ = monitor; // created with the engine so it watches every instance registered from here on
        domains.LoadDefinitions();
        var adopted = await adopter.ScanAsync(cancellationToken).ConfigureAwait(false);
        var recovered = await recovery.RecoverAsync(adopted, cancellationToken).ConfigureAwait(false);
        await incoming.RecoverAsync(adopted.RemoteIncoming).ConfigureAwait(false);
        incoming.StartLeases();
        LogStarted(registry.List().Count, recovered.Kept, recovered.Killed, adopted.Orphaned.Count, adopted.RemovedStaleDirectories.Count,
            recovered.CrashedDomains.Count, recovered.RecoveredJobs.Count);
    }

    /// <summary>How long a stop waits for migrations in flight: each is seconds long; recovery covers a longer one.</summary>
    public static readonly TimeSpan JobDrainTimeout = TimeSpan.FromSeconds(20);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Let migrations in flight finish rather than leave QEMU migrating with nobody watching. One that does not
        // finish in time is resolved from its journal by the next daemon, as after a crash.
        var running = migrations.Jobs().Where(j => j.State == MigrationJobState.Running).ToList();
        if (running.Count > 0)
        {
            if (notifier.IsEnabled)
                notifier.Notify(SystemdNotifications.ExtendTimeout(JobDrainTimeout + TimeSpan.FromSeconds(10)));
            LogDraining(running.Count);
            await Task.WhenAll(running.Select(j => j.Completion)).WaitAsync(JobDrainTimeout, CancellationToken.None)
                .ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
        // Standby targets hold no guest: ended, not left for the next daemon to find.
        await standbys.DiscardAllAsync().ConfigureAwait(false);
        foreach (var instance in registry.ActiveInstances().Concat(registry.Shadow.List()))
            await instance.DetachAsync().ConfigureAwait(false);
        LogDetached(registry.ActiveInstances().Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Engine ready: {Domains} domains, adopted {Active} running instances ({Killed} leftovers killed, {Orphaned} orphaned), removed {Stale} stale runtime dirs, {Crashed} crashed while away, {Recovered} interrupted jobs resolved")]
    private partial void LogStarted(int domains, int active, int killed, int orphaned, int stale, int crashed, int recovered);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: waiting for {Count} migrations in flight")]
    private partial void LogDraining(int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Detached from {Count} running VMs; they keep running")]
    private partial void LogDetached(int count);
}
