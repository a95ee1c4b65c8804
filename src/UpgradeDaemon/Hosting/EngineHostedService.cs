using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Hosting;

/// <summary>
/// Start: load definitions, re-attach every QEMU that outlived the previous daemon, resolve interrupted jobs.
/// Stop: let go of every QEMU (close QMP) without touching it: stopping or upgrading the daemon never stops a VM.
/// </summary>
public sealed partial class EngineHostedService(DomainService domains, DomainRegistry registry, InstanceAdopter adopter,
    MigrationRecovery recovery, InstanceMonitor monitor, ILogger<EngineHostedService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _ = monitor; // created with the engine so it watches every instance registered from here on
        domains.LoadDefinitions();
        var adopted = await adopter.ScanAsync(cancellationToken).ConfigureAwait(false);
        var recovered = await recovery.RecoverAsync(cancellationToken).ConfigureAwait(false);
        LogStarted(registry.List().Count, adopted.Active.Count, adopted.Incoming.Count, adopted.RemovedStaleDirectories.Count,
            adopted.CrashedDomains.Count, recovered.Count);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var instance in registry.ActiveInstances().Concat(registry.Shadow.List()))
            await instance.DetachAsync().ConfigureAwait(false);
        LogDetached(registry.ActiveInstances().Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Engine ready: {Domains} domains, adopted {Active} running and {Incoming} incoming instances, removed {Stale} stale runtime dirs, {Crashed} crashed while away, {Recovered} interrupted jobs resolved")]
    private partial void LogStarted(int domains, int active, int incoming, int stale, int crashed, int recovered);

    [LoggerMessage(Level = LogLevel.Information, Message = "Detached from {Count} running VMs; they keep running")]
    private partial void LogDetached(int count);
}
