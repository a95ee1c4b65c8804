using LocalMigrate.UpgradeDaemon.Api;
using Microsoft.Extensions.DependencyInjection;

namespace LocalMigrate.UpgradeDaemon.Hosting;

/// <summary>The services around the engine: the D-Bus API, then systemd readiness (registered last, so READY=1 follows the bus name).</summary>
internal static class DaemonServices
{
    public static void Add(IServiceCollection services)
    {
        services.AddHostedService<ApiServer>();
        services.AddHostedService<SystemdNotifyService>();
    }
}
