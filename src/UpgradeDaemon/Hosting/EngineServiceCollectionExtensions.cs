using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Hosting;

/// <summary>The engine's object graph, one place for the daemon host and the tests alike.</summary>
public static class EngineServiceCollectionExtensions
{
    public static IServiceCollection AddLocalMigrateEngine(this IServiceCollection services, DaemonOptions options)
    {
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        // Registered by AddSystemd only when systemd is the parent; the engine notifies in any case (a no-op
        // without NOTIFY_SOCKET), so it needs one everywhere.
        services.TryAddSingleton<ISystemdNotifier, SystemdNotifier>();
        services.AddSingleton<DomainRegistry>();
        services.AddSingleton(_ => new DefinitionStore(options.StateDirectory));
        services.AddSingleton(sp => new QemuBinaryProbe(options.RuntimeDirectory, sp.GetRequiredService<ILogger<QemuBinaryProbe>>()));
        services.AddSingleton<InstanceScopes>();
        services.AddSingleton<InstanceLauncher>();
        services.AddSingleton<InstanceMonitor>();
        services.AddSingleton<DomainService>();
        services.AddSingleton(_ => new MigrationJournal(options.StateDirectory));
        services.AddSingleton<MigrationSrc>();
        services.AddSingleton<MigrationDst>();
        services.AddSingleton<IMigrationDestination>(sp => sp.GetRequiredService<MigrationDst>());
        services.AddSingleton(_ => EnvironmentPhaseGate.FromEnvironment());
        services.AddSingleton<MigrationRunner>();
        services.AddSingleton<MigrationService>();
        services.AddSingleton<InstanceAdopter>();
        services.AddSingleton<Upgrade.StaleDetector>();
        services.AddSingleton<Upgrade.UpgradePlanner>();
        services.AddSingleton<Upgrade.StandbyTargets>();
        services.AddSingleton<MigrationRecovery>();
        services.AddSingleton<Snapshots.SnapshotService>();
        services.AddSingleton(_ => new Remote.IncomingJournal(options.StateDirectory));
        services.AddSingleton<Remote.RemoteMigrationDst>();
        services.AddSingleton<Remote.PeerSessionFactory>();
        services.AddSingleton<Evacuation.HostMaintenance>();
        services.AddSingleton<Evacuation.EvacuationService>();
        return services;
    }
}
